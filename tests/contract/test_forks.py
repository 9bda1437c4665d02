"""Forks and lineage: set-based copies, edge cases, detaching, deep lineage."""

from __future__ import annotations

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, DuplicateRecordError, ValidationError


async def _parent(store: BaseStore, count: int = 5) -> None:
    await store.create_thread("p", "alice", "helper", title="Plan", metadata={"k": "v"})
    await store.add_messages(
        "p", [{"role": "user", "content": f"m{i}", "metadata": {"i": i}} for i in range(count)]
    )


async def test_fork_copies_prefix(store: BaseStore, clock: FakeClock) -> None:
    await _parent(store)
    clock.advance(10)
    fork = await store.fork_thread("p", 2, "f")
    assert fork is not None
    assert fork["id"] == "f"
    assert fork["parent_thread_id"] == "p"
    assert fork["fork_message_index"] == 2
    assert fork["title"] == "Fork of Plan"
    assert fork["metadata"] == {"k": "v"}
    assert fork["user_id"] == "alice"
    assert fork["agent_name"] == "helper"
    assert fork["message_count"] == 3
    assert fork["created_at"] == "2026-01-01T00:00:10.000000+00:00"
    assert await store.get_thread("f") == fork
    parent_messages = await store.get_messages("p")
    copied = await store.get_messages("f")
    assert [(m["seq"], m["role"], m["content"], m["metadata"], m["timestamp"]) for m in copied] == [
        (m["seq"], m["role"], m["content"], m["metadata"], m["timestamp"])
        for m in parent_messages[:3]
    ]
    assert {m["thread_id"] for m in copied} == {"f"}
    assert not {m["id"] for m in copied} & {m["id"] for m in parent_messages}
    # the fork continues its own sequence
    nxt = await store.add_message("f", "user", "new")
    assert nxt["seq"] == 3
    assert len(await store.get_messages("p")) == 5


async def test_fork_title_and_no_nesting(store: BaseStore) -> None:
    await _parent(store)
    assert (await store.fork_thread("p", 0, "custom", title="Mine"))["title"] == "Mine"  # type: ignore[index]
    current = "p"
    for generation in range(40):
        child = f"g{generation}"
        fork = await store.fork_thread(current, 0, child)
        assert fork is not None
        assert fork["title"] == "Fork of Plan"
        current = child


@pytest.mark.parametrize("index", [-1, 5, 100])
async def test_fork_index_out_of_range(store: BaseStore, index: int) -> None:
    await _parent(store)
    assert await store.fork_thread("p", index, "f") is None
    assert await store.get_thread("f") is None
    assert (await store.get_stats())["threads"] == 1


async def test_fork_of_empty_thread_or_missing_parent(store: BaseStore) -> None:
    await store.create_thread("empty", "alice", "helper")
    assert await store.fork_thread("empty", 0, "f") is None
    assert await store.fork_thread("ghost", 0, "f") is None
    assert await store.get_thread("f") is None


async def test_fork_onto_existing_id(store: BaseStore) -> None:
    await _parent(store)
    await store.create_thread("taken", "bob", "coder")
    with pytest.raises(DuplicateRecordError):
        await store.fork_thread("p", 1, "taken")
    assert await store.get_messages("taken") == []


async def test_fork_validates_input(store: BaseStore) -> None:
    await _parent(store)
    with pytest.raises(ValidationError):
        await store.fork_thread("p", "1", "f")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await store.fork_thread("p", 1, "")
    with pytest.raises(ValidationError):
        await store.fork_thread("p", 1, "f", title="x" * 5000)


async def test_fork_of_a_fork_and_lineage(store: BaseStore, clock: FakeClock) -> None:
    await _parent(store)
    await store.fork_thread("p", 3, "f1")
    clock.advance()
    await store.fork_thread("p", 1, "f2")
    await store.fork_thread("f1", 2, "ff")
    copied = await store.get_messages("ff")
    assert [m["content"] for m in copied] == ["m0", "m1", "m2"]

    lineage = await store.get_thread_lineage("f1")
    assert lineage["thread_id"] == "f1"
    assert [t["id"] for t in lineage["ancestors"]] == ["p"]
    assert [t["id"] for t in lineage["descendants"]] == ["ff"]
    root = await store.get_thread_lineage("p")
    assert root["ancestors"] == []
    assert [t["id"] for t in root["descendants"]] == ["f1", "f2"]
    leaf = await store.get_thread_lineage("ff")
    assert [t["id"] for t in leaf["ancestors"]] == ["p", "f1"]
    assert leaf["descendants"] == []
    assert leaf["ancestors"][0] == await store.get_thread("p")


async def test_lineage_of_unknown_thread(store: BaseStore) -> None:
    assert await store.get_thread_lineage("ghost") == {
        "thread_id": "ghost",
        "ancestors": [],
        "descendants": [],
    }


async def test_deep_lineage(store: BaseStore) -> None:
    await store.create_thread("g0", "alice", "helper")
    await store.add_message("g0", "user", "root")
    for depth in range(1, 61):
        assert await store.fork_thread(f"g{depth - 1}", 0, f"g{depth}") is not None
    lineage = await store.get_thread_lineage("g60")
    assert [t["id"] for t in lineage["ancestors"]] == [f"g{d}" for d in range(60)]
    middle = await store.get_thread_lineage("g30")
    assert len(middle["ancestors"]) == 30
    assert [t["id"] for t in middle["descendants"]] == ["g31"]


async def test_deleting_parent_detaches_forks(store: BaseStore) -> None:
    await _parent(store)
    await store.fork_thread("p", 1, "f")
    assert await store.delete_thread("p") is True
    fork = await store.get_thread("f")
    assert fork is not None
    assert fork["parent_thread_id"] is None
    assert fork["fork_message_index"] == 1
    assert [m["content"] for m in await store.get_messages("f")] == ["m0", "m1"]
    assert (await store.get_thread_lineage("f"))["ancestors"] == []
