"""threadstore: async persistence for AI-agent applications.

Threads, messages, feedback, human-approval states, LangGraph checkpoints and
shared context items behind one async :class:`BaseStore` interface, on SQLite,
PostgreSQL or RAM.
"""

from threadstore.__about__ import __version__
from threadstore.errors import (
    AuthenticationError,
    DatabaseFileError,
    DatabaseNotFoundError,
    DuplicateRecordError,
    MigrationError,
    PermissionDeniedError,
    PersistenceConnectionError,
    PersistenceError,
    PoolExhaustedError,
    QueryError,
    QueryTimeoutError,
    RecordNotFoundError,
    SchemaOutOfDateError,
    SchemaTooNewError,
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
    "AuthenticationError",
    "BaseStore",
    "CheckpointRecord",
    "ContextItemRecord",
    "DatabaseFileError",
    "DatabaseNotFoundError",
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
    "PoolExhaustedError",
    "QueryError",
    "QueryTimeoutError",
    "RecordNotFoundError",
    "SQLAlchemyStore",
    "SchemaOutOfDateError",
    "SchemaTooNewError",
    "StatsRecord",
    "SuspendedStateRecord",
    "ThreadNotFoundError",
    "ThreadRecord",
    "ValidationError",
    "VersionConflictError",
    "__version__",
    "create_store",
]
