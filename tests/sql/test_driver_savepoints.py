"""SQLite savepoints sent on the buffered driver connection, not through SQLAlchemy.

A call inside a transaction (a group commit's, a ``transaction()`` block's
nested block) gets a savepoint. While nobody watches statements, the unit
asks the buffered driver connection for it (``threadstore.sqlite_buffered``):
its ``SAVEPOINT`` and ``RELEASE`` are held back and travel with the next
statement, and only a ``ROLLBACK TO`` makes a trip of its own. These tests pin
that the savepoints keep and undo exactly what SQLAlchemy's would, for any
nesting, and that a grouped call is one trip.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from tests.statements import counted_trips
from threadstore import DuplicateRecordError, SQLAlchemyStore
from threadstore.sqlite_buffered import BufferedSqlite

_STEPS = st.lists(st.sampled_from(["insert", "push", "release", "rollback"]), max_size=30)


@settings(max_examples=150, deadline=None)
@given(steps=_STEPS)
def test_held_back_savepoints_keep_and_undo_what_a_stack_of_blocks_would(
    tmp_path_factory: pytest.TempPathFactory, steps: list[str]
) -> None:
    """Any sequence of inserts and nested savepoints commits what the model keeps."""
    path = tmp_path_factory.mktemp("sp") / "db.sqlite"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE t (v INTEGER)")
    setup.close()
    conn = BufferedSqlite().connect(str(path), isolation_level=None)
    model: list[list[int]] = [[]]  # the transaction, then one list per open savepoint
    names: list[str] = []
    try:
        conn.cursor().execute("BEGIN IMMEDIATE")
        for n, step in enumerate(steps):
            if step == "insert":
                conn.cursor().execute("INSERT INTO t VALUES (?)", (n,))
                model[-1].append(n)
            elif step == "push":
                names.append(conn.savepoint())
                model.append([])
            elif names and step == "release":
                conn.release(names.pop())
                kept = model.pop()
                model[-1].extend(kept)
            elif names and step == "rollback":
                name = names.pop()
                if not conn.unsent(name):
                    conn.rollback_to(name)
                model.pop()
        conn.commit()
    finally:
        conn.close()
    check = sqlite3.connect(path)
    stored = sorted(v for (v,) in check.execute("SELECT v FROM t"))
    check.close()
    assert stored == sorted(v for frame in model for v in frame)


def test_a_savepoint_nothing_ran_in_is_dropped_not_sent(tmp_path: Path) -> None:
    sent: list[str] = []
    conn = BufferedSqlite().connect(str(tmp_path / "db.sqlite"), isolation_level=None)
    conn.set_trace_callback(sent.append)
    conn.cursor().execute("BEGIN IMMEDIATE")
    conn.release(conn.savepoint())
    name = conn.savepoint()
    assert conn.unsent(name)  # a rollback has nothing to undo
    conn.cursor().execute("SELECT 1")
    conn.commit()
    conn.close()
    assert sent == ["BEGIN IMMEDIATE", "SELECT 1", "COMMIT"]


@pytest.fixture
async def store(sqlite_url: str) -> Any:
    async with SQLAlchemyStore(sqlite_url) as opened:
        await opened.create_thread("t", "u", "a")
        await opened.add_message("t", "user", "keyed", idempotency_key="k")
        yield opened


async def _traced(store: SQLAlchemyStore, on_loop: list[str] | None = None) -> list[str]:
    """Every statement SQLite runs from now on (a pool listener: the driver path stays on).

    ``on_loop`` gets those run on the calling (the event loop's) thread.
    """
    sent: list[str] = []
    loop_thread = threading.current_thread()

    def record(sql: str) -> None:
        sent.append(sql)
        if on_loop is not None and threading.current_thread() is loop_thread:
            on_loop.append(sql)

    @event.listens_for(store.engine.sync_engine, "connect")
    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(record)

    await store.engine.dispose()
    return sent


async def test_grouped_writes_run_on_the_loop_and_a_failing_one_rolls_back_to_its_own_savepoint(
    store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_loop: list[str] = []
    sent = await _traced(store, on_loop)
    trips = counted_trips(monkeypatch)
    calls = [
        *(store.add_message("t", "user", f"m{i}") for i in range(6)),
        store.add_message("t", "user", "other content", idempotency_key="k"),
        *(store.save_checkpoint("t", "", f"cp{i}", None, {"i": i}, {}) for i in range(6)),
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[6], DuplicateRecordError)
    assert sum(isinstance(r, BaseException) for r in results) == 1
    statements = Counter(name for name in trips if name not in ("commit", "connect", "close"))
    # to a worker: the first call (alone, its own transaction) and the group's first write
    # (its held-back BEGIN IMMEDIATE may wait for SQLite's lock); the failing call's reads
    # (SQLAlchemy's path). Every later write, and the failing call's ROLLBACK TO, ran on
    # the loop: the group holds the write lock, so none of them can wait on SQLite.
    assert statements == {"trip": 2, "execute": 2}
    on_loop_kinds = Counter(
        " ".join(sql.split()[:2])
        for sql in on_loop
        if sql.startswith(("UPDATE threadstore_threads", "INSERT INTO", "ROLLBACK TO"))
        and "threadstore_messages" not in sql  # traced more than once (its RETURNING)
    )
    # four appends (each bumps the thread), six checkpoint upserts, one undo
    assert on_loop_kinds == {"UPDATE threadstore_threads": 4, "INSERT INTO": 6, "ROLLBACK TO": 1}
    savepoints = [s for s in sent if s.startswith("SAVEPOINT")]
    assert savepoints
    assert all(s.startswith("SAVEPOINT threadstore_sp_") for s in savepoints)
    assert sum(s.startswith("ROLLBACK TO SAVEPOINT threadstore_sp_") for s in sent) == 1
    messages = await store.get_messages("t", limit=100)
    assert sorted(m["content"] for m in messages) == sorted(["keyed", *(f"m{i}" for i in range(6))])
    assert [m["seq"] for m in messages] == list(range(7))
    checkpoints = await store.list_checkpoints("t", "")
    assert sorted(c["checkpoint_id"] for c in checkpoints) == [f"cp{i}" for i in range(6)]


async def test_reads_inside_a_block_run_on_the_driver_and_see_its_writes(
    store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = counted_trips(monkeypatch)
    async with store.transaction() as tx:
        await tx.add_message("t", "user", "in the block")
        async with tx.transaction() as inner:
            thread = await inner.get_thread("t")
            messages = await inner.get_messages("t")
        assert trips == ["trip", "sqlite_rows", "sqlite_rows"]  # the append, then each read
    assert thread is not None
    assert thread["message_count"] == 2  # the block's own, uncommitted, append
    assert [m["content"] for m in messages] == ["keyed", "in the block"]


async def test_long_grouped_writes_stay_off_the_loop(store: SQLAlchemyStore) -> None:
    """A big batch or a big text in a group runs on a worker: the loop is never held long."""
    on_loop: list[str] = []
    sent = await _traced(store, on_loop)
    big = "x" * (64 * 1024 + 1)
    calls = [
        store.add_message("t", "user", "first"),  # alone: its own transaction, on a worker
        store.add_message("t", "user", "small"),  # opens the group (BEGIN), on a worker
        store.add_message("t", "user", "short"),
        store.add_messages("t", [{"role": "user", "content": f"b{i}"} for i in range(21)]),
        store.add_message("t", "user", big),
        store.save_checkpoint("t", "", "big", None, {"blob": big}, {}),
    ]
    await asyncio.gather(*calls)
    inserts = [sql for sql in sent if sql.startswith("INSERT INTO threadstore_")]
    on_loop_inserts = [sql for sql in on_loop if sql.startswith("INSERT INTO threadstore_")]
    assert any("'short'" in sql for sql in on_loop_inserts)
    assert any("'b20'" in sql for sql in inserts)
    assert sum(big in sql for sql in inserts) >= 2  # the message and the checkpoint
    assert not any("'b20'" in sql or big in sql for sql in on_loop_inserts)
    contents = [m["content"] for m in await store.get_messages("t", limit=100)]
    assert len(contents) == 1 + 4 + 21  # the fixture's, then every call's
    assert contents[-1] == big
