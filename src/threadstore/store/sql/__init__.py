"""The SQL backend: a unit of work over one connection, one repository module per entity."""

from threadstore.store.sql.store import SQLAlchemyStore

__all__ = ["SQLAlchemyStore"]
