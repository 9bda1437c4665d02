"""SyncStore: every store method without an event loop, from many threads at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from tests.conftest import StoreFactory
from threadstore import SyncStore, SyncStoreError, ThreadNotFoundError

THREADS = 4
MESSAGES = 15


@pytest.fixture
def sync(store_factory: StoreFactory) -> Iterator[SyncStore]:
    """An open SyncStore over a store of the backend under test (closed after the test)."""
    with SyncStore(store_factory(), owns_store=True) as opened:
        yield opened


def test_methods_run_with_no_event_loop(sync: SyncStore) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    thread = sync.create_thread("t1", "alice", "helper", title="hello")
    assert thread["title"] == "hello"
    sync.add_messages("t1", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert [m["content"] for m in sync.get_messages("t1")] == ["a", "b"]
    assert (sync.pop_message("t1") or {}).get("content") == "b"
    assert sync.health_check()["status"] == "healthy"
    with pytest.raises(ThreadNotFoundError):
        sync.add_message("nope", "user", "x")


def _add_then_fail(block: SyncStore, content: str) -> None:
    with block.transaction() as tx:
        tx.add_message("t1", "user", content)
        raise KeyError(content)


def test_transaction_commits_or_rolls_back(sync: SyncStore) -> None:
    sync.create_thread("t1", "alice", "helper")
    with sync.transaction() as tx:
        tx.add_message("t1", "user", "kept")
        tx.save_context_item("k", 1)
        with pytest.raises(KeyError):
            _add_then_fail(tx, "savepoint only")
        assert [m["content"] for m in tx.get_messages("t1")] == ["kept"]
    with pytest.raises(KeyError):
        _add_then_fail(sync, "lost")
    assert [m["content"] for m in sync.get_messages("t1")] == ["kept"]
    assert sync.get_context_item("k") is not None


def test_for_user_is_a_scoped_view(sync: SyncStore) -> None:
    sync.create_thread("t1", "alice", "helper")
    bob = sync.for_user("bob")
    assert bob.get_thread("t1") is None
    assert bob.list_threads() == []
    with sync.for_user("alice").transaction() as tx:
        tx.add_message("t1", "user", "mine")
    assert sync.for_user("alice").get_messages("t1")[0]["content"] == "mine"


def test_threads_write_at_once(sync: SyncStore) -> None:
    sync.create_thread("t1", "alice", "helper")
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(MESSAGES):
                sync.add_message("t1", "user", f"{n}-{i}")
            with sync.transaction() as tx:
                tx.add_message("t1", "user", f"{n}-tx")
                tx.save_context_item(f"k{n}", n)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == []
    messages = sync.get_messages("t1", limit=1000)
    assert [m["seq"] for m in messages] == list(range(THREADS * (MESSAGES + 1)))
    assert len(sync.get_all_context_items()) == THREADS


def test_pops_from_threads_are_distinct(sync: SyncStore) -> None:
    sync.create_thread("t1", "alice", "helper")
    sync.add_messages("t1", [{"role": "user", "content": str(i)} for i in range(40)])
    popped: list[str] = []

    def pop() -> None:
        message = sync.pop_message("t1")
        if message is not None:
            popped.append(message["content"])

    threads = [threading.Thread(target=pop) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(popped, key=int) == [str(i) for i in range(40)]


def test_a_call_from_a_running_loop_is_refused_clearly(sync: SyncStore) -> None:
    async def inside() -> None:
        with pytest.raises(SyncStoreError, match="running event loop"):
            sync.get_thread("t1")
        assert await asyncio.to_thread(sync.get_thread, "t1") is None

    asyncio.run(inside())


def test_open_and_close_are_idempotent_and_closed_calls_fail(store_factory: StoreFactory) -> None:
    sync = SyncStore(store_factory(), owns_store=True)
    with pytest.raises(SyncStoreError, match="not open"):
        sync.get_thread("t1")
    sync.open()
    sync.open()
    sync.create_thread("t1", "alice", "helper")
    sync.close()
    sync.close()
    with pytest.raises(SyncStoreError, match="not open"):
        sync.get_thread("t1")
    assert not any(t.name == "threadstore-sync" for t in threading.enumerate())
