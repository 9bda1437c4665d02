"""Hot paths name their thread: every statement they run on a thread-scoped table is one shard's.

A table sharded by thread (Citus, or ``PARTITION BY HASH (thread_id)``) routes a
statement to one shard only when it pins the shard column: a ``WHERE`` on
``thread_id`` (``threadstore_threads.id`` for the threads table), or an INSERT
whose rows carry it. tests/sql/test_partitioning.py proves this with plans for
the partitioned tables; this checks the SQL text of every hot path over all of
them, feedback and suspended states included, on SQLite and PostgreSQL. The
calls docs/scaling.md lists as multi-shard are pinned too, so that list stays
true.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import SQLAlchemyStore

Call = Callable[[SQLAlchemyStore, int], Awaitable[Any]]
"""A store call; the int is the id of a message of thread t1."""

_TABLE = re.compile(
    r"\b(threadstore_(?:threads|messages|feedback|suspended_states|checkpoints|checkpoint_writes))\b"
)
_BY_THREAD = re.compile(r"\bthread_id\s*(?:=|IN\b)", re.IGNORECASE)
_THREAD_ROW = re.compile(r"(?:\bthreadstore_threads\.|(?<![.\w]))id\s*(?:=|IN\b)", re.IGNORECASE)
_INSERT = re.compile(r"\bINSERT INTO (\w+)\s*\(([^)]*)\)", re.IGNORECASE)


HOT_PATHS: list[tuple[str, Call]] = [
    ("add_message", lambda s, _m: s.add_message("t1", "user", "hello")),
    ("add_message keyed", lambda s, _m: s.add_message("t1", "user", "x", idempotency_key="k")),
    ("add_messages", lambda s, _m: s.add_messages("t1", [{"role": "user", "content": "a"}] * 3)),
    ("get_messages", lambda s, _m: s.get_messages("t1", limit=5, newest_first=True)),
    ("pop_message", lambda s, _m: s.pop_message("t1")),
    ("get_thread", lambda s, _m: s.get_thread("t1")),
    ("update_thread", lambda s, _m: s.update_thread("t1", title="new")),
    ("add_feedback on a message", lambda s, m: s.add_feedback("t1", "u", "a", message_id=m)),
    ("get_feedback of a thread", lambda s, _m: s.get_feedback(thread_id="t1")),
    ("list_suspended_states of a thread", lambda s, _m: s.list_suspended_states(thread_id="t1")),
    ("save_checkpoint", lambda s, _m: s.save_checkpoint("t1", "", "c2", "c1", {}, {})),
    ("get_checkpoint latest", lambda s, _m: s.get_checkpoint("t1", "", "")),
    ("list_checkpoints", lambda s, _m: s.list_checkpoints("t1", "", limit=3)),
]

MULTI_SHARD: list[tuple[str, Call]] = [
    ("get_suspended_state", lambda s, _m: s.get_suspended_state("ap1")),
    ("delete_suspended_state", lambda s, _m: s.delete_suspended_state("ap1")),
    ("save_suspended_state", lambda s, _m: s.save_suspended_state("ap2", "t1", "a", "n", {})),
    ("get_feedback of an agent", lambda s, _m: s.get_feedback(agent_name="a")),
]
"""Calls docs/scaling.md lists as multi-shard: at least one statement names no thread."""


def _one_shard(statement: str) -> bool:
    """Whether every thread-scoped table of a statement is pinned to one thread."""
    inserted = {
        table: {c.strip().strip('"') for c in columns.split(",")}
        for table, columns in _INSERT.findall(statement)
    }
    for table in set(_TABLE.findall(statement)):
        key = "id" if table == "threadstore_threads" else "thread_id"
        if key in inserted.get(table, set()):
            continue
        if not (_THREAD_ROW if key == "id" else _BY_THREAD).search(statement):
            return False
    return True


async def _statements(url: str, clock: FakeClock, call: Call) -> list[str]:
    store = SQLAlchemyStore(url, clock=clock)
    await store.initialize()
    try:
        for thread in ("t1", "t2"):
            await store.create_thread(thread, "u", "a")
            await store.add_messages(thread, [{"role": "user", "content": "m"}] * 3)
            await store.save_checkpoint(thread, "", "c1", None, {}, {})
        await store.save_suspended_state("ap1", "t1", "a", "n", {})
        message = (await store.get_messages("t1"))[0]["id"]
        with recorded(store) as statements:
            await call(store, message)
    finally:
        await store.close()
    return [sql for sql, _params in statements if _TABLE.search(sql)]


@pytest.mark.parametrize(("name", "call"), HOT_PATHS, ids=[name for name, _ in HOT_PATHS])
async def test_hot_paths_pin_the_thread_in_every_statement(
    db_url: str, clock: FakeClock, name: str, call: Call
) -> None:
    touching = await _statements(db_url, clock, call)
    assert touching, f"{name}: no statement on a thread-scoped table"
    wide = [sql for sql in touching if not _one_shard(sql)]
    assert wide == [], name


@pytest.mark.parametrize(("name", "call"), MULTI_SHARD, ids=[name for name, _ in MULTI_SHARD])
async def test_the_documented_multi_shard_calls_are_so(
    db_url: str, clock: FakeClock, name: str, call: Call
) -> None:
    touching = await _statements(db_url, clock, call)
    assert any(not _one_shard(sql) for sql in touching), (name, touching)
