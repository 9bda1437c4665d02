"""SQLite's threaded engine: one trip to a worker per statement, rows read there.

The store runs SQLite on a sync SQLAlchemy engine whose statements execute
on worker threads (threadstore.store.sql.threaded). These tests pin what that
design promises beyond the contract suite: results are complete when a
statement returns, a held-back BEGIN reports its error on the statement it
travels with, ending a transaction that never reached the driver sends
nothing, an in-memory database is one database for every task, and each
one-call read is one trip.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import another_writer
from tests.statements import counted_trips
from threadstore import SQLAlchemyStore
from threadstore.sqlite_buffered import BufferedSqlite
from threadstore.store.sql.threaded import ThreadedConnection, ThreadedEngine


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SQLAlchemyStore]:
    async with SQLAlchemyStore(sqlite_url) as opened:
        await opened.create_thread("t1", "alice", "helper")
        await opened.add_messages("t1", [{"role": "user", "content": f"m{i}"} for i in range(30)])
        yield opened


def _engine(store: SQLAlchemyStore) -> ThreadedEngine:
    engine = store.engine
    assert isinstance(engine, ThreadedEngine)
    return engine


async def test_a_result_is_complete_when_the_statement_returns(store: SQLAlchemyStore) -> None:
    engine = _engine(store)
    conn = await engine.connect()
    result = await conn.execute(text("SELECT seq FROM threadstore_messages ORDER BY seq"))
    await conn.close()  # the connection is back in the pool; the rows are already here
    assert [row.seq for row in result] == list(range(30))


async def test_a_held_back_begin_fails_on_the_statement_it_travels_with(
    store: SQLAlchemyStore, sqlite_url: str
) -> None:
    engine = _engine(store)
    with another_writer(str(engine.url.database)):
        conn = await engine.connect()
        await conn.execution_options(threadstore_sqlite_begin="NONE")
        await conn.exec_driver_sql("PRAGMA busy_timeout=50")
        await conn.commit()
        await conn.execution_options(threadstore_sqlite_begin="IMMEDIATE")
        tx = await conn.begin()  # returns at once: the BEGIN waits for a statement
        with pytest.raises(OperationalError, match="locked"):
            await conn.execute(text("UPDATE threadstore_threads SET title = 'x'"))
        await tx.rollback()
        await conn.close()
    assert (await store.get_thread("t1") or {}).get("title") is None


async def test_ending_a_transaction_that_never_began_sends_nothing(
    store: SQLAlchemyStore,
) -> None:
    engine = _engine(store)
    sent: list[str] = []

    @event.listens_for(engine.sync_engine, "commit")
    def on_commit(_conn: Any) -> None:
        sent.append("commit")

    conn = await engine.connect()
    await conn.execution_options(threadstore_sqlite_begin="IMMEDIATE")
    tx = await conn.begin()
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    assert driver.pending == ["BEGIN IMMEDIATE"]  # held back
    await tx.commit()
    assert driver.pending == []
    assert not driver.in_transaction  # the driver never saw a BEGIN
    assert sent == ["commit"]  # SQLAlchemy's own bookkeeping still ran
    await conn.close()


async def test_an_in_memory_database_is_one_database_for_every_task() -> None:
    async with SQLAlchemyStore("sqlite+aiosqlite:///:memory:") as memory:
        await memory.create_thread("t1", "alice", "helper")
        await asyncio.gather(*(memory.add_message("t1", "user", f"m{i}") for i in range(25)))
        messages = await memory.get_messages("t1", limit=100)
        assert [m["seq"] for m in messages] == list(range(25))
        assert (await memory.get_thread("t1") or {})["message_count"] == 25


async def test_each_one_call_read_is_one_trip_and_a_one_statement_write_too(
    store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(store)
    trips = counted_trips(monkeypatch)
    calls = {
        "get_thread": lambda: store.get_thread("t1"),
        "get_messages": lambda: store.get_messages("t1", limit=10, after_seq=5),
        "list_threads": lambda: store.list_threads(limit=10),
        "get_thread_lineage": lambda: store.get_thread_lineage("t1"),
        "create_thread": lambda: store.create_thread("t2", "alice", "helper"),
        "save_checkpoint": lambda: store.save_checkpoint("t1", "", "c1", None, {"v": 1}, {}),
        "get_checkpoint": lambda: store.get_checkpoint("t1", "", ""),
        # BEGIN IMMEDIATE, the counter UPDATE, the INSERTs and COMMIT on the driver
        "add_message": lambda: store.add_message("t1", "user", "two statements"),
        "add_messages": lambda: store.add_messages("t1", [{"role": "user", "content": "a"}] * 3),
    }
    for name, call in calls.items():
        trips.clear()
        await call()
        assert len(trips) == 1, f"{name}: {trips}"
    assert engine.pool.checkedout() <= 1  # at most the lane's: none leaked
    messages = await store.get_messages("t1", limit=100)
    assert [m["seq"] for m in messages] == list(range(len(messages)))
    assert [m["content"] for m in messages][-4:] == ["two statements", "a", "a", "a"]
    assert (await store.get_thread("t1") or {})["message_count"] == len(messages)


async def test_the_driver_module_keeps_sqlite3s_names() -> None:
    module = BufferedSqlite()
    assert module.OperationalError is sqlite3.OperationalError
    assert module.sqlite_version_info == sqlite3.sqlite_version_info
    conn = module.connect(":memory:")
    cursor = conn.cursor()
    cursor.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
    assert cursor.fetchone() == (1,)
    assert cursor.fetchmany(5) == [(2,), (3,)]
    assert cursor.fetchall() == []
    conn.close()


def test_a_threaded_connection_is_not_usable_before_it_is_started(tmp_path: Path) -> None:
    engine = ThreadedEngine(make_url(f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    conn = ThreadedConnection(engine)
    with pytest.raises(RuntimeError, match="not started"):
        conn.in_transaction()
    engine.shutdown()
