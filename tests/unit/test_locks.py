"""LoopSemaphore / LoopLock: permits go to waiters in arrival order, across loops too."""

from __future__ import annotations

import asyncio
import threading

from threadstore.store.locks import LoopLock, LoopSemaphore


async def test_waiters_get_permits_in_arrival_order() -> None:
    gate = LoopSemaphore(2)
    assert gate.try_acquire()
    assert gate.try_acquire()
    order: list[int] = []

    async def wait(i: int) -> None:
        await gate.acquire()
        order.append(i)
        await asyncio.sleep(0)
        gate.release()

    tasks = [asyncio.create_task(wait(i)) for i in range(6)]
    await asyncio.sleep(0)  # every task is queued now
    gate.release()
    assert not gate.try_acquire(), "a newcomer took a permit owed to a waiter"
    gate.release()
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert gate.try_acquire()
    assert gate.try_acquire()
    assert not gate.try_acquire()


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    lock = LoopLock()
    await lock.acquire()
    got: list[str] = []

    async def wait(name: str) -> None:
        await lock.acquire()
        got.append(name)
        lock.release()

    first = asyncio.create_task(wait("first"))
    second = asyncio.create_task(wait("second"))
    await asyncio.sleep(0)
    first.cancel()
    lock.release()
    await asyncio.gather(first, second, return_exceptions=True)
    assert got == ["second"]
    assert not lock.locked()


def test_a_permit_crosses_event_loops() -> None:
    gate = LoopSemaphore(1)
    assert gate.try_acquire()
    got = threading.Event()

    def other_loop() -> None:
        async def main() -> None:
            await gate.acquire()
            got.set()
            gate.release()

        asyncio.run(main())

    thread = threading.Thread(target=other_loop)
    thread.start()
    while not gate._waiters:  # the other loop's task is queued
        threading.Event().wait(0.001)
    gate.release()
    thread.join(timeout=30)
    assert got.is_set()
    assert gate.try_acquire()
