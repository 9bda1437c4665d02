"""Retention: idle threads, checkpoint pruning and TTL purges, in bounded batches."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import FakeClock
from threadstore import BaseStore, MemoryStore, SQLAlchemyStore, ValidationError

DAY = 86_400.0


class CountingMemoryStore(MemoryStore):
    """A MemoryStore that counts the units (transactions) it opens."""

    units = 0

    def _open_unit(
        self, *, write: bool, block: bool, may_lag: bool = False
    ) -> AbstractAsyncContextManager[Any]:
        self.units += 1
        return super()._open_unit(write=write, block=block, may_lag=may_lag)


@contextlib.contextmanager
def transactions(store: BaseStore) -> Iterator[dict[str, Any]]:
    """Count the transactions a store begins and the rows each DELETE of a table removes."""
    seen: dict[str, Any] = {"begins": 0, "deletes": {}}
    if isinstance(store, CountingMemoryStore):
        start = store.units
        yield seen
        seen["begins"] = store.units - start
        return
    assert isinstance(store, SQLAlchemyStore)
    engine = store.engine.sync_engine

    def begun(conn: Any) -> None:
        seen["begins"] += 1

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        if words[:2] == ["DELETE", "FROM"]:
            seen["deletes"].setdefault(words[2], []).append(cursor.rowcount)

    event.listen(engine, "begin", begun)
    event.listen(engine, "after_cursor_execute", executed)
    try:
        yield seen
    finally:
        event.remove(engine, "begin", begun)
        event.remove(engine, "after_cursor_execute", executed)


@pytest.fixture
async def counted(backend: str, store: BaseStore, clock: FakeClock) -> AsyncIterator[BaseStore]:
    """The store under test; on memory, one that counts its units."""
    if backend != "memory":
        yield store
        return
    counting = CountingMemoryStore(clock=clock)
    await counting.initialize()
    yield counting
    await counting.close()


async def _thread_with_everything(store: BaseStore, thread_id: str) -> None:
    await store.create_thread(thread_id, "u", "helper")
    await store.add_messages(
        thread_id, [{"role": "user", "content": "q"}, {"role": "ai", "content": "a"}]
    )
    await store.add_feedback(thread_id, "u", "helper", rating=3)
    await store.save_suspended_state(f"{thread_id}-ap", thread_id, "helper", "n", {})
    await store.save_checkpoint(thread_id, "", "c1", None, {}, {})


async def _view(store: BaseStore, thread_id: str) -> Any:
    return (
        await store.get_thread(thread_id),
        await store.get_messages(thread_id),
        await store.get_feedback(thread_id=thread_id),
        await store.list_suspended_states(thread_id=thread_id),
        await store.list_checkpoints(thread_id, ""),
    )


async def test_idle_threads_go_in_bounded_batches_and_others_stay(
    counted: BaseStore, clock: FakeClock
) -> None:
    store = counted
    for n in range(5):
        await _thread_with_everything(store, f"old-{n}")
    clock.advance(10 * DAY)
    await store.add_message("old-4", "user", "still active")  # touched: not idle
    await store.fork_thread("old-0", 0, "new-fork")
    await _thread_with_everything(store, "new-0")
    survivors = {t: await _view(store, t) for t in ("old-4", "new-fork", "new-0")}

    with transactions(store) as seen:
        counts = await store.delete_idle_threads(timedelta(days=5), batch_size=3)

    assert counts == {
        "threads": 4,
        "messages": 8,
        "feedback": 4,
        "suspended_states": 4,
        "checkpoints": 4,
        "checkpoint_writes": 0,
        "tool_calls": 0,
        "forks_detached": 1,
        "batches": 2,
    }
    assert seen["begins"] == 2  # one transaction per batch
    if isinstance(store, SQLAlchemyStore):
        assert seen["deletes"]["threadstore_threads"] == [3, 1]
        assert all(n <= 3 * 2 for n in seen["deletes"]["threadstore_messages"])
    assert {t["id"] for t in await store.list_threads()} == {"new-0", "new-fork", "old-4"}
    fork = await store.get_thread("new-fork")
    assert fork is not None
    assert fork["parent_thread_id"] is None
    for thread_id, before in survivors.items():
        after = await _view(store, thread_id)
        if thread_id == "new-fork":
            assert before[0] is not None
            before = ({**before[0], "parent_thread_id": None}, *before[1:])
        assert after == before
    for n in range(4):
        assert await _view(store, f"old-{n}") == (None, [], [], [], [])
    assert (await store.delete_idle_threads(timedelta(days=5)))["threads"] == 0


async def test_an_exact_cutoff_datetime_is_exclusive(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("at-cutoff", "u", "helper")
    clock.advance(1)
    await store.create_thread("after", "u", "helper")
    cutoff = clock.now - timedelta(seconds=1)
    counts = await store.delete_idle_threads(cutoff.astimezone(UTC))
    assert counts["threads"] == 0
    counts = await store.delete_idle_threads(cutoff + timedelta(microseconds=1))
    assert counts["threads"] == 1
    assert [t["id"] for t in await store.list_threads()] == ["after"]


class Undo(Exception):
    """Raised to roll a transaction block back."""


async def _delete_then_undo(store: BaseStore) -> None:
    async with store.transaction() as tx:
        counts = await tx.delete_idle_threads(timedelta(days=1), batch_size=1)
        assert (counts["threads"], counts["batches"]) == (4, 5)
        raise Undo


async def test_inside_a_transaction_every_batch_is_the_blocks(
    counted: BaseStore, clock: FakeClock
) -> None:
    store = counted
    for n in range(4):
        await store.create_thread(f"old-{n}", "u", "helper")
    clock.advance(2 * DAY)
    with transactions(store) as seen, pytest.raises(Undo):
        await _delete_then_undo(store)
    assert seen["begins"] == 1
    assert len(await store.list_threads()) == 4  # rolled back with the block


async def test_a_view_deletes_only_its_users_idle_threads(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.create_thread("a", "alice", "helper")
    await store.create_thread("b", "bob", "helper")
    clock.advance(2 * DAY)
    assert (await store.for_user("bob").delete_idle_threads(timedelta(days=1)))["threads"] == 1
    assert [t["id"] for t in await store.list_threads()] == ["a"]


@pytest.mark.parametrize(
    ("older_than", "batch_size"),
    [
        (timedelta(0), 10),
        (timedelta(days=-1), 10),
        (datetime(2026, 1, 1), 10),
        (30, 10),
        ("30d", 10),
        (timedelta(days=1), 0),
        (timedelta(days=1), 10_001),
        (timedelta(days=1), True),
    ],
)
async def test_bad_retention_arguments_are_refused_before_anything_is_written(
    store: BaseStore, clock: FakeClock, older_than: Any, batch_size: Any
) -> None:
    await store.create_thread("t", "u", "helper")
    await store.save_checkpoint("t", "", "c1", None, {}, {})
    await store.save_checkpoint("t", "", "c2", "c1", {}, {})
    clock.advance(10 * DAY)
    with pytest.raises(ValidationError):
        await store.delete_idle_threads(older_than, batch_size=batch_size)
    for keep, thread_id in ((0, None), (-1, None), (1, ""), (1, 5)):
        with pytest.raises(ValidationError):
            await store.prune_checkpoints(keep, thread_id=thread_id)
    with pytest.raises(ValidationError):
        await store.prune_checkpoints(1, batch_size=0)
    with pytest.raises(ValidationError):
        await store.purge_expired(batch_size=-5)
    assert await store.get_thread("t") is not None
    assert len(await store.list_checkpoints("t", "")) == 2


async def test_expired_states_and_items_are_purged_in_batches(
    counted: BaseStore, clock: FakeClock
) -> None:
    store = counted
    await store.create_thread("t", "u", "helper")
    for n in range(5):
        await store.save_suspended_state(f"old-{n}", "t", "helper", "n", {}, ttl=1)
    await store.save_suspended_state("live", "t", "helper", "n", {})
    for n in range(3):
        await store.save_context_item(f"old-{n}", n, user_id="u" if n else None, ttl=1)
    await store.save_context_item("forever", 1)
    clock.advance(2)
    with transactions(store) as seen:
        counts = await store.purge_expired(batch_size=2)
    assert counts == {
        "suspended_states": 5,
        "context_items": 3,
        "memory_items": 0,
        "batches": 3,
    }
    assert seen["begins"] == 3
    if isinstance(store, SQLAlchemyStore):
        assert seen["deletes"]["threadstore_suspended_states"] == [2, 2, 1]
        assert seen["deletes"]["threadstore_context_items"] == [2, 1, 0]
    assert [s["id"] for s in await store.list_suspended_states()] == ["live"]
    assert await store.cleanup_expired_states() == 0
    assert await store.cleanup_expired_context_items() == 0
    assert [i["key"] for i in await store.get_all_context_items()] == ["forever"]
