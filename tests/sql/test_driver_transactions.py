"""Appends on SQLite run as one transaction on the driver, in one trip (``SqlUnit.write_steps``).

A lone add_message/add_messages runs ``BEGIN IMMEDIATE``, the counter UPDATE,
the INSERTs and ``COMMIT`` on the worker's sqlite3 connection. These tests
pin that it writes what SQLAlchemy's execution of the same statements
writes, that a statement failing half-way rolls the whole call back with
threadstore's error, and that cancelled calls never leave a half-written
append or a connection inside a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.conftest import another_writer
from tests.statements import counted_trips, recorded
from threadstore import SQLAlchemyStore
from threadstore.errors import DuplicateRecordError, PersistenceError, QueryTimeoutError
from threadstore.sqlite_vector import sqlite_driver
from threadstore.store.sql.direct import DirectStatements


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SQLAlchemyStore]:
    async with SQLAlchemyStore(sqlite_url) as opened:
        await opened.create_thread("t", "alice", "helper")
        yield opened


@contextlib.contextmanager
def _raw(store: SQLAlchemyStore) -> Iterator[Any]:
    """A connection of the store's SQLite library to the store's file."""
    path = make_url(str(store.engine.url)).database
    assert path is not None
    connection = sqlite_driver().connect(path, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def _stored(store: SQLAlchemyStore, thread: str) -> tuple[int, list[tuple[Any, ...]]]:
    with _raw(store) as raw:
        count = raw.execute(
            "SELECT message_count FROM threadstore_threads WHERE id = ?", (thread,)
        ).fetchone()[0]
        rows = raw.execute(
            "SELECT seq, role, content, metadata, idempotency_key FROM threadstore_messages "
            "WHERE thread_id = ? ORDER BY seq",
            (thread,),
        ).fetchall()
    return count, rows


def _squat(store: SQLAlchemyStore, *, seq: int) -> None:
    """A message row of thread ``t`` at ``seq``, written behind the store's back."""
    with _raw(store) as raw:
        raw.execute(
            "INSERT INTO threadstore_messages (thread_id, seq, role, content, metadata, "
            "timestamp) VALUES ('t', ?, 'user', 'squatter', '{}', '2026-01-01 00:00:00.000000')",
            (seq,),
        )


_BATCHES = [
    [{"role": "user", "content": "hello", "metadata": {"k": [1, "x"]}}],
    [{"role": "assistant", "content": f"m{i}", "metadata": {"i": i}} for i in range(7)],
    [{"role": "tool", "content": "ünïcode ✓", "metadata": {}}],
]


async def test_appends_on_the_driver_write_what_sqlalchemy_writes(store: SQLAlchemyStore) -> None:
    await store.create_thread("slow", "alice", "helper")
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    fast = [await store.add_messages("t", batch) for batch in _BATCHES]
    assert len(direct._compiled) >= 2  # the counter UPDATE and the INSERT, compiled once
    with recorded(store) as statements:  # a listener: SQLAlchemy's own execution
        slow = [await store.add_messages("slow", batch) for batch in _BATCHES]
    sent = [sql.split()[0] for sql, _ in statements]
    assert sent == ["BEGIN", "UPDATE", "INSERT"] * len(_BATCHES)  # one multi-row INSERT each
    assert _stored(store, "t") == _stored(store, "slow")
    assert _stored(store, "t")[0] == 9

    def shape(records: list[list[Any]]) -> list[Any]:
        return [
            [(r["seq"], r["role"], r["content"], r["metadata"]) for r in batch] for batch in records
        ]

    assert shape(fast) == shape(slow)
    assert [m["id"] for m in await store.get_messages("t", limit=20)] == [
        r["id"] for batch in fast for r in batch
    ]


async def test_a_statement_failing_half_way_rolls_the_call_back(store: SQLAlchemyStore) -> None:
    await store.add_message("t", "user", "first")
    _squat(store, seq=1)  # a row at the seq the next append will take
    with pytest.raises(DuplicateRecordError) as info:
        await store.add_message("t", "user", "second")  # the UPDATE ran, the INSERT failed
    assert isinstance(info.value, PersistenceError)
    assert info.value.__cause__ is not None
    count, rows = _stored(store, "t")
    assert count == 1  # the counter bump rolled back with the failed INSERT
    assert [row[2] for row in rows] == ["first", "squatter"]
    with _raw(store) as raw:
        raw.execute("DELETE FROM threadstore_messages WHERE content = 'squatter'")
    await store.add_message("t", "user", "second")  # the same connection, usable again
    assert [row[2] for row in _stored(store, "t")[1]] == ["first", "second"]
    assert store.engine.pool.checkedout() <= 1  # at most the lane's: none leaked


async def test_an_append_blocked_by_another_writer_times_out_and_writes_nothing(
    store: SQLAlchemyStore,
) -> None:
    @event.listens_for(store.engine.sync_engine, "connect")  # not a statement listener
    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    await store.engine.dispose()
    path = make_url(str(store.engine.url)).database
    assert path is not None
    with another_writer(path), pytest.raises(QueryTimeoutError):
        await store.add_message("t", "user", "blocked")
    assert _stored(store, "t") == (0, [])
    await store.add_message("t", "user", "free again")
    assert _stored(store, "t")[0] == 1


_threads = itertools.count()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delays=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=12))
async def test_cancelled_appends_are_all_or_nothing(
    store: SQLAlchemyStore, delays: list[int]
) -> None:
    """Cancel appends after a few loop turns: each is whole or absent, the counter exact."""
    thread = f"cancelled-{next(_threads)}"
    await store.create_thread(thread, "alice", "helper")
    for delay in delays:
        task = asyncio.create_task(store.add_messages(thread, _BATCHES[1]))
        for _ in range(delay):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await store.add_message(thread, "user", "after")  # no connection was left mid-transaction
    count, rows = _stored(store, thread)
    assert [row[0] for row in rows] == list(range(count))
    contents = [row[2] for row in rows]
    assert contents[-1] == "after"
    batches = contents[:-1]
    assert batches == [f"m{i}" for i in range(7)] * (len(batches) // 7)  # whole batches only
    await asyncio.sleep(0.05)  # a cancelled call's trip may still be finishing
    assert store.engine.pool.checkedout() <= 1  # at most the lane's: none leaked


async def test_appends_in_a_block_run_on_the_driver_inside_its_savepoints(
    store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a block each append is one trip; a failing nested block rolls back alone."""
    _squat(store, seq=1)  # the seq the block's second append takes
    trips = counted_trips(monkeypatch)
    async with store.transaction() as tx:
        await tx.add_message("t", "user", "kept")
        assert trips == ["trip"]  # BEGIN IMMEDIATE, the UPDATE and the INSERT
        with pytest.raises(DuplicateRecordError):
            async with tx.transaction() as inner:
                await inner.add_message("t", "user", "rolled back")  # seq 1: the squatter's
        assert trips[1] == "trip"  # its SAVEPOINT, UPDATE and INSERT; then ROLLBACK TO
    count, rows = _stored(store, "t")
    assert count == 1  # the nested block's counter bump rolled back with it
    assert [row[2] for row in rows] == ["kept", "squatter"]
