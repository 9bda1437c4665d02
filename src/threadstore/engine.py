"""Engine construction with per-dialect defaults.

SQLite: foreign keys on, WAL, a busy timeout, and transactions begun by
threadstore itself so write transactions can take the lock up front
(``BEGIN IMMEDIATE``). PostgreSQL: a pooled connection the server has closed
(restart, ``pg_terminate_backend``, idle timeout) is replaced at checkout
without a round trip, by asking asyncpg whether it saw the socket close; pass
``pool_pre_ping=True`` to also ping (one round trip per call) when network
paths can drop silently.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from threadstore import json_text
from threadstore.engine_options import POOL_OPTIONS, check_engine_options
from threadstore.errors import ValidationError

logger = logging.getLogger("threadstore")

__all__ = [
    "SQLITE_BEGIN_OPTION",
    "TRANSACTION_OPEN",
    "configure_sqlite",
    "configure_sqlite_engine",
    "create_engine",
    "pool_options_refused",
    "with_json_decoder",
]

SQLITE_BEGIN_OPTION = "threadstore_sqlite_begin"
"""Execution option naming how a SQLite transaction begins: DEFERRED, IMMEDIATE or NONE."""

_SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(url: URL, **options: Any) -> AsyncEngine:
    """Create an :class:`AsyncEngine` for ``url`` with threadstore's defaults.

    Raises:
        ValidationError: the driver for the URL is not installed, or an option is
            unknown, badly typed or does not apply to this database.
    """
    check_engine_options(options)
    try:
        engine = create_async_engine(url, **with_json_decoder(options))
    except ModuleNotFoundError as exc:
        extra = "postgres" if url.get_backend_name() == "postgresql" else "sqlite"
        raise ValidationError(
            f"the driver for {url.drivername} is not installed ({exc.name})",
            suggestion=f"pip install 'threadstore[{extra}]'",
        ) from exc
    except TypeError as exc:  # options valid in general, not for this pool
        raise pool_options_refused(url, options) from exc
    if url.get_backend_name() == "sqlite":
        configure_sqlite(engine)
    elif url.get_backend_name() == "postgresql":
        event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def with_json_decoder(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with :func:`threadstore.json_text.loads` as JSON decoder unless one is given."""
    return {"json_deserializer": json_text.loads, **options}


def pool_options_refused(url: URL, options: dict[str, Any]) -> ValidationError:
    """The error for options that are valid in general but not for the URL's pool."""
    given = sorted(POOL_OPTIONS.intersection(options)) or sorted(options)
    return ValidationError(
        f"engine option(s) {', '.join(given)} do not apply to {url.drivername} "
        "with this connection pool",
        suggestion="Drop them: an in-memory SQLite database shares one connection "
        "(StaticPool), and a poolclass such as NullPool has no pool size.",
    )


def _replace_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Make the pool discard a connection asyncpg already knows is closed."""
    driver_connection = getattr(dbapi_connection, "driver_connection", None)
    if driver_connection is not None and driver_connection.is_closed():
        raise DisconnectionError("connection closed by the server")


def configure_sqlite(engine: AsyncEngine) -> None:
    """Install threadstore's SQLite connection and BEGIN hooks on ``engine`` (once)."""
    configure_sqlite_engine(engine.sync_engine)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _on_do_connect(
        _dialect: Any, _record: ConnectionPoolEntry, _cargs: Any, cparams: dict[str, Any]
    ) -> None:
        cparams.setdefault("async_creator_fn", _connect_aiosqlite)


def configure_sqlite_engine(sync_engine: Engine) -> None:
    """The hooks of :func:`configure_sqlite`, on a sync engine (see ``ThreadedEngine``)."""
    if sync_engine.dialect.__dict__.get("_threadstore_configured"):
        return
    sync_engine.dialect.__dict__["_threadstore_configured"] = True

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let threadstore emit BEGIN itself (see _on_begin); pysqlite's own
        # implicit transactions cannot take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode != "NONE":
            conn.exec_driver_sql(f"BEGIN {mode}")
        conn.connection.info[TRANSACTION_OPEN] = mode != "NONE"

    # With the driver in autocommit mode, a transaction is open only after the
    # BEGIN above: skip the ROLLBACK/COMMIT round trip to aiosqlite's thread
    # when none was emitted (every read). Unknown state always rolls back.
    dialect = sync_engine.dialect
    for name in ("do_rollback", "do_commit"):
        setattr(dialect, name, _only_if_open(getattr(dialect, name)))


async def _connect_aiosqlite(*args: Any, **kwargs: Any) -> Any:
    """Open an aiosqlite connection; after a failure, wait for its worker thread to stop.

    aiosqlite stops the worker of a connection that failed to open (a missing
    folder, a directory) without waiting, and the worker then reports to the
    event loop: if a short program has closed its loop by then, the worker
    dies with "Event loop is closed" printed on stderr. Waiting here, while
    the loop still runs, keeps that report on time.
    """
    import aiosqlite

    connection = aiosqlite.connect(*args, **kwargs)
    # aiosqlite < 0.22: the connection is the thread (SQLAlchemy reaches in the same way)
    worker = connection if isinstance(connection, threading.Thread) else connection._thread
    worker.daemon = True
    try:
        return await connection
    except BaseException:
        for _ in range(_WORKER_STOP_POLLS):
            if not worker.is_alive():
                break
            await asyncio.sleep(0.001)
        raise


_WORKER_STOP_POLLS = 2000
"""Bound the wait for a failed connection's worker (about 2 s; it needs microseconds)."""


def _use_wal(cursor: Any) -> None:
    """Switch the database file to WAL (a persistent setting) unless it already is.

    When several processes open a new file at once, SQLite refuses all but one
    switch with SQLITE_BUSY at once, without waiting on the busy timeout; the
    file is in WAL mode either way, so that refusal is only logged.
    """
    cursor.execute("PRAGMA journal_mode")
    row = cursor.fetchone()
    if row is not None and str(row[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:
        if not str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY"):
            raise
        logger.info("another connection is switching the SQLite file to WAL: %s", exc)


TRANSACTION_OPEN = "threadstore_transaction_open"
"""Key of a pooled SQLite connection's info: whether its driver transaction began."""


def _only_if_open(end: Callable[[Any], None]) -> Callable[[Any], None]:
    def end_if_open(dbapi_connection: Any) -> None:
        try:
            info = dbapi_connection.info
        except (AttributeError, NotImplementedError):  # not a pooled connection
            end(dbapi_connection)
            return
        if info.get(TRANSACTION_OPEN, True):
            end(dbapi_connection)
        info[TRANSACTION_OPEN] = False

    return end_if_open
