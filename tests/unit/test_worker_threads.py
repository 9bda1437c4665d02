"""The SQLite engine's worker threads (``threadstore.store.sql.worker_threads``)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from threadstore.store.sql.worker_threads import WorkerThreads

WAIT = 10.0
"""Seconds a test waits for a thread before failing instead of hanging."""


def _workers(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(name)]


async def test_results_and_errors_reach_the_caller() -> None:
    workers = WorkerThreads(2, "wt-results")
    assert await workers.run(lambda a, b: a + b, 2, 3) == 5
    assert await workers.run(threading.get_ident) != threading.get_ident()

    def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await workers.run(fail)

    def stop() -> None:
        raise StopIteration

    with pytest.raises(RuntimeError, match="StopIteration"):  # not raisable into a future
        await workers.run(stop)
    workers.shutdown()


async def test_threads_start_while_every_thread_is_busy_up_to_the_bound() -> None:
    """Calls that wait on each other all get a thread (SQLite writers wait on locks)."""
    workers = WorkerThreads(6, "wt-grow")
    barrier = threading.Barrier(6, timeout=WAIT)
    results = await asyncio.gather(*(workers.run(barrier.wait) for _ in range(6)))
    assert sorted(results) == list(range(6))
    assert workers.started == 6
    await asyncio.gather(*(workers.run(time.sleep, 0) for _ in range(20)))
    assert workers.started == 6  # never more than the bound
    workers.shutdown()


async def test_idle_threads_are_reused() -> None:
    workers = WorkerThreads(8, "wt-reuse")
    for _ in range(50):
        await workers.run(time.sleep, 0)
    assert workers.started == 1
    workers.shutdown()


async def test_a_call_cancelled_before_a_thread_took_it_never_runs() -> None:
    workers = WorkerThreads(1, "wt-cancel")
    release = threading.Event()
    ran: list[str] = []
    first = asyncio.create_task(workers.run(release.wait, WAIT))
    second = asyncio.create_task(workers.run(ran.append, "second"))
    await asyncio.sleep(0.05)  # both queued; the only thread is busy with the first
    second.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await first is True
    with pytest.raises(asyncio.CancelledError):
        await second
    assert await workers.run(ran.append, "third") is None
    assert ran == ["third"]
    workers.shutdown()


async def test_a_running_call_finishes_after_its_caller_was_cancelled() -> None:
    workers = WorkerThreads(1, "wt-running")
    started, release = threading.Event(), threading.Event()
    done: list[bool] = []

    def work() -> None:
        started.set()
        release.wait(WAIT)
        done.append(True)

    task = asyncio.create_task(workers.run(work))
    assert await asyncio.to_thread(started.wait, WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await workers.run(time.sleep, 0)  # queued behind it on the one thread
    assert done == [True]
    workers.shutdown()


async def test_shutdown_runs_what_is_queued_then_refuses_new_calls() -> None:
    workers = WorkerThreads(1, "wt-shutdown")
    release = threading.Event()
    first = asyncio.create_task(workers.run(release.wait, WAIT))
    queued = asyncio.create_task(workers.run(lambda: "queued"))
    await asyncio.sleep(0.05)
    workers.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        await workers.run(time.sleep, 0)
    release.set()
    assert await first is True
    assert await queued == "queued"
    for thread in _workers("wt-shutdown"):
        thread.join(WAIT)
        assert not thread.is_alive()


def test_calls_from_several_event_loops_resolve_on_their_own_loop() -> None:
    workers = WorkerThreads(4, "wt-loops")
    found: dict[int, list[int]] = {}

    async def calls(n: int) -> list[int]:
        return [await workers.run(lambda i=i: i * n) for i in range(20)]

    def in_own_loop(n: int) -> None:
        found[n] = asyncio.run(calls(n))

    threads = [threading.Thread(target=in_own_loop, args=(n,)) for n in range(1, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert found == {n: [i * n for i in range(20)] for n in range(1, 4)}
    workers.shutdown()


async def test_collected_pool_stops_its_threads() -> None:
    workers = WorkerThreads(3, "wt-collected")
    barrier = threading.Barrier(3, timeout=WAIT)
    await asyncio.gather(*(workers.run(barrier.wait) for _ in range(3)))
    threads = _workers("wt-collected")
    assert len(threads) == 3
    del workers
    gc.collect()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkerThreads(0, "wt-none")
