"""ThreadstoreLongTermStore (LangGraph long-term memory) on every backend."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

pytest.importorskip("langgraph.store.base")

from langgraph.store.base import GetOp, InvalidNamespaceError, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from tests.conftest import FakeClock, StoreFactory
from threadstore import (
    BaseStore,
    MemoryStore,
    PermissionDeniedError,
    SyncStoreError,
    ValidationError,
)
from threadstore.langgraph import ThreadstoreLongTermStore


def embed(texts: list[str]) -> list[list[float]]:
    """A deterministic toy embedding: letter counts of a, e, i, o and the length."""
    return [[float(t.count(c)) for c in "aeio"] + [float(len(t)) / 10] for t in texts]


INDEX: Any = {"embed": embed, "dims": 5, "fields": ["text"]}


@pytest.fixture
async def memory(store: BaseStore) -> Any:
    lt = ThreadstoreLongTermStore(store, index=INDEX)
    yield lt
    lt.close()


async def test_put_get_update_delete(memory: ThreadstoreLongTermStore, clock: FakeClock) -> None:
    await memory.aput(("users", "u1"), "prefs", {"theme": "dark", "n": 1})
    first = await memory.aget(("users", "u1"), "prefs")
    assert first is not None
    assert (first.namespace, first.key, first.value) == (
        ("users", "u1"),
        "prefs",
        {"theme": "dark", "n": 1},
    )
    clock.advance(5)
    await memory.aput(("users", "u1"), "prefs", {"theme": "light"})
    second = await memory.aget(("users", "u1"), "prefs")
    assert second is not None
    assert second.value == {"theme": "light"}
    assert second.created_at == first.created_at < second.updated_at
    await memory.adelete(("users", "u1"), "prefs")
    assert await memory.aget(("users", "u1"), "prefs") is None
    assert await memory.alist_namespaces() == []


async def test_numeric_filters_compare_numbers_as_numbers(memory: ThreadstoreLongTermStore) -> None:
    values = {"nine": 9, "ten": 10, "hundred": 100, "tenth": 0.1, "text": "10", "yes": True}
    for key, n in values.items():
        await memory.aput(("docs",), key, {"n": n, "meta": {"n": n}})
    await memory.aput(("docs",), "none", {"other": 1})

    async def keys(filter: dict[str, Any]) -> set[str]:
        return {item.key for item in await memory.asearch(("docs",), filter=filter, limit=50)}

    assert await keys({"n": {"$gt": 9}}) == {"ten", "hundred"}
    assert await keys({"n": {"$gte": 10, "$lt": 100}}) == {"ten"}
    assert await keys({"n": {"$lte": 9}}) == {"nine", "tenth"}
    assert await keys({"meta": {"n": {"$gt": 50}}}) == {"hundred"}
    assert await keys({"n": 10}) == {"ten"}
    assert await keys({"n": {"$eq": 10.0}}) == {"ten"}
    assert await keys({"n": {"$eq": 1}}) == set()  # JSON true is not 1
    assert await keys({"n": True}) == {"yes"}
    assert await keys({"n": "10"}) == {"text"}
    assert await keys({"n": {"$gt": "1"}}) == {"text"}  # strings compare with strings only
    assert await keys({"n": {"$ne": 10}}) == set(values) - {"ten"} | {"none"}


async def test_namespace_prefixes_match_whole_labels(memory: ThreadstoreLongTermStore) -> None:
    for namespace in [("a",), ("ab",), ("a", "b"), ("a", "bc", "d"), ("abc", "b")]:
        await memory.aput(namespace, "k", {"ns": list(namespace)})
    found = {item.namespace for item in await memory.asearch(("a",), limit=50)}
    assert found == {("a",), ("a", "b"), ("a", "bc", "d")}
    assert {i.namespace for i in await memory.asearch(("a", "b"))} == {("a", "b")}
    assert await memory.alist_namespaces(prefix=("a",)) == [("a",), ("a", "b"), ("a", "bc", "d")]
    assert await memory.alist_namespaces(prefix=("a", "*")) == [("a", "b"), ("a", "bc", "d")]
    assert await memory.alist_namespaces(suffix=("b",)) == [("a", "b"), ("abc", "b")]
    assert await memory.alist_namespaces(prefix=("a",), max_depth=2) == [
        ("a",),
        ("a", "b"),
        ("a", "bc"),
    ]
    assert await memory.alist_namespaces(limit=2, offset=1) == [("a", "b"), ("a", "bc", "d")]


async def test_search_pages_newest_first(
    memory: ThreadstoreLongTermStore, clock: FakeClock
) -> None:
    for i in range(7):
        clock.advance(1)
        await memory.aput(("p",), f"k{i}", {"i": i})
    page = await memory.asearch(("p",), limit=3, offset=2)
    assert [item.key for item in page] == ["k4", "k3", "k2"]
    assert [i.key for i in await memory.asearch(("p",), filter={"i": {"$lt": 3}}, limit=2)] == [
        "k2",
        "k1",
    ]


async def test_semantic_search_ranks_like_in_memory_store(
    memory: ThreadstoreLongTermStore, clock: FakeClock
) -> None:
    reference = InMemoryStore(index=INDEX)
    docs = {
        "banana": "a banana bread",
        "kiwi": "kiwi iii",
        "oboe": "oboe solo",
        "tea": "eerie tea",
        "plain": None,
    }
    for key, text in docs.items():
        clock.advance(1)
        value = {"text": text} if text else {"other": "no text"}
        await memory.aput(("docs",), key, value)
        reference.put(("docs",), key, value)
    await memory.aput(("docs",), "unindexed", {"text": "aaaa"}, index=False)
    reference.put(("docs",), "unindexed", {"text": "aaaa"}, index=False)
    for query in ["banana", "iii", "oboe tea"]:
        ours = await memory.asearch(("docs",), query=query, limit=4)
        theirs = reference.search(("docs",), query=query, limit=4)
        assert [i.key for i in ours] == [i.key for i in theirs]
        assert [i.score for i in ours] == pytest.approx([i.score for i in theirs])
    # a page past the scored items is filled with unscored ones
    ours = await memory.asearch(("docs",), query="banana", limit=10)
    assert ours[-1].score is None
    assert {i.key for i in ours} == set(docs) | {"unindexed"}


async def test_ttl_refresh_on_read_and_expiry(store: BaseStore, clock: FakeClock) -> None:
    lt = ThreadstoreLongTermStore(store, ttl={"default_ttl": 1, "refresh_on_read": True})
    await lt.aput(("s",), "kept", {"v": 1})
    await lt.aput(("s",), "forever", {"v": 2}, ttl=None)
    await lt.aput(("s",), "no-refresh", {"v": 3})
    clock.advance(45)
    assert await lt.aget(("s",), "no-refresh", refresh_ttl=False) is not None
    for _ in range(3):  # each read moves the expiry a minute ahead
        assert await lt.aget(("s",), "kept") is not None
        clock.advance(45)
    assert await lt.aget(("s",), "no-refresh") is None  # 180 s without a refresh
    assert [i.key for i in await lt.asearch(("s",))] == ["kept", "forever"]
    clock.advance(61)  # the search refreshed "kept", then nothing read it
    assert await lt.aget(("s",), "kept") is None
    assert await lt.aget(("s",), "forever") is not None
    assert await lt.alist_namespaces() == [("s",)]
    assert await lt.asweep_ttl() == 2
    assert (await store.purge_expired())["memory_items"] == 0
    lt.close()


async def test_sweeper_runs_until_stopped(store: BaseStore, clock: FakeClock) -> None:
    lt = ThreadstoreLongTermStore(store)
    await lt.aput(("s",), "a", {"v": 1}, ttl=1)
    lt.start_ttl_sweeper(interval_seconds=0.05)
    assert lt.start_ttl_sweeper(interval_seconds=0.05) is lt.start_ttl_sweeper()
    clock.advance(120)
    await lt.aput(("s",), "b", {"v": 1}, ttl=1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with store.unit(write=False) as unit:
            if not await unit.memory_items.get([(("s",), "a")], clock.now - _minutes(5)):
                break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the sweeper never deleted the expired item")
    assert await lt.astop_ttl_sweeper()
    assert await lt.aget(("s",), "b") is not None
    clock.advance(120)
    await asyncio.sleep(0.2)  # stopped: nothing sweeps "b" any more
    async with store.unit(write=False) as unit:
        assert await unit.memory_items.get([(("s",), "b")], clock.now - _minutes(5))
    lt.close()


def _minutes(n: float) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)


async def test_batch_reads_before_puts_and_last_put_wins(memory: ThreadstoreLongTermStore) -> None:
    await memory.aput(("b",), "k", {"v": 0})
    results = await memory.abatch(
        [
            PutOp(("b",), "k", {"v": 1}),
            GetOp(("b",), "k"),
            PutOp(("b",), "k", {"v": 2}),
            SearchOp(("b",)),
        ]
    )
    assert results[0] is None
    assert results[2] is None
    assert results[1] is not None
    assert results[1].value == {"v": 0}
    assert [i.value for i in results[3]] == [{"v": 0}]
    assert (await memory.aget(("b",), "k")).value == {"v": 2}  # type: ignore[union-attr]


async def test_bad_input_is_refused_before_anything_is_written(
    memory: ThreadstoreLongTermStore,
) -> None:
    with pytest.raises(InvalidNamespaceError):
        await memory.aput(("a.b",), "k", {"v": 1})
    with pytest.raises(ValidationError):
        await memory.abatch([PutOp(("ok",), "k", {"v": 1}), PutOp(("a.b",), "k", {"v": 1})])
    with pytest.raises(ValidationError):
        await memory.abatch([PutOp(("ok",), "k", {"v": "nul\x00"})])
    with pytest.raises(ValidationError):
        await memory.abatch([PutOp(("ok",), "k", {"v": 1}, ttl=-1)])
    with pytest.raises(ValidationError):
        await memory.asearch(("ok",), filter={"v": {"$regex": "x"}})
    assert await memory.alist_namespaces() == []


async def test_users_scopes_erasure_and_transactions(store: BaseStore, clock: FakeClock) -> None:
    alice = ThreadstoreLongTermStore(store.for_user("alice"))
    bob = ThreadstoreLongTermStore(store.for_user("bob"))
    app = ThreadstoreLongTermStore(store)
    await alice.aput(("memories",), "m1", {"text": "likes tea"})
    await alice.aput(("memories",), "m2", {"text": "lives in Lisbon"}, ttl=1)
    await bob.aput(("memories",), "m1", {"text": "likes coffee"})
    assert (await alice.aget(("memories",), "m1")).value == {"text": "likes tea"}  # type: ignore[union-attr]
    assert (await bob.aget(("memories",), "m1")).value == {"text": "likes coffee"}  # type: ignore[union-attr]
    assert await app.aget(("memories",), "m1") is None  # the global scope is its own

    async def roll_back() -> None:
        async with store.transaction() as tx:
            await ThreadstoreLongTermStore(tx).aput(("tx",), "k", {"v": 1})
            assert await ThreadstoreLongTermStore(tx).aget(("tx",), "k") is not None
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await roll_back()
    assert await app.aget(("tx",), "k") is None

    clock.advance(120)
    assert (await store.purge_expired())["memory_items"] == 1
    erased = await store.erase_user("alice")
    assert erased["memory_items"] == 1
    assert await alice.alist_namespaces() == []
    assert await bob.alist_namespaces() == [("memories",)]
    with pytest.raises(PermissionDeniedError):
        await store.for_user("bob").erase_user("alice")


def _store_threads() -> int:
    return sum(t.name == "threadstore-ThreadstoreLongTermStore" for t in threading.enumerate())


def test_sync_api_with_no_event_loop(store_factory: StoreFactory) -> None:
    store = store_factory()
    asyncio.run(store.initialize())
    before = _store_threads()
    lt = ThreadstoreLongTermStore(store, index=INDEX)
    try:
        lt.put(("sync",), "k", {"text": "banana", "n": 3})
        lt.put(("sync",), "j", {"text": "kiwi", "n": 30}, ttl=5)
        assert lt.get(("sync",), "k").value["n"] == 3  # type: ignore[union-attr]
        assert [i.key for i in lt.search(("sync",), filter={"n": {"$gt": 5}})] == ["j"]
        assert lt.search(("sync",), query="banana", limit=1)[0].key == "k"
        assert lt.list_namespaces() == [("sync",)]
        lt.delete(("sync",), "k")
        assert lt.get(("sync",), "k") is None
        assert lt.sweep_ttl() == 0
        lt.start_ttl_sweeper(interval_seconds=0.05)  # on the private loop thread
        assert lt.stop_ttl_sweeper(timeout=5)
    finally:
        lt.close()
        asyncio.run(store.close())
    assert _store_threads() == before


async def test_sync_api_on_the_running_loop(memory: ThreadstoreLongTermStore, backend: str) -> None:
    await memory.aput(("a",), "k", {"v": 1})
    if backend == "memory":  # never waits on I/O: served inline, as InMemoryStore does
        assert memory.get(("a",), "k") is not None
    else:  # would block the loop its connections need: refused, as LangGraph's SQL stores do
        with pytest.raises(SyncStoreError, match="running event loop"):
            memory.get(("a",), "k")
    # ...and from a worker thread while the loop runs (graph.invoke in an executor)
    item = await asyncio.to_thread(memory.get, ("a",), "k")
    assert item is not None
    assert item.value == {"v": 1}


def test_close_after_the_sweepers_loop_ended_returns() -> None:
    lt = ThreadstoreLongTermStore(MemoryStore())

    async def start() -> None:
        lt.start_ttl_sweeper(interval_seconds=60)  # a task of this loop, which then ends

    asyncio.run(start())
    started = time.monotonic()
    lt.close()
    assert time.monotonic() - started < 5
    assert lt.stop_ttl_sweeper(timeout=1)
