"""SQL-only facts: lost connections, unreachable servers, redaction, schema checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from threadstore import (
    PersistenceConnectionError,
    SchemaOutOfDateError,
    SQLAlchemyStore,
)


async def _kill_connections(db_url: str) -> int:
    """Terminate every server connection to the database and wait until they are gone."""
    admin = await asyncpg.connect(
        make_url(db_url).set(drivername="postgresql").render_as_string(False)
    )
    others = "datname = current_database() AND pid <> pg_backend_pid()"
    try:
        killed = await admin.fetchval(
            f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {others}"
        )
        for _ in range(500):  # the backends exit asynchronously after the signal
            if not await admin.fetchval(f"SELECT count(*) FROM pg_stat_activity WHERE {others}"):
                break
            await asyncio.sleep(0.01)
    finally:
        await admin.close()
    return int(killed)


async def test_recovers_after_connections_are_killed(postgres_url_fresh: str) -> None:
    store = SQLAlchemyStore(postgres_url_fresh)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    assert await _kill_connections(postgres_url_fresh) >= 1
    # A connection asyncpg has seen closing is replaced at checkout without a
    # round trip; one it has not seen yet fails that one call. Either way the
    # same store works again at once.
    with contextlib.suppress(PersistenceConnectionError):
        await store.get_thread("t1")
    assert (await store.get_thread("t1")) is not None
    await store.add_message("t1", "user", "after")
    assert len(await store.get_messages("t1")) == 1
    await store.close()


async def test_pre_ping_replaces_killed_connections_transparently(
    postgres_url_fresh: str,
) -> None:
    store = SQLAlchemyStore(postgres_url_fresh, pool_pre_ping=True)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    assert await _kill_connections(postgres_url_fresh) >= 1
    assert (await store.get_thread("t1")) is not None
    await store.close()


async def test_lost_connection_mid_use_is_a_connection_error_then_recovers(
    postgres_url_fresh: str,
) -> None:
    store = SQLAlchemyStore(postgres_url_fresh, pool_size=1, max_overflow=0)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    errors = 0
    for round_ in range(5):
        admin = await asyncpg.connect(
            make_url(postgres_url_fresh).set(drivername="postgresql").render_as_string(False)
        )
        # kill without waiting: the next call may or may not see the close in time
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await admin.close()
        try:
            await store.add_message("t1", "user", f"r{round_}")
        except PersistenceConnectionError:
            errors += 1
        # whatever happened to that call, the next one works on the same store
        assert (await store.get_thread("t1")) is not None
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 5 - errors
    assert len(await store.get_messages("t1")) == 5 - errors
    await store.close()


async def test_unreachable_server_is_a_connection_error() -> None:
    url = "postgresql+asyncpg://someone:s3cret-pw@127.0.0.1:1/nowhere"
    store = SQLAlchemyStore(url, connect_args={"timeout": 2})
    with pytest.raises(PersistenceConnectionError) as info:
        await store.create_thread("t1", "alice", "helper")
    assert "s3cret-pw" not in str(info.value)
    assert info.value.suggestion
    health = await store.health_check()
    assert health["status"] == "unhealthy"
    assert "s3cret-pw" not in str(health)
    assert "s3cret-pw" not in repr(store)
    await store.close()


async def test_password_never_logged(
    postgres_url_fresh: str, caplog: pytest.LogCaptureFixture
) -> None:
    with_password = make_url(postgres_url_fresh).set(password="Hunter2-secret")
    caplog.set_level(logging.DEBUG)
    store = SQLAlchemyStore(with_password.render_as_string(False), connect_args={"timeout": 5})
    try:
        assert "Hunter2-secret" not in repr(store)
        await store.initialize()  # the test server trusts local connections
        await store.health_check()
    finally:
        await store.close()
    assert "Hunter2-secret" not in caplog.text


async def test_unmigrated_database_is_refused(tmp_path: object) -> None:
    store = SQLAlchemyStore(f"sqlite+aiosqlite:///{tmp_path}/empty.db", auto_migrate=False)
    with pytest.raises(SchemaOutOfDateError) as info:
        await store.initialize()
    assert "upgrade" in info.value.suggestion
    health = await store.health_check()
    assert health["status"] == "unhealthy"
    with pytest.raises(SchemaOutOfDateError):
        await store.create_thread("t1", "alice", "helper")
    await store.close()


async def test_failed_write_leaves_database_unchanged(db_url: str) -> None:
    store = SQLAlchemyStore(db_url)
    await store.initialize()
    await store.create_thread("p", "alice", "helper")
    await store.add_message("p", "user", "x")
    await store.create_thread("taken", "alice", "helper")
    # the fork fails on its INSERT of the thread row: nothing of it remains
    with pytest.raises(Exception):  # noqa: B017, PT011 - DuplicateRecordError, checked elsewhere
        await store.fork_thread("p", 0, "taken")
    async with store.engine.connect() as conn:
        count = (
            await conn.execute(
                text("SELECT count(*) FROM threadstore_messages WHERE thread_id = 'taken'")
            )
        ).scalar_one()
    assert count == 0
    await store.close()


async def test_borrowed_engine_is_not_disposed(db_url: str) -> None:
    owner = SQLAlchemyStore(db_url)
    borrower = SQLAlchemyStore(engine=owner.engine)
    await borrower.initialize()
    await borrower.create_thread("t1", "alice", "helper")
    await borrower.close()
    assert await owner.get_thread("t1") is not None
    await owner.close()


async def test_no_orphans_after_delete(db_url: str) -> None:
    store = SQLAlchemyStore(db_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.add_messages("t1", [{"role": "user", "content": "x"}] * 5)
    await store.add_feedback("t1", "alice", "helper")
    await store.save_suspended_state("a", "t1", "helper", "n", {})
    await store.save_checkpoint("t1", "", "c", None, {}, {})
    await store.delete_thread("t1")
    async with store.engine.connect() as conn:
        for table in (
            "threadstore_threads",
            "threadstore_messages",
            "threadstore_feedback",
            "threadstore_suspended_states",
            "threadstore_checkpoints",
        ):
            count = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            assert count == 0, table
    await store.close()


async def test_two_stores_on_one_database_append_without_gaps(db_url: str) -> None:
    """Separate engines (as separate processes would have) still serialize appends."""
    first, second = SQLAlchemyStore(db_url), SQLAlchemyStore(db_url)
    await first.initialize()
    await second.initialize()
    await first.create_thread("t1", "alice", "helper")

    async def writer(store: SQLAlchemyStore, name: str) -> None:
        for index in range(100):
            await store.add_message("t1", "user", f"{name}{index}")

    await asyncio.gather(*(writer(store, f"{i}-") for i, store in enumerate([first, second] * 3)))
    thread = await second.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 600
    messages = await first.get_messages("t1", limit=1000)
    assert [m["seq"] for m in messages] == list(range(600))
    await first.close()
    await second.close()
