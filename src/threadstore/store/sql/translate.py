"""The one place where driver exceptions become threadstore errors.

PostgreSQL errors are classified by SQLSTATE, SQLite errors by their extended
result-code name, never by matching message text. Messages carry the driver's
own sentence (never SQL parameters) and the redacted URL.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from threadstore.errors import (
    DuplicateRecordError,
    PersistenceConnectionError,
    PersistenceError,
    QueryError,
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

_PG_CONNECTION_CLASSES = ("08", "53", "57", "28")  # connection, resources, operator, auth


def translate_error(
    exc: BaseException,
    *,
    where: str,
    thread_id: str | None = None,
    duplicate: str | None = None,
) -> PersistenceError:
    """Return the threadstore error for a driver exception raised by a store call.

    Args:
        exc: The exception the driver or SQLAlchemy raised.
        where: A redacted description of the database, for the message.
        thread_id: The thread the call was about; a foreign-key violation then
            means that thread does not exist.
        duplicate: The record the call creates (e.g. ``thread 't1'``); a
            unique violation then names it instead of the constraint.
    """
    orig = getattr(exc, "orig", None) or exc
    detail = f"{type(orig).__name__}: {orig}".strip()
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    error = _classify(
        exc, str(sqlstate or ""), str(sqlite_name or ""), detail, where, thread_id, duplicate
    )
    logger.debug("translated %s into %s", type(orig).__name__, type(error).__name__)
    return error


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
        return PersistenceConnectionError(
            f"{where} stayed locked by another writer ({detail})",
            suggestion="Another process holds the SQLite write lock; retry, or use PostgreSQL "
            "for many concurrent writers.",
        )
    if (
        sqlstate.startswith(_PG_CONNECTION_CLASSES)
        or isinstance(exc, OSError | TimeoutError)
        or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)
        or isinstance(exc, sa_exc.InterfaceError | sa_exc.TimeoutError)
        or (isinstance(exc, sa_exc.OperationalError) and not sqlite_name and not sqlstate)
        or sqlite_name in {"SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB"}
    ):
        return PersistenceConnectionError(f"cannot use the database {where} ({detail})")
    return QueryError(f"the database rejected the statement ({detail})")
