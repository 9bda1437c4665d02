"""The read lane: one connection kept between one-call reads, never in anyone's way."""

from __future__ import annotations

import asyncio
import gc
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from tests.faults.conftest import eventually, raw_connect
from threadstore import SQLAlchemyStore


def _open_asyncpg_connections() -> int:
    gc.collect()
    return sum(
        1 for o in gc.get_objects() if isinstance(o, asyncpg.Connection) and not o.is_closed()
    )


def _store(url: str, **options: Any) -> tuple[SQLAlchemyStore, str]:
    app = f"threadstore-lane-{uuid.uuid4().hex[:8]}"
    if url.startswith("postgresql"):
        options["connect_args"] = {"server_settings": {"application_name": app}}
    return SQLAlchemyStore(url, **options), app


def _connections_made(store: SQLAlchemyStore) -> list[object]:
    made: list[object] = []
    event.listen(store.engine.sync_engine, "connect", lambda conn, _record: made.append(conn))
    return made


async def test_one_call_reads_share_one_connection_until_close(db_url: str) -> None:
    baseline = _open_asyncpg_connections()
    store, _ = _store(db_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    made = _connections_made(store)
    pool = store.engine.pool
    for _ in range(20):
        assert (await store.get_thread("t1")) is not None
        assert pool.checkedout() == 1  # kept by the lane, not returned
    assert len(await store.get_messages("t1")) == 0
    assert len(made) <= 1
    await store.close()
    assert pool.checkedout() == 0
    assert _open_asyncpg_connections() == baseline


async def test_a_writer_takes_the_lanes_connection_when_the_pool_is_full(db_url: str) -> None:
    store, _ = _store(db_url, pool_size=2, max_overflow=0, pool_timeout=2)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "alice", "helper")
    await store.get_thread("t1")  # the lane now holds one of the two connections
    async with store.transaction() as tx:  # holds the other
        await tx.add_message("t1", "user", "in a block")

        async def beside() -> object:
            async with store.transaction() as other:  # a block never uses the lane itself
                return await other.get_thread("t2")

        # without the lane handing its connection over this would wait
        # pool_timeout and fail with PoolExhaustedError
        assert await asyncio.wait_for(beside(), 5) is not None
    assert [m["content"] for m in await store.get_messages("t1")] == ["in a block"]
    await store.close()


async def test_a_write_after_reads_takes_the_lanes_connection_rather_than_a_new_one(
    db_url: str,
) -> None:
    store, _ = _store(db_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    made = _connections_made(store)
    for i in range(5):
        await store.get_thread("t1")  # kept by the lane
        await store.add_message("t1", "user", f"m{i}")  # the pool has none idle: the lane's
    assert made == []
    # SQLite's append ran on the driver and kept it; PostgreSQL's switched it to
    # autocommit, so it went back to the pool
    assert store.engine.pool.checkedout() == (1 if db_url.startswith("sqlite") else 0)
    assert len(await store.get_messages("t1")) == 5
    await store.close()


async def test_writes_on_the_driver_share_the_lane_and_release_the_lock(db_url: str) -> None:
    """create_thread, save_checkpoint and add_message run on the driver; the lane keeps
    their connection as it found it, and SQLite's write lock is released each time."""
    store, _ = _store(db_url)
    await store.initialize()
    await store.get_thread("missing")
    made = _connections_made(store)
    for i in range(5):
        await asyncio.wait_for(store.create_thread(f"t{i}", "alice", "helper"), 10)
        await asyncio.wait_for(store.save_checkpoint(f"t{i}", "", "c1", None, {"i": i}, {}), 10)
        if db_url.startswith("sqlite"):  # a driver transaction of its own
            await asyncio.wait_for(store.add_message(f"t{i}", "user", "hi"), 10)
        assert store.engine.pool.checkedout() == 1  # kept by the lane
    assert made == []
    async with store.transaction() as tx:  # a block still gets a connection of its own
        assert await tx.get_thread("t4") is not None
    saved = await store.get_checkpoint("t3", "", "c1")
    assert saved is not None
    assert saved["checkpoint"] == {"i": 3}
    await store.close()
    assert store.engine.pool.checkedout() == 0


async def test_a_disposed_engine_does_not_get_the_lanes_connection_back(db_url: str) -> None:
    store, _ = _store(db_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.get_thread("t1")  # the lane holds a connection of the pool
    await store.engine.dispose()  # a new pool: every connection from now on is new
    made = _connections_made(store)
    assert await store.get_thread("t1") is not None
    assert len(made) == 1
    await store.close()


@pytest.mark.postgres
async def test_a_lane_connection_the_server_closed_is_replaced(postgres_url_fresh: str) -> None:
    store, app = _store(postgres_url_fresh)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.get_thread("t1")
    admin = await raw_connect(postgres_url_fresh)
    killed = await admin.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
        app,
    )
    assert killed == 1
    await admin.close()
    lane = store._engines.lane(store.engine)
    assert lane is not None

    async def noticed() -> bool:
        idle = lane._idle
        return idle is not None and idle.sync_connection.connection.driver_connection.is_closed()

    await eventually(noticed)
    thread = await store.get_thread("t1")  # no PersistenceConnectionError: replaced first
    assert thread is not None
    await store.close()


async def test_no_lane_while_statements_are_watched(db_url: str) -> None:
    store, _ = _store(db_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    seen: list[str] = []
    event.listen(
        store.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: seen.append(statement),
    )
    await store.get_thread("t1")
    assert store.engine.pool.checkedout() == 0  # SQLAlchemy's path gives it back
    assert any("threadstore_threads" in s for s in seen)
    await store.close()


@pytest.mark.postgres
async def test_no_lane_on_an_engine_passed_in(postgres_url_fresh: str) -> None:
    engine = create_async_engine(postgres_url_fresh)
    store = SQLAlchemyStore(engine=engine)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.get_thread("t1")
    assert engine.pool.checkedout() == 0  # others using the engine find it in the pool
    await store.close()
    await engine.dispose()


@pytest.mark.postgres
def test_the_lane_is_given_back_when_its_loop_ends(postgres_url_fresh: str) -> None:
    baseline = _open_asyncpg_connections()
    store, _ = _store(postgres_url_fresh)
    asyncio.run(store.initialize())
    asyncio.run(store.create_thread("t1", "alice", "helper"))
    for _ in range(3):  # each loop ends with the lane holding a connection
        assert asyncio.run(store.get_thread("t1")) is not None
    assert store.engine.pool.checkedout() == 0
    asyncio.run(store.close())
    assert _open_asyncpg_connections() == baseline
