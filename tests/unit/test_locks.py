"""LoopSemaphore / LoopLock: permits go to waiters in arrival order, across loops too."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

from threadstore.store.locks import LoopLock, LoopSemaphore, TaskLock


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


async def test_task_lock_goes_to_waiters_in_arrival_order() -> None:
    lock = TaskLock()
    await lock.acquire()
    order: list[int] = []

    async def wait(i: int) -> None:
        async with lock:
            order.append(i)
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(wait(i)) for i in range(5)]
    await asyncio.sleep(0)  # all queued
    lock.release()
    newcomer = asyncio.create_task(wait(99))  # arrives after the handover: waits its turn
    await asyncio.gather(*tasks, newcomer)
    assert order == [0, 1, 2, 3, 4, 99]
    assert not lock.locked()


async def test_task_lock_skips_a_waiter_cancelled_in_the_queue() -> None:
    lock = TaskLock()
    await lock.acquire()
    gone = asyncio.create_task(lock.acquire())
    after = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    lock.release()
    await asyncio.wait_for(after, 1)
    assert lock.locked()
    lock.release()
    assert not lock.locked()


async def test_task_lock_handed_to_a_cancelled_waiter_passes_it_on() -> None:
    lock = TaskLock()
    await lock.acquire()
    first = asyncio.create_task(lock.acquire())
    second = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    lock.release()  # ownership goes to `first`...
    first.cancel()  # ...which is cancelled before it runs
    await asyncio.sleep(0)
    assert first.cancelled()
    await asyncio.wait_for(second, 1)  # the lock reached the next waiter
    lock.release()
    assert not lock.locked()


def test_task_lock_keeps_no_loop_alive() -> None:
    lock = TaskLock()

    async def contend() -> None:
        await lock.acquire()
        waiter = asyncio.create_task(lock.acquire())
        await asyncio.sleep(0)
        lock.release()
        await waiter
        lock.release()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(contend())
    ref = weakref.ref(loop)
    loop.close()
    del loop
    gc.collect()
    assert ref() is None
    assert not lock.locked()
