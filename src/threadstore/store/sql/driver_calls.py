"""Compiled statements run on the driver itself: asyncpg's ``fetch``, one cursor on SQLite's worker.

:mod:`~threadstore.store.sql.direct` keeps SQLAlchemy's compilation of each
statement; these functions run it on a pooled connection's driver connection.
Driver errors are wrapped into SQLAlchemy's ``DBAPIError`` exactly as its own
execution would wrap them, so one translator
(:func:`~threadstore.store.sql.translate.translate_error`) serves both paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect

from threadstore.sqlite_buffered import BufferedConnection
from threadstore.store.sql.connections import Conn
from threadstore.store.sql.direct import Compiled
from threadstore.store.sql.threaded import ThreadedConnection

__all__ = [
    "direct_ready",
    "driver_error",
    "run_direct",
    "run_direct_raw",
    "run_direct_write",
    "sqlite_rows",
]


def direct_ready(conn: Conn) -> bool:
    """Whether ``conn`` can run a statement on its driver: threaded SQLite or asyncpg, usable.

    Not while anyone watches statements (``echo``, a ``before_cursor_execute``
    or similar listener, e.g. tracing instrumentation): they then take
    SQLAlchemy's path, so every statement is seen.
    """
    if isinstance(conn, ThreadedConnection):
        if conn.closed or conn.invalidated:
            return False
        engine = conn.engine.sync_engine
    else:
        sync = conn.sync_connection
        if sync is None or sync.closed or sync.invalidated or conn.dialect.driver != "asyncpg":
            return False
        engine = sync.engine
    dispatch = engine.dispatch
    return not (
        engine.echo
        or dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
    )


async def run_direct(
    conn: Conn, compiled: Compiled, params: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Run ``compiled`` on ``conn``'s driver connection (see :func:`direct_ready`).

    Raises:
        DBAPIError: what SQLAlchemy's own execution would have raised.
    """
    return compiled.rows(await run_direct_raw(conn, compiled, params))


async def run_direct_raw(
    conn: Conn, compiled: Compiled, params: Mapping[str, Any] | None
) -> Sequence[Sequence[Any]]:
    """:func:`run_direct`'s driver rows, unprocessed (see :meth:`Compiled.records`)."""
    rows: Sequence[Sequence[Any]] = await _on_driver(conn, compiled, params, rows=True)
    return rows


async def run_direct_write(conn: Conn, compiled: Compiled, params: Mapping[str, Any]) -> None:
    """Run the write ``compiled`` on ``conn``'s driver, in one trip.

    In autocommit: on SQLite the worker's driver cursor runs it with the
    store's write lock held; on asyncpg the connection runs it with no
    transaction open. Either commits the statement by itself, as SQLAlchemy's
    execution of it would. On SQLite it may also join the transaction open on
    ``conn``: the held-back ``BEGIN``/``SAVEPOINT`` run first, in the same trip.

    Raises:
        DBAPIError: what SQLAlchemy's own execution would have raised.
    """
    await _on_driver(conn, compiled, params, rows=False)


async def _on_driver(
    conn: Conn, compiled: Compiled, params: Mapping[str, Any] | None, *, rows: bool
) -> Any:
    """``compiled`` on the SQLite worker's cursor or asyncpg (its rows, with ``rows``)."""
    args = compiled.arguments(params)
    if isinstance(conn, ThreadedConnection):
        dbapi_connection: Any = conn.sync_connection.connection.dbapi_connection
        run = sqlite_rows if rows else _sqlite_write
        short = not rows and conn.on_loop and _small(args)
        call = conn.run_driver(run, dbapi_connection, compiled.sql, args, short=short)
    else:
        fairy: Any = conn.sync_connection.connection  # type: ignore[union-attr]
        dbapi_connection = fairy.dbapi_connection
        driver = fairy.driver_connection
        call = (driver.fetch if rows else driver.execute)(compiled.sql, *args)
    try:
        return await call
    except Exception as exc:
        raise driver_error(exc, compiled.sql, args, conn.dialect, dbapi_connection) from exc


SHORT_WRITE_CHARS = 64 * 1024
"""Text and bytes a write may bind and still run on the event loop (see ``run_driver``)."""


def _small(args: Sequence[Any]) -> bool:
    size = 0
    for value in args:
        if isinstance(value, str | bytes):
            size += len(value)
    return size <= SHORT_WRITE_CHARS


def _sqlite_write(dbapi_connection: Any, sql: str, args: list[Any]) -> None:
    if type(dbapi_connection) is BufferedConnection:
        dbapi_connection.write(sql, args)
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, args)
    finally:
        cursor.close()


def sqlite_rows(dbapi_connection: Any, sql: str, args: list[Any]) -> list[Any]:
    """Run one statement on a SQLite connection (on its worker thread); all its rows."""
    if type(dbapi_connection) is BufferedConnection:  # the driver's own cursor, in C
        return dbapi_connection.rows(sql, args)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def driver_error(
    exc: Exception, sql: str, args: Sequence[Any], dialect: Dialect, dbapi_connection: Any
) -> sa_exc.DBAPIError | sa_exc.StatementError:
    """``exc`` wrapped as SQLAlchemy's execution would have wrapped it.

    asyncpg's exceptions are first adapted to the DBAPI ones by SQLAlchemy's
    asyncpg adapter, so SQLSTATEs and disconnect detection match exactly.
    """
    orig: Exception = exc
    adapt = getattr(dbapi_connection, "_handle_exception", None)
    if adapt is not None:
        try:
            adapt(exc)
        except Exception as adapted:  # it always raises
            orig = adapted
    dbapi = dialect.loaded_dbapi
    invalidated = isinstance(orig, dbapi.Error) and dialect.is_disconnect(
        orig, dbapi_connection, None
    )
    return sa_exc.DBAPIError.instance(
        sql,
        list(args),
        orig,
        dbapi.Error,
        dialect=dialect,
        connection_invalidated=invalidated,
    )
