"""Agentomatic 1.16's SQLAlchemyStore on the operations bench/run.py times for threadstore.

Runs in bench/.venv-agentomatic (``bash bench/agentomatic_env.sh``), where
threadstore is not installed, on a database of its own (its schema comes from
its ``initialize()``: ``create_all``). It seeds the same fixtures as
bench/hot_paths.py and bench/flat_cost.py (big threads inserted through its
tables in bulk, as threadstore's are loaded in batches), times each operation
in rounds and prints one JSON object: operation name -> ``{"us": median,
"self_reference_us": ...}``. The second value is set for the flat-cost rows,
whose ratio is Agentomatic against itself (deep against shallow); the other
rows are compared by bench/run.py with the raw driver's time of the same run.
Operations Agentomatic does not have (add_messages) are absent.

Usage: ``python bench/agentomatic_side.py URL [--rounds N] [--depth N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from agentomatic.storage.models import MessageModel, ThreadModel
from agentomatic.storage.sqlalchemy import SQLAlchemyStore
from loguru import logger
from sqlalchemy import insert

Op = Callable[[], Awaitable[object]]
PAGE_DEPTH, THREADS, LINEAGE = 2_000, 2_000, 50
"""The sizes of bench/hot_paths.py's fixtures."""


async def _median_us(op: Op, repeat: int, rounds: int) -> float:
    await op()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            await op()
        times.append((time.perf_counter() - started) / repeat)
    return statistics.median(times) * 1e6


async def _bulk_thread(store: SQLAlchemyStore, thread_id: str, count: int) -> None:
    """A thread with ``count`` messages, inserted through Agentomatic's tables in chunks."""
    start = datetime.now(UTC) - timedelta(days=1)
    async with store._session() as session:
        session.add(ThreadModel(id=thread_id, user_id="u", agent_name="a", message_count=count))
        await session.flush()
        for first in range(0, count, 5_000):
            rows = [
                {
                    "thread_id": thread_id,
                    "role": "user" if i % 2 == 0 else "assistant",
                    "content": "x" * 200 if i % 2 == 0 else "y" * 600,
                    "metadata_json": {"k": 1} if i % 2 == 0 else {},
                    "created_at": start + timedelta(microseconds=i),
                }
                for i in range(first, min(count, first + 5_000))
            ]
            await session.execute(insert(MessageModel), rows)
        await session.commit()


async def _hot_paths(store: SQLAlchemyStore, rounds: int) -> dict[str, dict[str, Any]]:
    await _bulk_thread(store, "a-page", PAGE_DEPTH)
    await store.create_thread("a-append", "u", "a")
    await store.create_thread("a-0", "u", "chain")
    await store.add_message("a-0", "user", "root")
    for depth in range(1, LINEAGE + 1):
        # An explicit title: its default ("Fork of Fork of ...") outgrows its
        # VARCHAR(256) title about 30 forks deep, which PostgreSQL refuses.
        await store.fork_thread(f"a-{depth - 1}", 0, f"a-{depth}", title=f"fork {depth}")
    for step in range(20):
        await store.save_checkpoint(
            "a-page", "", f"cp-{step:04d}", None, {"v": step, "c": ["x"] * 20}, {}
        )
    async with store._session() as session:
        session.add_all(
            ThreadModel(id=f"list-{n:05d}", user_id=f"user-{n % 10}", agent_name="l", title="t")
            for n in range(THREADS)
        )
        await session.commit()
    counter = itertools.count()

    async def save_checkpoint() -> object:
        step = next(counter)
        await store.save_checkpoint(
            "a-append", "", f"w-{step:08d}", None, {"v": step, "c": ["x"] * 20}, {"s": 1}
        )
        return None

    ops: list[tuple[str, Op, int]] = [
        ("create_thread", lambda: store.create_thread(f"new-{next(counter)}", "u", "a"), 20),
        ("get_thread", lambda: store.get_thread("a-page"), 50),
        ("add_message", lambda: store.add_message("a-append", "user", "hi", metadata={"k": 1}), 20),
        (
            "get_messages (keyset page of 50)",
            lambda: store.get_messages("a-page", limit=50, offset=1000),
            50,
        ),
        ("list_threads (page of 50)", lambda: store.list_threads(limit=50), 20),
        ("save_checkpoint", save_checkpoint, 20),
        ("get_checkpoint (latest)", lambda: store.get_checkpoint("a-page", "", ""), 50),
        (
            f"get_thread_lineage (depth {LINEAGE})",
            lambda: store.get_thread_lineage(f"a-{LINEAGE}"),
            20,
        ),
    ]
    found = {}
    for name, op, repeat in ops:
        found[name] = {"us": await _median_us(op, repeat, rounds), "self_reference_us": None}
        print(f"  agentomatic {name:<34} {found[name]['us']:9.0f} us", file=sys.stderr, flush=True)
    return found


async def _flat(store: SQLAlchemyStore, depth: int, rounds: int) -> dict[str, dict[str, Any]]:
    fork_size = max(1, depth // 10)
    await _bulk_thread(store, "a-deep", depth)
    await store.create_thread("a-fresh", "u", "a")
    counter = itertools.count()
    pairs: list[tuple[str, Op, Op | None, int]] = [
        (
            f"last keyset page @{depth:,} vs first",
            lambda: store.get_messages("a-deep", limit=50, offset=depth - 50),
            lambda: store.get_messages("a-deep", limit=50),
            10,
        ),
        (
            f"add_message @{depth:,} vs @0",
            lambda: store.add_message("a-deep", "user", "hello", metadata={"k": 1}),
            lambda: store.add_message("a-fresh", "user", "hello", metadata={"k": 1}),
            20,
        ),
        (
            f"fork_thread ({fork_size:,} messages)",
            lambda: store.fork_thread("a-deep", fork_size - 1, f"fork-{next(counter)}"),
            None,
            1,
        ),
    ]
    found: dict[str, dict[str, Any]] = {}
    for name, op, reference, repeat in pairs:
        found[name] = {
            "us": await _median_us(op, repeat, rounds),
            "self_reference_us": None
            if reference is None
            else await _median_us(reference, repeat, rounds),
        }
        print(f"  agentomatic {name:<34} {found[name]['us']:9.0f} us", file=sys.stderr, flush=True)
    deletes = []
    for n in range(max(3, rounds // 2)):
        await _bulk_thread(store, f"doomed-{n}", depth)
        started = time.perf_counter()
        await store.delete_thread(f"doomed-{n}")
        deletes.append(time.perf_counter() - started)
    name = f"delete_thread ({depth:,} messages)"
    found[name] = {"us": statistics.median(deletes) * 1e6, "self_reference_us": None}
    print(f"  agentomatic {name:<34} {found[name]['us']:9.0f} us", file=sys.stderr, flush=True)
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--depth", type=int, default=0, help="flat-cost depth (0: skip)")
    args = parser.parse_args()
    logger.remove()
    store = SQLAlchemyStore(args.url)
    await store.initialize()
    try:
        found = await _hot_paths(store, args.rounds)
        if args.depth:
            found |= await _flat(store, args.depth, args.rounds)
    finally:
        await store.close()
    print(json.dumps(found))


if __name__ == "__main__":
    asyncio.run(main())
