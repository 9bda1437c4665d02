"""The memory backend: state in one dataclass, a lock, an undo journal, one module per entity."""

from threadstore.store.memory.store import MemoryStore

__all__ = ["MemoryStore"]
