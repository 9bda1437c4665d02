"""The one place where driver exceptions become threadstore errors.

PostgreSQL errors are classified by SQLSTATE, SQLite errors by their extended
result-code name, not by message text; the one exception is pysqlite3 (the
sqlite-vec extra's driver), which names only the primary code of a
constraint violation, so its kind is read from SQLite's fixed message prefix
(see :func:`_sqlite_name`). Messages carry the driver's own sentence (never
SQL parameters) and the redacted URL.

Timeouts and conflicts (statement_timeout, lock_timeout, SQLITE_BUSY,
serialization failures, deadlocks) leave the connection usable: they become
:class:`QueryError`/:class:`VersionConflictError` subclasses, never
:class:`PersistenceConnectionError`, so the store does not discard it.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import Pool

from threadstore import sqlite_files
from threadstore.errors import (
    AuthenticationError,
    DatabaseNotFoundError,
    DuplicateRecordError,
    PersistenceConnectionError,
    PersistenceError,
    PoolExhaustedError,
    QueryError,
    QueryTimeoutError,
    RecordNotFoundError,
    SchemaOutOfDateError,
    ThreadNotFoundError,
    ValidationError,
    VersionConflictError,
)

__all__ = ["DRIVER_ERRORS", "translate_error"]

logger = logging.getLogger("threadstore")

DRIVER_ERRORS: tuple[type[BaseException], ...] = (sa_exc.SQLAlchemyError, OSError, TimeoutError)
"""Exceptions a database call may raise that :func:`translate_error` understands."""

_PG_CONNECTION_CLASSES = ("08", "53", "57")  # connection, resources, operator intervention
_PG_AUTHENTICATION = ("28",)  # 28000 invalid authorization (unknown role, pg_hba), 28P01 password
_PG_TIMEOUTS = {"57014", "55P03"}  # query_canceled (statement_timeout), lock_not_available
_PG_NOT_ACCEPTING = "55000"  # on connect: the database has ALLOW_CONNECTIONS false


def translate_error(
    exc: BaseException,
    *,
    where: str,
    thread_id: str | None = None,
    duplicate: str | None = None,
    database: str | None = None,
    pool: Pool | None = None,
) -> PersistenceError:
    """Return the threadstore error for a driver exception raised by a store call.

    Args:
        exc: The exception the driver or SQLAlchemy raised.
        where: A redacted description of the database, for the message.
        thread_id: The thread the call was about; a foreign-key violation then
            means that thread does not exist.
        duplicate: The record the call creates (e.g. ``thread 't1'``); a
            unique violation then names it instead of the constraint.
        database: The database named in the store's URL, for the message of
            an unknown-database error.
        pool: The engine's connection pool, whose limits an exhausted-pool
            error names.
    """
    if isinstance(exc, sa_exc.TimeoutError):
        error: PersistenceError = _pool_exhausted(where, pool)
        logger.debug("translated %s into %s", type(exc).__name__, type(error).__name__)
        return error
    orig = getattr(exc, "orig", None) or exc
    detail = f"{type(orig).__name__}: {orig}".strip()
    sqlstate = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    sqlite_name = _sqlite_name(orig)
    error = _server_state(exc, sqlstate, detail, where, database) or _classify(
        exc, sqlstate, sqlite_name, detail, where, thread_id, duplicate
    )
    logger.debug("translated %s into %s", type(orig).__name__, type(error).__name__)
    return error


_CONSTRAINT_MESSAGES = (
    ("FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT_FOREIGNKEY"),
    ("UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE"),
)


def _sqlite_name(orig: BaseException) -> str:
    """SQLite's extended result code name of ``orig`` ("" if none).

    The stdlib sqlite3 names the extended code (``SQLITE_CONSTRAINT_UNIQUE``);
    pysqlite3 (the sqlite-vec extra's driver) only the primary one
    (``SQLITE_CONSTRAINT``), so a constraint's kind is read from SQLite's
    message, which both drivers carry unchanged.
    """
    name = str(getattr(orig, "sqlite_errorname", None) or "")
    if name == "SQLITE_CONSTRAINT":
        message = str(orig)
        for prefix, extended in _CONSTRAINT_MESSAGES:
            if message.startswith(prefix):
                return extended
    return name


def _pool_exhausted(where: str, pool: Pool | None) -> PoolExhaustedError:
    """The pool's ``TimeoutError``: every connection stayed checked out past pool_timeout."""
    limits = "pool_size/max_overflow"
    size = getattr(pool, "size", None)
    timeout = getattr(pool, "timeout", None)
    # QueuePool keeps max_overflow only privately (-1 means unlimited).
    max_overflow = getattr(pool, "_max_overflow", None)
    if callable(size) and callable(timeout) and isinstance(max_overflow, int):
        limits = f"pool_size={size()}, max_overflow={max_overflow}, pool_timeout={timeout()}s"
    return PoolExhaustedError(
        f"the connection pool of {where} is exhausted: every connection ({limits}) "
        "stayed checked out until pool_timeout"
    )


def _server_state(
    exc: BaseException, sqlstate: str, detail: str, where: str, database: str | None
) -> PersistenceError | None:
    """PostgreSQL refusing who we are, what we ask for, or how long we wait; else None."""
    if sqlstate.startswith(_PG_AUTHENTICATION):
        return AuthenticationError(f"the server of {where} refused the credentials ({detail})")
    if sqlstate == "3D000":
        named = repr(database) if database else "named in the URL"
        return DatabaseNotFoundError(
            f"database {named} does not exist on the server of {where} ({detail})",
            suggestion=f"Create the database first (e.g. `createdb {database or 'NAME'}`), "
            "or fix the database name in the URL.",
        )
    if sqlstate in _PG_TIMEOUTS:
        if sqlstate == "55P03":
            reason = "waited for a lock past lock_timeout"
        else:
            reason = "ran past statement_timeout or was canceled"
        return QueryTimeoutError(f"the statement {reason} on {where} ({detail})")
    if sqlstate == "57P03":  # cannot_connect_now: starting up, shutting down, a closed standby
        return PersistenceConnectionError(
            f"the server of {where} does not accept connections now ({detail})",
            suggestion="The server is starting up, shutting down or recovering; retry in a "
            "moment: the store reconnects by itself once the server accepts connections.",
        )
    # No statement means SQLAlchemy was opening the connection when it failed.
    connecting = isinstance(exc, sa_exc.DBAPIError) and exc.statement is None
    if sqlstate == _PG_NOT_ACCEPTING and connecting:
        return PersistenceConnectionError(
            f"database {database or where!r} is not accepting connections ({detail})",
            suggestion="The database refuses new connections (ALLOW_CONNECTIONS is false, "
            "e.g. during maintenance); wait for its administrator, or run "
            f"`ALTER DATABASE {database or 'NAME'} ALLOW_CONNECTIONS true`.",
        )
    return None


def _classify(
    exc: BaseException,
    sqlstate: str,
    sqlite_name: str,
    detail: str,
    where: str,
    thread_id: str | None,
    duplicate: str | None,
) -> PersistenceError:
    if sqlstate == "23503" or sqlite_name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        if thread_id is not None:
            return ThreadNotFoundError(thread_id)
        return RecordNotFoundError(f"a referenced record does not exist ({detail})")
    if sqlstate == "23505" or sqlite_name in {
        "SQLITE_CONSTRAINT_PRIMARYKEY",
        "SQLITE_CONSTRAINT_UNIQUE",
    }:
        if duplicate is not None:
            return DuplicateRecordError(f"{duplicate} already exists")
        return DuplicateRecordError(f"a record with this id already exists ({detail})")
    if sqlstate.startswith(("22", "23")) or sqlite_name.startswith("SQLITE_CONSTRAINT"):
        return ValidationError(f"the database rejected a value ({detail})")
    if sqlstate in {"40001", "40P01"}:
        return VersionConflictError(f"a concurrent transaction conflicted ({detail})")
    if sqlstate in {"42P01", "42703", "3F000"} or (
        sqlite_name == "SQLITE_ERROR" and "no such" in detail
    ):
        return SchemaOutOfDateError(f"the threadstore schema is missing or outdated in {where}")
    if sqlite_name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return QueryTimeoutError(
            f"{where} stayed locked by another writer past the busy timeout ({detail})",
            suggestion="Another connection or process held the SQLite file's write lock; "
            "retry the call, keep write transactions short, or use PostgreSQL for many "
            "concurrent writers.",
        )
    if sqlite_name.startswith(sqlite_files.FILE_ERROR_NAMES):
        return sqlite_files.diagnose(sqlite_files.database_path(where), sqlite_name, detail)
    if (
        sqlstate.startswith(_PG_CONNECTION_CLASSES)
        or isinstance(exc, OSError | TimeoutError)
        or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)
        or isinstance(exc, sa_exc.InterfaceError | sa_exc.TimeoutError)
        or (isinstance(exc, sa_exc.OperationalError) and not sqlite_name and not sqlstate)
    ):
        return PersistenceConnectionError(f"cannot use the database {where} ({detail})")
    if sqlite_name or where.startswith("sqlite"):
        return QueryError(
            f"SQLite rejected the statement on {where} ({detail})",
            suggestion="If it persists, report it with the message above.",
        )
    return QueryError(f"the database rejected the statement ({detail})")
