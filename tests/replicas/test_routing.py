"""Read replicas on a real streaming standby: routing, read-your-writes, lag bound, failover."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.replicas.conftest import (
    Pair,
    Server,
    fresh_pair,
    set_replay,
    start_standby,
    wait_replayed,
)
from threadstore import SQLAlchemyStore, create_store
from threadstore.errors import ValidationError


@pytest.fixture
async def paused(pair: Pair) -> AsyncIterator[Pair]:
    """The pair with replay paused on the standby (resumed afterwards)."""
    await set_replay(pair.standby_url, paused=True)
    try:
        yield pair
    finally:
        await set_replay(pair.standby_url, paused=False)


async def _seeded(pair: Pair) -> tuple[SQLAlchemyStore, SQLAlchemyStore]:
    """A store reading from the standby and a writer on the primary only, one thread replayed."""
    reader = SQLAlchemyStore(pair.primary_url, read_replicas=[pair.standby_url])
    writer = SQLAlchemyStore(pair.primary_url)
    await writer.initialize()
    await reader.initialize()
    await writer.create_thread("t", "u", "agent")
    await wait_replayed(pair.primary_url, pair.standby_url)
    return reader, writer


async def test_lag_tolerant_reads_go_to_the_replica(pair: Pair) -> None:
    reader, writer = await _seeded(pair)
    try:
        await set_replay(pair.standby_url, paused=True)
        try:
            await writer.add_message("t", "user", "written while replay is paused")
            # the standby has not replayed it: these three reads were served there
            assert await reader.get_messages("t") == []
            assert (await reader.get_stats())["messages"] == 0
            assert [t["message_count"] for t in await reader.list_threads()] == [0]
            # reads that must be current, and everything in a transaction, use the primary
            assert (await reader.get_thread("t") or {}).get("message_count") == 1
            async with reader.transaction() as tx:
                assert len(await tx.get_messages("t")) == 1
                assert (await tx.get_stats())["messages"] == 1
        finally:
            await set_replay(pair.standby_url, paused=False)
        await wait_replayed(pair.primary_url, pair.standby_url)
        assert len(await reader.get_messages("t")) == 1
    finally:
        await reader.close()
        await writer.close()


async def test_a_store_reads_its_own_writes_while_the_replica_is_behind(pair: Pair) -> None:
    reader, writer = await _seeded(pair)
    try:
        await set_replay(pair.standby_url, paused=True)
        try:
            await writer.add_message("t", "user", "someone else's")
            assert await reader.get_messages("t") == []  # stale: the replica answers
            await reader.add_message("t", "assistant", "mine")
            # the replica has not replayed this store's write: the primary answers
            contents = [m["content"] for m in await reader.get_messages("t")]
            assert contents == ["someone else's", "mine"]
            assert (await reader.get_stats())["messages"] == 2
            assert [t["message_count"] for t in await reader.list_threads()] == [2]
            async with reader.transaction() as tx:
                await tx.add_message("t", "assistant", "in a block")
            assert len(await reader.get_messages("t")) == 3
            health = await reader.health_check()
            assert health["status"] == "healthy"
            [replica] = health["replicas"]
            assert (replica["state"], replica["caught_up"]) == ("streaming", False)
            assert make_url(replica["url"]).port == make_url(pair.standby_url).port
        finally:
            await set_replay(pair.standby_url, paused=False)
        await wait_replayed(pair.primary_url, pair.standby_url)
        [replica] = (await reader.health_check())["replicas"]
        assert (replica["state"], replica["caught_up"], replica["lag_seconds"]) == (
            "streaming",
            True,
            0.0,
        )
    finally:
        await reader.close()
        await writer.close()


async def test_a_replica_past_the_lag_bound_is_skipped(
    paused: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    reader = SQLAlchemyStore(
        paused.primary_url, read_replicas=[paused.standby_url], replica_max_lag=0
    )
    writer = SQLAlchemyStore(paused.primary_url)
    try:
        await writer.create_thread("t", "u", "agent")
        await writer.add_message("t", "user", "hello")
        await _wait_received(paused)
        with caplog.at_level(logging.WARNING, logger="threadstore"):
            assert len(await reader.get_messages("t")) == 1  # the primary, fresh
            assert len(await reader.get_messages("t")) == 1
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # once, when it starts being skipped
        assert "behind" in warnings[0]
        assert str(make_url(paused.standby_url).port) in warnings[0]
        [replica] = (await reader.health_check())["replicas"]
        assert replica["state"] == "lagging"
        assert replica["lag_seconds"] is not None
        assert replica["lag_seconds"] > 0
    finally:
        await reader.close()
        await writer.close()


async def _wait_received(pair: Pair) -> None:
    """Wait until the paused standby has received WAL it has not replayed."""
    import asyncio

    raw = make_url(pair.standby_url).set(drivername="postgresql").render_as_string(False)
    for _ in range(3000):
        conn = await asyncpg.connect(raw)
        try:
            if await conn.fetchval("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"):
                return
        finally:
            await conn.close()
        await asyncio.sleep(0.02)
    pytest.fail("the standby received nothing")


async def test_reads_fail_over_to_the_primary_when_the_standby_stops(
    primary: Server, caplog: pytest.LogCaptureFixture
) -> None:
    own = start_standby(primary)
    try:
        async for pair in fresh_pair(primary, own):
            store = SQLAlchemyStore(pair.primary_url, read_replicas=[pair.standby_url])
            try:
                await store.create_thread("t", "u", "agent")
                await store.add_message("t", "user", "before")
                await wait_replayed(pair.primary_url, pair.standby_url)
                assert len(await store.get_messages("t")) == 1
                own.stop()
                await store.add_message("t", "user", "after the standby stopped")
                with caplog.at_level(logging.WARNING, logger="threadstore"):
                    for _ in range(3):
                        assert len(await store.get_messages("t")) == 2
                        assert len(await store.list_threads()) == 1
                        assert (await store.get_stats())["messages"] == 2
                warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
                assert len(warnings) == 1
                assert "cannot be reached" in warnings[0]
                health = await store.health_check()
                assert health["status"] == "healthy"  # the primary serves every call
                [replica] = health["replicas"]
                assert (replica["state"], replica["lag_seconds"]) == ("down", None)
            finally:
                await store.close()
    finally:
        own.stop()
        shutil.rmtree(own.data.parent.parent, ignore_errors=True)


def test_replicas_from_the_environment(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREADSTORE_READ_REPLICAS", f" {pair.standby_url} ,, {pair.standby_url}")
    store = create_store(pair.primary_url)
    assert isinstance(store, SQLAlchemyStore)
    assert len(store._replicas._replicas) == 2


@pytest.mark.parametrize(
    ("replicas", "match"),
    [
        ("postgresql://h/db", "a list of URLs"),
        (["sqlite+aiosqlite:///x.db"], "not PostgreSQL"),
        (["mysql://h/db"], "unsupported database backend"),
    ],
)
def test_bad_replica_urls_are_refused(replicas: object, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        SQLAlchemyStore("postgresql+asyncpg://u@h/db", read_replicas=replicas)  # type: ignore[arg-type]


def test_replicas_need_a_postgresql_primary(tmp_path: object) -> None:
    with pytest.raises(ValidationError, match="read_replicas applies to PostgreSQL"):
        SQLAlchemyStore("sqlite+aiosqlite:///:memory:", read_replicas=["postgresql://h/db"])
    with pytest.raises(ValidationError, match="replica_max_lag"):
        SQLAlchemyStore(
            "postgresql+asyncpg://u@h/db", read_replicas=["postgresql://h/db"], replica_max_lag=-1
        )
