"""``store.erase_user``: nothing of the user is left in any table, nothing of others changes."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from tests.conftest import FakeClock
from threadstore import (
    BaseStore,
    MemoryStore,
    PermissionDeniedError,
    SQLAlchemyStore,
    ValidationError,
)
from threadstore.models import Base
from threadstore.models.base import SEARCH_TABLE_PREFIX
from threadstore.partitioning import is_partition
from threadstore.store.memory.state import MemoryState
from threadstore.transfer import export_database

pytest.importorskip("langgraph.checkpoint.base")

A, B = "alice-erased", "bob-kept"
MARK = "alice"
"""Every id, key and text of A's data contains it; nothing of anyone else's does."""
NOT_DATA_FIELDS = {"max_threads", "lock", "next_ids"}
"""MemoryState fields that hold no record (settings, the lock, id counters)."""


async def _saver_checkpoints(store: BaseStore, thread_id: str, marker: str) -> None:
    """Three LangGraph checkpoints with binary channel values, and pending writes."""
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    from threadstore.langgraph import ThreadstoreSaver

    saver = ThreadstoreSaver(store)
    config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    for step in range(3):
        checkpoint = empty_checkpoint()
        checkpoint["id"] = str(uuid6(clock_seq=-1))
        checkpoint["channel_values"] = {"blob": b"\x00\xff" * step, "who": marker}
        checkpoint["channel_versions"] = {"blob": step + 1, "who": step + 1}
        config = await saver.aput(config, checkpoint, {"step": step, "by": marker}, {})
    await saver.aput_writes(config, [("blob", b"\x00pending"), ("who", marker)], "task-1")
    sub: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": "sub"}}
    checkpoint = empty_checkpoint()
    checkpoint["id"] = str(uuid6(clock_seq=-1))
    sub = await saver.aput(sub, checkpoint, {"by": marker}, {})
    await saver.aput_writes(sub, [("who", marker)], "task-2")


async def _user_data(store: BaseStore, clock: FakeClock, user: str, name: str) -> None:
    """One user's data through every kind of public write; every id contains ``name``."""
    t1, t2, graph = f"{name}-thread-1", f"{name}-thread-2", f"{name}-graph"
    await store.create_thread(t1, user, "helper", title=f"{name} first", metadata={"who": name})
    await store.add_message(t1, "user", f"{name} says hello", idempotency_key=f"{name}-key-1")
    await store.add_messages(
        t1,
        [
            {"role": "assistant", "content": f"hi {name}"},
            {"role": "user", "content": f"{name} again", "metadata": {"n": name}},
        ],
    )
    clock.advance(1)
    await store.update_thread(t1, title=f"{name} renamed", metadata_patch={"more": name})
    await store.fork_thread(t1, 1, f"{name}-fork")
    await store.add_message(f"{name}-fork", "user", f"{name} forked")
    await store.create_thread(t2, user, "helper")
    await store.add_message(t2, "user", f"{name} second")
    await store.save_suspended_state(f"{name}-approval", t1, "helper", "review", {"who": name})
    await store.save_suspended_state(f"{name}-old-approval", t2, "helper", "n", {}, ttl=1)
    await store.save_checkpoint(t2, "", f"{name}-c1", None, {"who": name}, {"step": 1})
    await store.save_checkpoint(t2, "", f"{name}-c2", f"{name}-c1", {"who": name}, {})
    await store.create_thread(graph, user, "graph")
    await _saver_checkpoints(store, graph, name)
    for agent in ("reader", "poster"):
        await store.save_agent_topics(agent, [f"{name}-news", "sports"], user_id=user)
    await store.save_agent_permissions("poster", [f"{name}-news"], user_id=user)
    await store.save_context_item(
        f"{name}-note",
        {"who": name},
        user_id=user,
        subscribers=["reader"],
        topics=[f"{name}-news"],
        ttl=3600,
        posted_by="poster",
    )
    await store.save_context_item(f"{name}-plain", name, user_id=user)
    await store.create_invocation_log(
        agent_name="helper", thread_id=t1, input_data={"who": name}, log_id=f"{name}-run-1"
    )
    await store.create_invocation_log(agent_name="helper", user_id=user, log_id=f"{name}-run-2")
    await store.record_tool_call(
        tool_name="search",
        agent_name="helper",
        input={"q": name},
        thread_id=t1,
        run_id=f"{name}-run-1",
    )
    await store.record_tool_call(
        tool_name="search", agent_name="helper", user_id=user, output=f"{name} found"
    )
    from threadstore.langgraph import ThreadstoreLongTermStore

    memory = ThreadstoreLongTermStore(
        store.for_user(user), index={"embed": lambda texts: [[1.0, 0.5] for _ in texts]}
    )
    await memory.aput(("memories", name), "likes", {"text": f"{name} likes tea"})
    await memory.aput(("memories",), "ttl", {"text": "short-lived"}, ttl=60)


async def build(store: BaseStore, clock: FakeClock) -> None:
    """Two users' data, feedback across them, the global scope and a thread-less checkpoint."""
    await _user_data(store, clock, A, "alice")
    await _user_data(store, clock, B, "bob")
    bob_messages = await store.get_messages("bob-thread-1")
    alice_messages = await store.get_messages("alice-thread-1")
    await store.add_feedback("alice-thread-1", A, "helper", rating=5, comment="alice on alice")
    # A's feedback on B's thread goes; B's feedback on A's thread goes with A's thread
    await store.add_feedback(
        "bob-thread-1",
        A,
        "helper",
        rating=1,
        comment="alice on bob",
        message_id=bob_messages[0]["id"],
    )
    await store.add_feedback("bob-thread-1", B, "helper", rating=4, comment="bob on bob")
    await store.add_feedback(
        "alice-thread-1", B, "helper", comment="on alice", message_id=alice_messages[0]["id"]
    )
    await store.save_context_item("global-note", {"for": "all"}, subscribers=["reader"])
    await store.save_agent_topics("reader", ["global-news"])
    await store.save_agent_permissions("poster", ["global-news"])
    await store.save_checkpoint("ghost-thread", "", "g1", None, {"v": 1}, {})
    clock.advance(5)  # the short-lived approval has expired: erased all the same


EXPECTED = {
    "threads": 4,  # thread-1, its fork, thread-2, graph
    "messages": 3 + 3 + 1,  # thread-1, fork (2 copied + 1), thread-2
    "feedback": 3,  # alice on alice, alice on bob, bob on alice
    "suspended_states": 2,
    "checkpoints": 2 + 3 + 1,  # save_checkpoint x2, saver x3 in "" and x1 in "sub"
    "checkpoint_writes": 2 + 1,
    "tool_calls": 2,  # one of thread-1, one of no thread
    "runs": 2,  # one of thread-1, one of no thread
    "forks_detached": 0,  # A's only fork is A's own (erased)
    "context_items": 2,
    "topics": 4,  # two agents with two topics each
    "permissions": 1,
    "memory_items": 2,
}


# -- what the databases hold ------------------------------------------------------


def _mentions(value: Any) -> bool:
    """Whether ``value`` (any row value, key or record) mentions A anywhere."""
    if isinstance(value, str):
        return MARK in value
    if isinstance(value, bytes | bytearray | memoryview):
        return MARK.encode() in bytes(value)
    if isinstance(value, dict):
        return any(_mentions(k) or _mentions(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_mentions(item) for item in value)
    return False


async def _sql_rows(store: SQLAlchemyStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the models' metadata (a new table cannot escape)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with store.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: sa_inspect(sync).get_table_names())
        threadstore = {
            n
            for n in names
            if n.startswith("threadstore_")
            and not n.startswith(SEARCH_TABLE_PREFIX)  # derived: tests/sql/test_search_sql.py
            and not is_partition(n)
        }
        assert threadstore - {"threadstore_alembic_version"} == set(Base.metadata.tables)
        for table in Base.metadata.sorted_tables:
            rows = await conn.execute(select(*table.c).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(row) for row in rows]
    return found


def _memory_fields(store: MemoryStore) -> Iterator[tuple[str, Any]]:
    state = store._state
    names = {f.name for f in dataclasses.fields(MemoryState)}
    assert names >= NOT_DATA_FIELDS
    for name in sorted(names - NOT_DATA_FIELDS):
        yield name, getattr(state, name)


async def snapshot(store: BaseStore) -> dict[str, Any]:
    """Everything the store holds: every SQL table's rows, or every memory state field."""
    if isinstance(store, SQLAlchemyStore):
        return dict(await _sql_rows(store))
    assert isinstance(store, MemoryStore)
    held = {name: copy.deepcopy(value) for name, value in _memory_fields(store)}
    held["next_ids"] = dict(store._state.next_ids)
    return held


def without_a(held: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with every row / entry that mentions A removed."""
    kept: dict[str, Any] = {}
    for name, value in held.items():
        if isinstance(value, dict) and name != "next_ids":
            kept[name] = {k: v for k, v in value.items() if not _mentions(k) and not _mentions(v)}
        elif isinstance(value, list):
            kept[name] = [row for row in value if not _mentions(row)]
        else:
            kept[name] = value
    return kept


def assert_nothing_of_a(held: dict[str, Any]) -> None:
    for name, value in held.items():
        leftovers = (
            [k for k, v in value.items() if _mentions(k) or _mentions(v)]
            if isinstance(value, dict)
            else [row for row in value if _mentions(row)]
        )
        assert leftovers == [], f"{name} still references {A}: {leftovers}"


async def _export_of_b(store: SQLAlchemyStore, path: Path) -> list[str]:
    url = store.engine.url.render_as_string(hide_password=False)
    await export_database(url, path, user_id=B)
    return (await asyncio.to_thread(path.read_text)).splitlines()


# -- tests ------------------------------------------------------------------------------


async def test_erase_removes_everything_of_the_user_and_nothing_else(
    store: BaseStore, clock: FakeClock, tmp_path: Path
) -> None:
    await build(store, clock)
    before = await snapshot(store)
    assert sum(1 for rows in before.values() for row in rows if _mentions(row)) > 0
    b_export = await _export_of_b(store, tmp_path / "b0.jsonl") if _is_sql(store) else []

    assert await store.erase_user(A) == EXPECTED

    after = await snapshot(store)
    assert_nothing_of_a(after)
    assert after == without_a(before)
    assert await store.list_threads(user_id=A) == []
    assert await store.get_all_context_items(user_id=A) == []
    assert (await store.get_thread("bob-thread-1")) is not None
    assert [f["comment"] for f in await store.get_feedback()] == ["bob on bob"]
    if _is_sql(store):
        assert isinstance(store, SQLAlchemyStore)
        b_after = await _export_of_b(store, tmp_path / "b1.jsonl")
        gone = [line for line in b_export if MARK in line]
        assert len(gone) == 1
        assert "alice on bob" in gone[0]
        kept = [line for line in b_export if MARK not in line]
        assert b_after[:-1] == kept[:-1]  # every other line byte for byte; then the end marker
        counts_before = json.loads(b_export[-1])["end"]["rows"]
        counts_before["threadstore_feedback"] -= 1
        assert json.loads(b_after[-1])["end"]["rows"] == counts_before
    assert await store.erase_user(A) == dict.fromkeys(EXPECTED, 0)


def _is_sql(store: BaseStore) -> bool:
    return isinstance(store, SQLAlchemyStore)


class Undo(Exception):
    """Raised to roll a transaction block back."""


async def _erase_then_undo(store: BaseStore) -> None:
    async with store.transaction() as tx:
        assert await tx.erase_user(A) == EXPECTED
        assert await tx.get_thread("alice-thread-1") is None
        raise Undo


async def test_erase_inside_a_transaction_commits_or_rolls_back_with_it(
    store: BaseStore, clock: FakeClock
) -> None:
    await build(store, clock)
    before = await snapshot(store)
    with pytest.raises(Undo):
        await _erase_then_undo(store)
    assert await snapshot(store) == before
    async with store.transaction() as tx:
        await tx.add_message("bob-thread-2", "user", "in the same block")
        assert await tx.erase_user(A) == EXPECTED
    after = await snapshot(store)
    assert_nothing_of_a(after)
    assert len(await store.get_messages("bob-thread-2")) == 2


async def test_a_view_erases_its_own_user_only(store: BaseStore, clock: FakeClock) -> None:
    await build(store, clock)
    before = await snapshot(store)
    with pytest.raises(PermissionDeniedError):
        await store.for_user(B).erase_user(A)
    async with store.for_user(B).transaction() as tx:
        with pytest.raises(PermissionDeniedError):
            await tx.erase_user(A)
    assert await snapshot(store) == before
    assert await store.for_user(A).erase_user(A) == EXPECTED
    assert_nothing_of_a(await snapshot(store))


@pytest.mark.parametrize("bad", ["", "x" * 256, "nul\x00", 42, None])
async def test_a_bad_user_id_is_refused_before_anything_is_written(
    store: BaseStore, clock: FakeClock, bad: Any
) -> None:
    await build(store, clock)
    before = await snapshot(store)
    with pytest.raises(ValidationError):
        await store.erase_user(bad)
    assert await snapshot(store) == before


async def _reown(store: BaseStore, thread_id: str, user: str) -> None:
    """Give a thread another owner, as an import or an application's own SQL can."""
    if isinstance(store, MemoryStore):
        store._state.threads[thread_id]["user_id"] = user
        return
    assert isinstance(store, SQLAlchemyStore)
    async with store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE threadstore_threads SET user_id = :u WHERE id = :t"),
            {"u": user, "t": thread_id},
        )


async def test_another_users_fork_is_detached_not_deleted(store: BaseStore) -> None:
    await store.create_thread("alice-root", A, "helper")
    await store.add_messages(
        "alice-root", [{"role": "user", "content": "one"}, {"role": "ai", "content": "two"}]
    )
    await store.fork_thread("alice-root", 1, "shared-fork")
    await store.fork_thread("alice-root", 0, "alice-own-fork")
    await _reown(store, "shared-fork", B)
    counts = await store.erase_user(A)
    assert (counts["threads"], counts["forks_detached"], counts["messages"]) == (2, 1, 3)
    fork = await store.get_thread("shared-fork")
    assert fork is not None
    assert fork["parent_thread_id"] is None
    assert fork["user_id"] == B
    assert [m["content"] for m in await store.get_messages("shared-fork")] == ["one", "two"]
    assert await store.get_thread_lineage("shared-fork") == {
        "thread_id": "shared-fork",
        "ancestors": [],
        "descendants": [],
    }


async def test_only_the_global_scope_and_others_remain_after_erasing_everyone(
    store: BaseStore, clock: FakeClock
) -> None:
    await build(store, clock)
    for user in (A, B):
        await store.erase_user(user)
    stats = await store.get_stats()
    assert (stats["threads"], stats["messages"], stats["feedback"]) == (0, 0, 0)
    assert stats["checkpoints"] == 1  # the thread-less "ghost-thread" one belongs to no user
    assert [i["key"] for i in await store.get_all_context_items()] == ["global-note"]
    assert await store.get_agent_topics("reader") == ["global-news"]
    assert await store.get_agent_permissions("poster") == ["global-news"]
    assert await store.get_checkpoint("ghost-thread", "", "") is not None
    assert await store.delete_idle_threads(timedelta(seconds=1)) == {
        **dict.fromkeys(
            (
                "threads",
                "messages",
                "feedback",
                "suspended_states",
                "checkpoints",
                "checkpoint_writes",
                "tool_calls",
                "forks_detached",
            ),
            0,
        ),
        "batches": 1,
    }
