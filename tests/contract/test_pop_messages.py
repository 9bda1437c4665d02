"""pop_message and clear_messages: atomic removal from the end, seqs stay gap-free."""

from __future__ import annotations

import asyncio

import pytest

from threadstore import BaseStore, ValidationError

POPS = 40


async def _thread_with(store: BaseStore, count: int, thread_id: str = "t1") -> None:
    await store.create_thread(thread_id, "alice", "helper")
    if count:
        batch = [
            {"role": "user", "content": f"m{i}", "idempotency_key": f"k{i}"} for i in range(count)
        ]
        await store.add_messages(thread_id, batch)


async def _count(store: BaseStore, thread_id: str = "t1") -> int:
    thread = await store.get_thread(thread_id)
    assert thread is not None
    return thread["message_count"]


async def test_pop_returns_the_last_message_and_frees_its_seq(store: BaseStore) -> None:
    await _thread_with(store, 3)
    popped = await store.pop_message("t1")
    assert popped is not None
    assert (popped["seq"], popped["content"]) == (2, "m2")
    assert [m["content"] for m in await store.get_messages("t1")] == ["m0", "m1"]
    assert await _count(store) == 2
    again = await store.add_message("t1", "user", "new", idempotency_key="k2")
    assert (again["seq"], again["content"]) == (2, "new")


async def test_pop_of_an_empty_or_unknown_thread_is_none(store: BaseStore) -> None:
    await _thread_with(store, 0)
    assert await store.pop_message("t1") is None
    assert await store.pop_message("nope") is None
    assert await _count(store) == 0
    with pytest.raises(ValidationError):
        await store.pop_message("")


async def test_concurrent_pops_take_distinct_messages(store: BaseStore) -> None:
    await _thread_with(store, POPS)
    popped = await asyncio.gather(*(store.pop_message("t1") for _ in range(POPS + 5)))
    taken = [m["seq"] for m in popped if m is not None]
    assert sorted(taken) == list(range(POPS))
    assert popped.count(None) == 5
    assert await store.get_messages("t1") == []
    assert await _count(store) == 0


async def test_pops_racing_appends_keep_count_and_seqs_exact(store: BaseStore) -> None:
    await _thread_with(store, 10)

    async def append(i: int) -> None:
        await store.add_message("t1", "user", f"a{i}")

    calls = [append(i) for i in range(10)] + [store.pop_message("t1") for _ in range(10)]
    await asyncio.gather(*calls)
    messages = await store.get_messages("t1", limit=1000)
    assert [m["seq"] for m in messages] == list(range(len(messages)))
    assert await _count(store) == len(messages) == 10


async def test_clear_messages_keeps_the_thread(store: BaseStore) -> None:
    await _thread_with(store, 4)
    assert await store.clear_messages("t1") == 4
    assert await store.clear_messages("t1") == 0
    assert await store.clear_messages("nope") == 0
    assert await store.get_messages("t1") == []
    assert await _count(store) == 0
    first = await store.add_message("t1", "user", "again", idempotency_key="k0")
    assert (first["seq"], first["content"]) == (0, "again")


async def test_a_rolled_back_pop_leaves_the_message(store: BaseStore) -> None:
    await _thread_with(store, 2)

    async def pop_then_fail() -> None:
        async with store.transaction() as tx:
            assert (await tx.pop_message("t1") or {}).get("seq") == 1
            assert await tx.clear_messages("t1") == 1
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        await pop_then_fail()
    assert [m["content"] for m in await store.get_messages("t1")] == ["m0", "m1"]
    assert await _count(store) == 2


async def test_a_user_view_pops_only_its_own_threads(store: BaseStore) -> None:
    await _thread_with(store, 2)
    bob = store.for_user("bob")
    assert await bob.pop_message("t1") is None
    assert await bob.clear_messages("t1") == 0
    assert await _count(store) == 2
    alice = store.for_user("alice")
    assert (await alice.pop_message("t1") or {}).get("content") == "m1"
