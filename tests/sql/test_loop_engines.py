"""The home engine's pool changes loops safely (PostgreSQL: asyncpg connections are loop-bound)."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import asyncpg
from sqlalchemy import event

from threadstore import SQLAlchemyStore


def _open_asyncpg_connections() -> int:
    gc.collect()
    return sum(
        1 for o in gc.get_objects() if isinstance(o, asyncpg.Connection) and not o.is_closed()
    )


def test_a_loop_arriving_while_the_old_home_disposes_leaks_no_connection(
    postgres_url_fresh: str,
) -> None:
    """Another loop's call while the home loop's pool is being disposed.

    The home loop (thread A) ends; its pool's disposal is held inside
    closing a connection while thread B calls with its own loop. B must not
    take a connection from the pool being disposed: nothing would close it.
    """
    baseline = _open_asyncpg_connections()
    store = SQLAlchemyStore(postgres_url_fresh)
    pool = store.engine.sync_engine.pool
    closing, release = threading.Event(), threading.Event()
    a_thread: list[threading.Thread] = []

    def hold(dbapi_connection: Any, record: Any) -> None:
        if a_thread and threading.current_thread() is a_thread[0] and not closing.is_set():
            closing.set()
            release.wait(30)

    event.listen(pool, "close", hold)
    errors: list[BaseException] = []

    def home() -> None:
        try:
            asyncio.run(store.create_thread("t1", "alice", "helper"))  # ends: pool disposed
        except BaseException as exc:  # reported below
            errors.append(exc)

    async def write_while_a_finishes() -> None:
        async with store.transaction() as tx:
            await tx.add_message("t1", "user", "from B")
            release.set()
            await asyncio.to_thread(a_thread[0].join, 30)

    def other() -> None:
        try:
            assert closing.wait(30), "the home loop never disposed its pool"
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(write_while_a_finishes())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            release.set()

    a_thread.append(threading.Thread(target=home))
    b = threading.Thread(target=other)
    a_thread[0].start()
    b.start()
    a_thread[0].join(60)
    b.join(60)
    assert errors == []
    assert len(asyncio.run(store.get_messages("t1"))) == 1
    asyncio.run(store.close())
    assert _open_asyncpg_connections() == baseline
