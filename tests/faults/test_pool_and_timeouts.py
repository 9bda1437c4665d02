"""Waiting too long and colliding: exhausted pools, timeouts, conflicts, deadlocks.

Each fault is produced for real: connections held in open transactions, row
locks held from a second connection, concurrent transactions the server
refuses. Timeouts and conflicts keep the store's connection (same backend pid,
same SQLite connection); a terminated backend is replaced.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tests.conftest import another_writer
from tests.faults.conftest import backend_pid, eventually, raw_connect, waiting_on_lock
from threadstore import (
    PersistenceConnectionError,
    PoolExhaustedError,
    QueryError,
    QueryTimeoutError,
    SQLAlchemyStore,
    VersionConflictError,
)

LOCK_ROW = "SELECT id FROM threadstore_threads WHERE id = 't1' FOR UPDATE"


def _app_name() -> str:
    return f"threadstore-faults-{uuid.uuid4().hex[:8]}"


def _pg_store(url: str, app: str, **settings: str) -> SQLAlchemyStore:
    """A one-connection store whose backends carry ``app`` and the given settings."""
    return SQLAlchemyStore(
        url,
        pool_size=1,
        max_overflow=0,
        connect_args={"server_settings": {"application_name": app, **settings}},
    )


# -- exhausted pool ---------------------------------------------------------------


@pytest.mark.parametrize("call", ["read", "write"])
async def test_exhausted_pool(db_url: str, call: str) -> None:
    store = SQLAlchemyStore(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    held = await store.engine.connect()  # the pool's only connection, in a transaction
    await held.begin()
    await held.execute(text("SELECT count(*) FROM threadstore_threads"))
    pending = store.get_thread("t1") if call == "read" else store.add_message("t1", "user", "x")
    with pytest.raises(PoolExhaustedError) as info:
        await pending
    error = info.value
    assert isinstance(error, PersistenceConnectionError)
    assert error.retryable is True
    assert "pool" in error.message
    assert "exhausted" in error.message
    assert "pool_size=1, max_overflow=0, pool_timeout=0.2s" in error.message
    assert "pool_size/max_overflow" in error.suggestion
    assert "server" not in error.suggestion
    assert isinstance(error.__cause__, PoolTimeoutError)
    await held.rollback()
    await held.close()
    await store.add_message("t1", "user", "after")  # the same store works at once
    assert len(await store.get_messages("t1")) == 1
    await store.close()


@pytest.mark.parametrize("overflow", [0, 1])
async def test_pool_exhausted_by_a_concurrent_call(postgres_url_fresh: str, overflow: int) -> None:
    """A call waits for one of pool_size's connections; a transaction may take the overflow."""
    app = _app_name()
    store = SQLAlchemyStore(
        postgres_url_fresh,
        pool_size=1,
        max_overflow=overflow,
        pool_timeout=0.3,
        connect_args={"server_settings": {"application_name": app}},
    )
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    locker = await raw_connect(postgres_url_fresh)
    admin = await raw_connect(postgres_url_fresh)
    locking = locker.transaction()
    await locking.start()
    await locker.execute(LOCK_ROW)
    update = asyncio.create_task(store.update_thread("t1", title="renamed"))
    await eventually(lambda: waiting_on_lock(admin, app))  # the update holds the connection
    with pytest.raises(PoolExhaustedError, match=f"max_overflow={overflow}") as info:
        await store.list_threads()  # a call, even with an overflow connection free
    assert info.value.retryable is True
    if overflow:
        async with store.transaction() as tx:  # a transaction takes the overflow at once
            assert await tx.get_thread("t1") is not None
    await locking.rollback()
    renamed = await update
    assert renamed is not None
    assert renamed["title"] == "renamed"
    assert len(await store.list_threads()) == 1
    await locker.close()
    await admin.close()
    await store.close()


# -- statement_timeout and lock_timeout ---------------------------------------------


@pytest.mark.parametrize(
    ("setting", "wording"),
    [
        ("statement_timeout", "ran past statement_timeout"),
        ("lock_timeout", "waited for a lock past lock_timeout"),
    ],
)
async def test_postgres_timeout_keeps_the_connection(
    postgres_url_fresh: str, setting: str, wording: str
) -> None:
    store = _pg_store(postgres_url_fresh, _app_name(), **{setting: "200ms"})
    await store.initialize()
    await store.create_thread("t1", "alice", "helper", title="before")
    pid = await backend_pid(store)
    locker = await raw_connect(postgres_url_fresh)
    locking = locker.transaction()
    await locking.start()
    await locker.execute(LOCK_ROW)
    with pytest.raises(QueryTimeoutError) as info:
        await store.update_thread("t1", title="during")
    error = info.value
    assert isinstance(error, QueryError)
    assert error.retryable is True
    assert wording in error.message
    assert "statement_timeout/lock_timeout" in error.suggestion
    assert error.__cause__ is not None
    await locking.rollback()
    await locker.close()
    # not thrown away: the pool hands out the same server backend again
    assert store.engine.pool.checkedin() == 1
    assert await backend_pid(store) == pid
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["title"] == "before"  # the timed-out update wrote nothing
    assert (await store.update_thread("t1", title="after")) is not None
    await store.close()


async def test_sqlite_busy_is_a_timeout_without_a_server(sqlite_url: str) -> None:
    store = SQLAlchemyStore(sqlite_url, pool_size=1, max_overflow=0)

    @event.listens_for(store.engine.sync_engine, "connect")
    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200")  # after threadstore's own 30 s
        cursor.close()

    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    async with store.engine.connect() as conn:
        before = (await conn.get_raw_connection()).dbapi_connection
    path = make_url(sqlite_url).database
    assert path is not None
    with another_writer(path), pytest.raises(QueryTimeoutError) as info:
        await store.add_message("t1", "user", "blocked")
    error = info.value
    assert error.retryable is True
    assert "locked by another writer" in error.message
    assert "busy timeout" in error.message
    assert "write lock" in error.suggestion
    assert "server" not in f"{error.message} {error.suggestion}".lower()
    assert isinstance(error.__cause__, Exception)
    async with store.engine.connect() as conn:
        assert (await conn.get_raw_connection()).dbapi_connection is before
    await store.add_message("t1", "user", "after")
    assert [m["content"] for m in await store.get_messages("t1")] == ["after"]
    await store.close()


# -- conflicts the server detects ----------------------------------------------------------


async def test_serialization_failure_is_a_version_conflict(postgres_url_fresh: str) -> None:
    app = _app_name()
    store = SQLAlchemyStore(
        postgres_url_fresh,
        isolation_level="REPEATABLE READ",
        connect_args={"server_settings": {"application_name": app}},
    )
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    writer = await raw_connect(postgres_url_fresh)
    admin = await raw_connect(postgres_url_fresh)
    writing = writer.transaction()
    await writing.start()
    await writer.execute("UPDATE threadstore_threads SET title = 'first' WHERE id = 't1'")
    update = asyncio.create_task(store.update_thread("t1", title="second"))
    await eventually(lambda: waiting_on_lock(admin, app))  # its snapshot predates the commit
    await writing.commit()
    with pytest.raises(VersionConflictError) as info:
        await update
    error = info.value
    assert error.retryable is True
    assert "could not serialize access" in error.message
    assert "retry" in error.suggestion
    assert error.__cause__ is not None
    thread = await store.update_thread("t1", title="second")  # a retry succeeds
    assert thread is not None
    assert thread["title"] == "second"
    await writer.close()
    await admin.close()
    await store.close()


async def test_deadlock_is_a_version_conflict(postgres_url_fresh: str) -> None:
    app = _app_name()
    # the store's backend checks for deadlocks after 1 s; the other one only after 10 s,
    # so the store's transaction is the one the server aborts
    store = _pg_store(postgres_url_fresh, app, deadlock_timeout="1s")
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.add_message("t1", "user", "hello")
    other = await raw_connect(postgres_url_fresh, deadlock_timeout="10s")
    admin = await raw_connect(postgres_url_fresh)
    transaction = other.transaction()
    await transaction.start()
    await other.execute("SELECT id FROM threadstore_messages WHERE thread_id = 't1' FOR UPDATE")
    # delete_thread locks the thread row, then its cascade waits for the message rows
    deleting = asyncio.create_task(store.delete_thread("t1"))
    await eventually(lambda: waiting_on_lock(admin, app))
    renaming = asyncio.create_task(
        other.execute("UPDATE threadstore_threads SET title = 'kept' WHERE id = 't1'")
    )
    with pytest.raises(VersionConflictError) as info:
        await deleting
    error = info.value
    assert error.retryable is True
    assert "deadlock detected" in error.message
    assert error.__cause__ is not None
    await renaming  # the other transaction goes on once the store's is rolled back
    await transaction.commit()
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["title"] == "kept"
    assert await store.delete_thread("t1") is True  # a retry succeeds
    await other.close()
    await admin.close()
    await store.close()


# -- a backend terminated mid-statement ------------------------------------------------------


async def test_backend_terminated_mid_statement_is_replaced(postgres_url_fresh: str) -> None:
    app = _app_name()
    store = _pg_store(postgres_url_fresh, app)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    pid = await backend_pid(store)
    locker = await raw_connect(postgres_url_fresh)
    admin = await raw_connect(postgres_url_fresh)
    locking = locker.transaction()
    await locking.start()
    await locker.execute(LOCK_ROW)
    update = asyncio.create_task(store.update_thread("t1", title="lost"))
    assert await eventually(lambda: waiting_on_lock(admin, app)) == pid
    await admin.execute("SELECT pg_terminate_backend($1)", pid)  # 57P01 admin_shutdown
    with pytest.raises(PersistenceConnectionError) as info:
        await update
    error = info.value
    assert type(error) is PersistenceConnectionError
    assert error.retryable is True
    assert "reconnects" in error.suggestion
    assert error.__cause__ is not None
    await locking.rollback()
    assert await backend_pid(store) != pid  # the broken connection was discarded
    thread = await store.update_thread("t1", title="after")
    assert thread is not None
    assert thread["title"] == "after"
    await locker.close()
    await admin.close()
    await store.close()
