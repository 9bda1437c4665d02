"""One store called from several event loops and threads, as threaded servers do."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from tests.conftest import StoreFactory
from threadstore import BaseStore

THREADS = 3
MESSAGES = 20


def _in_threads(store: BaseStore, work: int) -> list[BaseException]:
    """Run ``work`` appends per thread, each thread with its own event loop."""

    def appends(n: int) -> Callable[[], Coroutine[Any, Any, None]]:
        async def append() -> None:
            for i in range(work):
                await store.add_message("t1", "user", f"{n}-{i}")
            async with store.transaction() as tx:
                await tx.add_message("t1", "user", f"{n}-tx")
                await tx.save_context_item(f"k{n}", n)

        return append

    return _each_in_a_thread([appends(n) for n in range(THREADS)])


async def test_threads_with_their_own_loops_write_through_one_store(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    errors = await asyncio.to_thread(_in_threads, store, MESSAGES)
    assert errors == []
    messages = await store.get_messages("t1", limit=1000)
    assert [m["seq"] for m in messages] == list(range(THREADS * (MESSAGES + 1)))
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == THREADS * (MESSAGES + 1)
    assert len(await store.get_all_context_items()) == THREADS
    await store.close()


def test_asyncio_run_per_request_on_one_store(store_factory: StoreFactory) -> None:
    store = store_factory()
    asyncio.run(store.initialize())
    asyncio.run(store.create_thread("t1", "alice", "helper"))
    for i in range(3):
        message = asyncio.run(store.add_message("t1", "user", str(i)))
        assert message["seq"] == i
    assert len(asyncio.run(store.get_messages("t1"))) == 3
    asyncio.run(store.close())


def _each_in_a_thread(jobs: list[Callable[[], Coroutine[Any, Any, None]]]) -> list[BaseException]:
    """Run each job with ``asyncio.run`` in a thread of its own, all starting together."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            start.wait()
            asyncio.run(job())
        except BaseException as exc:  # reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors


async def test_pops_from_threads_with_their_own_loops_are_distinct(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.add_messages("t1", [{"role": "user", "content": str(i)} for i in range(40)])
    popped: list[int] = []

    async def pop_ten() -> None:
        for _ in range(10):
            message = await store.pop_message("t1")
            if message is not None:
                popped.append(int(message["content"]))

    errors = await asyncio.to_thread(_each_in_a_thread, [pop_ten] * 4)
    assert errors == []
    assert sorted(popped) == list(range(40))
    assert await store.get_messages("t1") == []
    await store.close()
