"""Flat cost as data grows (issue 12, item 5): deep threads cost what shallow ones do.

On one SQL store (SQLite file or PostgreSQL) it compares:

- add_message to a thread ``depth`` messages deep against a fresh thread;
- the last 50-message keyset page of that thread against its first page;
- fork_thread of ``depth // 10`` messages against a hand-written
  ``INSERT ... SELECT`` on the raw driver (the same transaction);
- delete_thread of a ``depth``-message thread against a hand-written delete.

Big threads are loaded with ``add_messages`` in batches of 1,000 and copied
with the store's own fork (one set-based statement), never message by message.
:func:`memory_ratio` fills a MemoryStore with ``depth * 10`` messages and
compares the memory it holds (tracemalloc) with the raw size of their content.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.harness import Case, Row, measure
from bench.rawdb import RawDB
from threadstore import BaseStore, MemoryStore

DEPTH = 100_000
"""Messages in the deep thread; forks copy a tenth, the MemoryStore holds ten times."""
BATCH = 1_000
"""Messages per add_messages call while loading."""
_FILLER = [
    {"role": "user", "content": "x" * 200, "metadata": {"k": 1}},
    {"role": "assistant", "content": "y" * 600, "metadata": {}},
]


async def _load(store: BaseStore, thread_id: str, count: int) -> None:
    await store.create_thread(thread_id, "u", "flat")
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        await store.add_messages(thread_id, [_FILLER[i % 2] for i in range(size)])


def _stamp(raw: RawDB) -> object:
    return raw.stamp(datetime.now(UTC))


async def _raw_fork(raw: RawDB, parent: str, index: int, new_id: str) -> None:
    """fork_thread by hand: read the parent, insert the thread, copy by INSERT ... SELECT."""
    now = _stamp(raw)
    await raw.begin_write()
    rows = await raw.fetch(
        "SELECT user_id, agent_name, title, metadata FROM threadstore_threads WHERE id = ?",
        parent,
    )
    user_id, agent_name, title, metadata = rows[0]
    await raw.execute(
        "INSERT INTO threadstore_threads (id, user_id, agent_name, title, metadata, created_at, "
        "updated_at, message_count, parent_thread_id, fork_message_index, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        new_id,
        user_id,
        agent_name,
        title,
        metadata if isinstance(metadata, str) else json.dumps(metadata),
        now,
        now,
        index + 1,
        parent,
        index,
    )
    await raw.execute(
        "INSERT INTO threadstore_messages (thread_id, seq, role, content, metadata, timestamp) "
        "SELECT ?, seq, role, content, metadata, timestamp FROM threadstore_messages "
        "WHERE thread_id = ? AND seq <= ?",
        new_id,
        parent,
        index,
    )
    await raw.commit()


async def _raw_delete(raw: RawDB, thread_id: str) -> None:
    """delete_thread by hand: what names the thread without a foreign key, then the thread."""
    await raw.begin_write()
    for table in ("tool_calls", "checkpoint_writes", "checkpoints", "messages"):
        await raw.execute(f"DELETE FROM threadstore_{table} WHERE thread_id = ?", thread_id)
    await raw.execute("DELETE FROM threadstore_threads WHERE id = ?", thread_id)
    await raw.commit()


async def _prepared_rounds(
    prepare: Callable[[str], Awaitable[None]],
    ours: Callable[[str], Awaitable[object]],
    reference: Callable[[str], Awaitable[object]],
    rounds: int,
) -> tuple[float, float]:
    """Medians of ``ours`` and ``reference``, each timed once per round on a fresh target."""
    counter = itertools.count()
    mine, theirs = [], []
    for _ in range(rounds):
        for side, op, times in (("ours", ours, mine), ("raw", reference, theirs)):
            target = f"flat-{side}-{next(counter)}"
            await prepare(target)
            started = time.perf_counter()
            await op(target)
            times.append(time.perf_counter() - started)
    return statistics.median(mine) * 1e6, statistics.median(theirs) * 1e6


async def bench(backend: str, store: BaseStore, raw: RawDB, depth: int, rounds: int) -> list[Row]:
    """The four flat-cost rows of one SQL backend."""
    deep, fresh, fork_size = "flat-deep", "flat-fresh", max(1, depth // 10)
    print(f"  loading a {depth:,}-message thread", flush=True)
    await _load(store, deep, depth)
    await store.create_thread(fresh, "u", "flat")
    forks = itertools.count()

    async def raw_fork() -> object:
        await _raw_fork(raw, deep, fork_size - 1, f"flat-raw-fork-{next(forks)}")
        return None

    async def ours_fork() -> object:
        return await store.fork_thread(deep, fork_size - 1, f"flat-ours-fork-{next(forks)}")

    cases = [
        Case(
            f"last keyset page @{depth:,} vs first",
            lambda: store.get_messages(deep, limit=50, after_seq=depth - 51),
            lambda: store.get_messages(deep, limit=50),
            10,
        ),
        Case(
            f"add_message @{depth:,} vs @0",
            lambda: store.add_message(deep, "user", "hello", metadata={"k": 1}),
            lambda: store.add_message(fresh, "user", "hello", metadata={"k": 1}),
            5,
        ),
        Case(f"fork_thread ({fork_size:,} messages)", ours_fork, raw_fork, 1),
    ]
    references = ["first page", "depth 0", f"{raw.name} INSERT..SELECT"]
    rows = []
    # Short rounds, three times as many: a burst of load from elsewhere on the
    # machine then spoils a few rounds of either side, not the medians.
    for case, reference in zip(cases, references, strict=True):
        rows.extend(await measure(backend, reference, [case], max(9, rounds * 3)))

    async def prepare(thread_id: str) -> None:
        await store.fork_thread(deep, depth - 1, thread_id)

    ours_us, raw_us = await _prepared_rounds(
        prepare, store.delete_thread, lambda t: _raw_delete(raw, t), max(3, rounds // 2)
    )
    row = Row(backend, f"delete_thread ({depth:,} messages)", ours_us, raw_us, f"{raw.name} DELETE")
    print(
        f"  {row.operation:<34} threadstore {ours_us:9.0f} us   {row.reference} "
        f"{raw_us:9.0f} us   ratio {row.ratio:5.2f}",
        flush=True,
    )
    return [*rows, row]


_SIZES = (60, 200, 400, 1_200)
"""Content lengths the memory measurement cycles through (mean 465 characters)."""


def _message(i: int) -> dict[str, object]:
    text = f"message {i}: " + "the quick brown fox jumps over the lazy dog " * 30
    return {
        "role": "user" if i % 2 == 0 else "assistant",
        "content": text[: _SIZES[i % len(_SIZES)]],
        "metadata": {"tokens": i} if i % 4 == 0 else {},
    }


def _raw_size(message: dict[str, object]) -> int:
    return sum(
        len((value if isinstance(value, str) else json.dumps(value)).encode())
        for value in (message["role"], message["content"], message["metadata"])
    )


@dataclass(frozen=True)
class MemoryResult:
    """What a MemoryStore holding ``messages`` messages allocated, against their raw size."""

    messages: int
    stored_bytes: int
    raw_bytes: int
    seconds: float

    @property
    def ratio(self) -> float:
        return self.stored_bytes / self.raw_bytes


async def memory_ratio(messages: int, per_thread: int = 1_000, batch: int = 20) -> MemoryResult:
    """Fill a MemoryStore in batches of ``batch`` (an agent turn); measure with tracemalloc.

    The raw size is the UTF-8 bytes of each message's role, content and
    metadata (as JSON): what the caller handed in. tracemalloc counts every
    Python allocation still alive after loading (records, indexes, strings).
    """
    store = MemoryStore()
    await store.initialize()
    raw_bytes, n = 0, 0
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    before = tracemalloc.get_traced_memory()[0]
    for thread in range(max(1, messages // per_thread)):
        thread_id = f"mem-{thread}"
        await store.create_thread(thread_id, "u", "flat")
        for _ in range(per_thread // batch):
            items = [_message(n + k) for k in range(batch)]
            n += batch
            raw_bytes += sum(_raw_size(m) for m in items)
            await store.add_messages(thread_id, items)
        await asyncio.sleep(0)
    gc.collect()
    stored = tracemalloc.get_traced_memory()[0] - before
    seconds = time.perf_counter() - started
    tracemalloc.stop()
    return MemoryResult(n, stored, raw_bytes, seconds)
