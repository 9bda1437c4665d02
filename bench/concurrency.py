"""Concurrent writers on one store: throughput, add_message latency, lost or duplicated writes.

N tasks share one SQLAlchemyStore and run a mixed load for a fixed number of
operations each: add_message (half of the calls), get_messages pages,
get_thread, save_checkpoint and list_threads. Afterwards every thread's
messages are read back and checked against what the tasks were told was
stored: a message missing or stored twice counts as lost or duplicated.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass

from threadstore import BaseStore

OPS_PER_TASK = 200


@dataclass(frozen=True)
class LoadResult:
    """One run of the mixed load."""

    tasks: int
    ops: int
    seconds: float
    add_p50_ms: float
    add_p99_ms: float
    lost: int
    duplicated: int

    @property
    def ops_per_second(self) -> float:
        return self.ops / self.seconds


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _worker(
    store: BaseStore, n: int, ops: int, added: list[str], latencies: list[float]
) -> None:
    rng = random.Random(n)
    thread_id = f"load-{n % 10}"
    for i in range(ops):
        choice = rng.random()
        if choice < 0.5:
            content = f"task {n} op {i}"
            started = time.perf_counter()
            await store.add_message(thread_id, "user", content, metadata={"task": n})
            latencies.append(time.perf_counter() - started)
            added.append(f"{thread_id}|{content}")
        elif choice < 0.7:
            await store.get_messages(thread_id, limit=50, newest_first=True)
        elif choice < 0.8:
            await store.get_thread(thread_id)
        elif choice < 0.9:
            await store.save_checkpoint(thread_id, "", f"cp-{n:03d}-{i:05d}", None, {"i": i}, {})
        else:
            await store.list_threads(limit=20)


async def mixed_load(store: BaseStore, tasks: int, ops: int = OPS_PER_TASK) -> LoadResult:
    """Run ``tasks`` concurrent workers; count what was lost or duplicated."""
    for n in range(10):
        if await store.get_thread(f"load-{n}") is None:
            await store.create_thread(f"load-{n}", "u", "load")
    before = {n: len(await store.get_messages(f"load-{n}", limit=1_000_000)) for n in range(10)}
    added: list[str] = []
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_worker(store, n, ops, added, latencies) for n in range(tasks)))
    seconds = time.perf_counter() - started
    stored: list[str] = []
    for n in range(10):
        messages = await store.get_messages(f"load-{n}", limit=1_000_000)
        stored += [f"load-{n}|{m['content']}" for m in messages[before[n] :]]
    expected = set(added)
    lost = len(expected - set(stored))
    duplicated = len(stored) - len(set(stored))
    return LoadResult(
        tasks,
        tasks * ops,
        seconds,
        statistics.median(latencies) * 1e3,
        _p(latencies, 0.99) * 1e3,
        lost,
        duplicated,
    )


def print_load(backend: str, results: list[LoadResult]) -> None:
    """A Markdown table of the load runs."""
    print(f"\n### {backend}: mixed load, one store, {OPS_PER_TASK} ops per task\n")
    print("| tasks | ops/s | add_message p50 (ms) | p99 (ms) | lost | duplicated |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.tasks} | {r.ops_per_second:.0f} | {r.add_p50_ms:.1f} | {r.add_p99_ms:.1f} | "
            f"{r.lost} | {r.duplicated} |"
        )
