"""threadstore: async persistence for AI-agent applications.

Threads, messages, feedback, human-approval states, LangGraph checkpoints and
shared context items behind one async :class:`BaseStore` interface, on SQLite,
PostgreSQL or RAM.
"""

from threadstore.__about__ import __version__
from threadstore.errors import (
    DuplicateRecordError,
    MigrationError,
    PermissionDeniedError,
    PersistenceConnectionError,
    PersistenceError,
    QueryError,
    RecordNotFoundError,
    SchemaOutOfDateError,
    ThreadNotFoundError,
    ValidationError,
    VersionConflictError,
)
from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    HealthRecord,
    LineageRecord,
    MessageRecord,
    NewMessage,
    StatsRecord,
    SuspendedStateRecord,
    ThreadRecord,
)
from threadstore.store import BaseStore, MemoryStore, SQLAlchemyStore, create_store

__all__ = [
    "BaseStore",
    "CheckpointRecord",
    "ContextItemRecord",
    "DuplicateRecordError",
    "FeedbackRecord",
    "HealthRecord",
    "LineageRecord",
    "MemoryStore",
    "MessageRecord",
    "MigrationError",
    "NewMessage",
    "PermissionDeniedError",
    "PersistenceConnectionError",
    "PersistenceError",
    "QueryError",
    "RecordNotFoundError",
    "SQLAlchemyStore",
    "SchemaOutOfDateError",
    "StatsRecord",
    "SuspendedStateRecord",
    "ThreadNotFoundError",
    "ThreadRecord",
    "ValidationError",
    "VersionConflictError",
    "__version__",
    "create_store",
]
