"""One-call units queue for the pool's ``pool_size`` connections; transactions may overflow.

A connection past ``pool_size`` is closed when it comes back to a pool that
holds ``pool_size`` idle ones, so calls that overflowed it under steady
concurrency opened and closed a connection every few calls.
"""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import event

from threadstore import SQLAlchemyStore


def _watch(store: SQLAlchemyStore) -> tuple[list[object], list[int]]:
    """Connections the pool opened, and the pool's checked-out count at each checkout."""
    made: list[object] = []
    out: list[int] = []
    pool = store.engine.pool
    sync = store.engine.sync_engine
    event.listen(sync, "connect", lambda conn, _record: made.append(conn))
    event.listen(pool, "checkout", lambda *_: out.append(pool.checkedout()))
    return made, out


async def test_concurrent_calls_open_no_connection_past_pool_size(db_url: str) -> None:
    store = SQLAlchemyStore(db_url, pool_size=2, max_overflow=6, pool_timeout=30)
    await store.initialize()
    try:
        for n in range(4):
            await store.create_thread(f"t{n}", "u", "a")
        made, out = _watch(store)
        rng = random.Random(7)
        added: list[str] = []

        async def call(i: int) -> None:
            thread_id = f"t{i % 4}"
            choice = rng.random()
            if choice < 0.5:
                await store.add_message(thread_id, "user", f"m{i}")
                added.append(f"m{i}")
            elif choice < 0.7:
                await store.get_messages(thread_id, limit=10)
            elif choice < 0.85:
                assert await store.get_thread(thread_id) is not None
            else:
                await store.list_threads(limit=5)

        for _ in range(3):
            await asyncio.gather(*(call(i) for i in range(60)))
        assert max(out) <= 2, out  # the pool never overflowed
        assert len(made) <= 2  # so no connection was opened and closed again
        stored = [m["content"] for n in range(4) for m in await store.get_messages(f"t{n}")]
        assert sorted(stored) == sorted(added)
        assert store.engine.pool.checkedout() <= 1  # at most the read lane's
    finally:
        await store.close()


async def test_transactions_may_still_take_the_overflow(db_url: str) -> None:
    store = SQLAlchemyStore(db_url, pool_size=1, max_overflow=2, pool_timeout=5)
    await store.initialize()
    try:
        await store.create_thread("t", "u", "a")
        all_open = asyncio.Event()
        opened: list[int] = []

        async def hold(i: int) -> None:
            async with store.transaction() as tx:
                assert await tx.get_thread("t") is not None
                opened.append(i)
                if len(opened) == 3:
                    all_open.set()
                await asyncio.wait_for(all_open.wait(), 5)

        await asyncio.gather(*(hold(i) for i in range(3)))  # three at once: one past pool_size
        assert sorted(opened) == [0, 1, 2]
        assert await store.get_thread("t") is not None
    finally:
        await store.close()
