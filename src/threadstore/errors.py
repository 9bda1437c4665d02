"""The errors threadstore raises: one hierarchy rooted at :class:`PersistenceError`.

Every error carries a ``suggestion`` the caller can act on. Driver exceptions
are translated into these classes at one place per backend and are chained as
``__cause__``; they never reach the caller raw.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "AuthenticationError",
    "DatabaseFileError",
    "DatabaseNotFoundError",
    "DuplicateRecordError",
    "MigrationError",
    "PermissionDeniedError",
    "PersistenceConnectionError",
    "PersistenceError",
    "PoolExhaustedError",
    "QueryError",
    "QueryTimeoutError",
    "RecordNotFoundError",
    "SchemaOutOfDateError",
    "SchemaTooNewError",
    "SyncStoreError",
    "ThreadNotFoundError",
    "TransactionAbortedError",
    "TransactionClosedError",
    "TransactionError",
    "ValidationError",
    "VersionConflictError",
]


class PersistenceError(Exception):
    """Base class of every error raised by threadstore.

    Attributes:
        message: What went wrong.
        suggestion: What the caller can do about it.
        retryable: Whether calling again, unchanged, may succeed (a lost
            connection, a timeout, a conflict with a concurrent writer).
    """

    default_suggestion = "See the threadstore documentation for this error."
    retryable: bool = False

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        self.message = message
        self.suggestion = suggestion or self.default_suggestion
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} (suggestion: {self.suggestion})"


class PersistenceConnectionError(PersistenceError):
    """The database cannot be reached, or the connection was lost."""

    default_suggestion = (
        "Check that the database server is running and that the URL is right; "
        "the store reconnects by itself once the database is back."
    )
    retryable = True


class AuthenticationError(PersistenceConnectionError):
    """The server refused the credentials (wrong password, unknown role, no access)."""

    default_suggestion = (
        "Check the user name and password in the URL (and the server's pg_hba.conf); "
        "waiting or retrying will not help."
    )
    retryable = False


class DatabaseNotFoundError(PersistenceConnectionError):
    """The server is up but the database named in the URL does not exist."""

    default_suggestion = (
        "Create the database first (e.g. `createdb NAME`), or fix the database name in the URL."
    )
    retryable = False


class DatabaseFileError(PersistenceConnectionError):
    """A SQLite database file cannot be used: permissions, a missing folder, not a database."""

    default_suggestion = "Check the path in the URL and the file's and folder's permissions."
    retryable = False


class PoolExhaustedError(PersistenceConnectionError):
    """Every pooled connection was busy for longer than ``pool_timeout``."""

    default_suggestion = (
        "Retry later, or raise pool_size/max_overflow (engine options of create_store) "
        "or pool_timeout; check for calls that hold connections for long."
    )
    retryable = True


class MigrationError(PersistenceError):
    """Running or checking the schema migrations failed."""

    default_suggestion = "Run `threadstore db current` to see the database's schema revision."


class SchemaOutOfDateError(MigrationError):
    """The database schema is missing or not at the revision this version needs."""

    default_suggestion = (
        "Run `alembic upgrade head` from the repository root or `threadstore db upgrade "
        "--url URL` from an installed package, or pass auto_migrate=True."
    )


class SchemaTooNewError(SchemaOutOfDateError):
    """The database was migrated by a newer threadstore: this code is older than the schema."""

    default_suggestion = (
        "Upgrade threadstore to the release that migrated this database (or newer); "
        "never run an older release against it."
    )


class RecordNotFoundError(PersistenceError):
    """A record the operation needs does not exist."""

    default_suggestion = "Check the id, or create the record first."


class ThreadNotFoundError(RecordNotFoundError):
    """The thread named by the call does not exist."""

    def __init__(self, thread_id: str, *, suggestion: str | None = None) -> None:
        self.thread_id = thread_id
        super().__init__(
            f"thread {thread_id!r} does not exist",
            suggestion=suggestion or "Create it first with create_thread(), or check the id.",
        )


class DuplicateRecordError(PersistenceError):
    """A record with the same id already exists."""

    default_suggestion = "Use another id, or read the existing record instead of creating it."


class QueryError(PersistenceError):
    """The database rejected a statement for a reason not covered by another error."""

    default_suggestion = "Check the server log; if it persists, report it with the message above."


class QueryTimeoutError(QueryError):
    """A statement ran past ``statement_timeout`` or waited past ``lock_timeout``."""

    default_suggestion = (
        "Retry the call; if it keeps timing out, look for long transactions holding locks "
        "or raise statement_timeout/lock_timeout."
    )
    retryable = True


class VersionConflictError(PersistenceError):
    """A concurrent writer changed the record first (serialization failure or deadlock)."""

    default_suggestion = "Read the record again and retry the operation."
    retryable = True


class ValidationError(PersistenceError, ValueError):
    """The input was rejected before anything was written."""

    default_suggestion = "Fix the argument named in the message and call again."


class PermissionDeniedError(PersistenceError):
    """The caller is not allowed to perform the operation."""

    default_suggestion = "Grant the permission first, or post as an agent that has it."


class TransactionError(PersistenceError):
    """A unit of work (``store.transaction()``) was used in a way it cannot serve."""

    default_suggestion = "Run every call of the block through its transaction object, inside it."


class TransactionClosedError(TransactionError):
    """A transaction object was used after its ``async with`` block ended."""

    default_suggestion = (
        "Use the object only inside its `async with store.transaction() as tx:` block; "
        "open a new block for further calls."
    )


class TransactionAbortedError(TransactionError):
    """An earlier call of the block failed, so the block can only roll back."""

    default_suggestion = (
        "Let the error end the block (everything rolls back), or run the call that may "
        "fail in a nested `async with tx.transaction() as inner:` and catch it outside."
    )


class SyncStoreError(PersistenceError, asyncio.InvalidStateError):
    """A synchronous call was made where it cannot wait for its result.

    Raised by :class:`~threadstore.SyncStore` and by the sync API of the
    LangGraph saver and long-term store (on a thread whose event loop runs,
    or when closed). It is an ``asyncio.InvalidStateError`` too: LangGraph's
    own savers and stores raise that there.
    """

    default_suggestion = (
        "Make synchronous calls from plain threads; from async code, await the async "
        "methods (or wrap the call in asyncio.to_thread)."
    )
