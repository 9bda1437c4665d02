"""Unit of work: ``async with store.transaction() as tx`` on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from threadstore import (
    BaseStore,
    DuplicateRecordError,
    ThreadNotFoundError,
    TransactionAbortedError,
    TransactionClosedError,
    TransactionError,
)


async def _snapshot(store: BaseStore) -> dict[str, Any]:
    """Everything a caller can read, to compare a store before and after a block."""
    threads = await store.list_threads(limit=1000)
    return {
        "threads": threads,
        "messages": {t["id"]: await store.get_messages(t["id"], limit=1000) for t in threads},
        "feedback": await store.get_feedback(limit=1000),
        "states": await store.list_suspended_states(),
        "checkpoints": await store.list_checkpoints("t1", ""),
        "context": await store.get_all_context_items(),
        "topics": await store.get_all_agent_topics(),
        "stats": await store.get_stats(),
    }


async def _seed(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper", title="one", metadata={"k": 1})
    await store.add_messages("t1", [{"role": "user", "content": "hi"}])
    await store.save_context_item("note", {"v": 1})
    await store.save_agent_topics("planner", ["news"])


async def test_writes_commit_together(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    async with store.transaction() as tx:
        reply = await tx.add_message("t1", "assistant", "shall I?")
        await tx.save_suspended_state("a1", "t1", "helper", "approve", {"ask": reply["id"]})
        await tx.save_checkpoint("t1", "", "c1", None, {"v": 1}, {"step": 1})
        assert (await tx.get_messages("t1"))[-1]["content"] == "shall I?"  # own writes
        assert await tx.get_suspended_state("a1") is not None
    assert [m["content"] for m in await store.get_messages("t1")] == ["shall I?"]
    state = await store.get_suspended_state("a1")
    assert state is not None
    assert state["state_snapshot"] == {"ask": reply["id"]}
    assert await store.get_checkpoint("t1", "", "") is not None


async def _write_everything_then_fail(store: BaseStore) -> None:
    async with store.transaction() as tx:
        await tx.create_thread("t2", "bob", "coder")
        await tx.add_messages("t1", [{"role": "assistant", "content": "x"}] * 3)
        await tx.update_thread("t1", title="changed", metadata={})
        await tx.add_feedback("t1", "alice", "helper", rating=5)
        await tx.save_suspended_state("a1", "t1", "helper", "n", {"s": 1})
        await tx.save_checkpoint("t1", "", "c1", None, {"v": 1}, {})
        await tx.save_context_item("note", {"v": 2}, topics=["news"])
        await tx.delete_context_item("note")
        await tx.save_agent_topics("planner", [])
        await tx.fork_thread("t1", 0, "t3")
        await tx.delete_thread("t2")
        raise RuntimeError("boom")


async def test_an_exception_rolls_every_write_back(store: BaseStore) -> None:
    await _seed(store)
    before = await _snapshot(store)
    with pytest.raises(RuntimeError, match="boom"):
        await _write_everything_then_fail(store)
    assert await _snapshot(store) == before
    message = await store.add_message("t1", "user", "after")
    assert message["seq"] == 1


async def _nested_duplicate(tx: BaseStore) -> None:
    async with tx.transaction() as inner:
        await inner.add_message("t1", "user", "dropped")
        await inner.create_thread("t1", "alice", "helper")


async def test_a_nested_block_is_a_savepoint(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    async with store.transaction() as tx:
        await tx.add_message("t1", "user", "kept")
        with pytest.raises(DuplicateRecordError):
            await _nested_duplicate(tx)
        async with tx.transaction() as inner:
            await inner.add_message("t1", "user", "kept too")
        assert [m["content"] for m in await tx.get_messages("t1")] == ["kept", "kept too"]
    messages = await store.get_messages("t1")
    assert [(m["seq"], m["content"]) for m in messages] == [(0, "kept"), (1, "kept too")]
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 2


async def _catch_and_carry_on(store: BaseStore) -> None:
    async with store.transaction() as tx:
        await tx.add_message("t1", "user", "lost")
        with pytest.raises(ThreadNotFoundError):
            await tx.add_message("ghost", "user", "x")
        with pytest.raises(TransactionAbortedError):
            await tx.get_thread("t1")


async def test_a_failed_call_aborts_the_block(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(TransactionAbortedError):
        await _catch_and_carry_on(store)
    assert await store.get_messages("t1") == []


async def test_validation_errors_do_not_abort_the_block(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match="rating"):
            await tx.add_feedback("t1", "alice", "helper", rating=9)
        await tx.add_message("t1", "user", "still fine")
    assert len(await store.get_messages("t1")) == 1


async def test_the_transaction_object_is_closed_after_its_block(store: BaseStore) -> None:
    async with store.transaction() as tx:
        pass
    with pytest.raises(TransactionClosedError):
        await tx.get_thread("t1")
    with pytest.raises(TransactionClosedError):
        await tx.create_thread("t1", "alice", "helper")
    with pytest.raises(TransactionClosedError):
        tx.transaction()
    assert await store.get_thread("t1") is None


async def test_calling_the_store_inside_its_own_block_is_refused(store: BaseStore) -> None:
    async with store.transaction() as tx:
        await tx.create_thread("t1", "alice", "helper")
        with pytest.raises(TransactionError, match="tx"):
            await store.get_thread("t1")
        with pytest.raises(TransactionError):
            store.transaction()
    assert await store.get_thread("t1") is not None


async def test_calls_outside_a_block_are_their_own_transactions(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ThreadNotFoundError):
        await store.add_message("ghost", "user", "x")
    await store.add_message("t1", "user", "fine")  # no block: nothing to abort
    assert len(await store.get_messages("t1")) == 1


async def test_concurrent_calls_of_one_block_run_one_at_a_time(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    async with store.transaction() as tx:
        await asyncio.gather(*(tx.add_message("t1", "user", str(i)) for i in range(10)))
    assert [m["seq"] for m in await store.get_messages("t1")] == list(range(10))


async def test_a_writing_block_holds_other_writers_of_its_thread_until_it_ends(
    store: BaseStore,
) -> None:
    # SQLite and memory lock the whole store; PostgreSQL the thread's row.
    await store.create_thread("t1", "alice", "helper")
    async with store.transaction() as tx:
        await tx.add_message("t1", "user", "first")
        other = asyncio.create_task(store.add_message("t1", "user", "second"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not other.done()
    second = await asyncio.wait_for(other, timeout=30)
    assert second["seq"] == 1


async def test_a_block_that_only_reads_lets_others_write(store: BaseStore, backend: str) -> None:
    await store.create_thread("t1", "alice", "helper")
    async with store.transaction() as tx:
        assert await tx.get_thread("t1") is not None
        other = asyncio.create_task(store.add_message("t1", "user", "from elsewhere"))
        if backend == "memory":  # a MemoryStore block holds the whole store, reads included
            for _ in range(20):
                await asyncio.sleep(0)
            assert not other.done()
        else:
            written = await asyncio.wait_for(other, timeout=30)
            assert written["seq"] == 0
    if backend == "memory":
        assert (await asyncio.wait_for(other, timeout=30))["seq"] == 0
