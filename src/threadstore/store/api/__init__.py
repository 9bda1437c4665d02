"""BaseStore's public methods, grouped by entity; each is written once for every backend."""
