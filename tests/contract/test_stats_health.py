"""Stats, health, lifecycle, the factory and delete cascades."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import StoreFactory
from threadstore import BaseStore, MemoryStore, SQLAlchemyStore, ValidationError, create_store
from threadstore.migrations import head_revision

STORE_CLASS = {
    "memory": "MemoryStore",
    "sqlite": "SQLAlchemyStore",
    "postgres": "SQLAlchemyStore",
    "pgbouncer": "SQLAlchemyStore",
    "partitioned": "SQLAlchemyStore",
}
DIALECT = {
    "memory": "memory",
    "sqlite": "sqlite",
    "postgres": "postgresql",
    "pgbouncer": "postgresql",
    "partitioned": "postgresql",
}


async def test_stats_count_every_entity(store: BaseStore, backend: str) -> None:
    empty = await store.get_stats()
    assert empty == {
        "backend": STORE_CLASS[backend],
        "dialect": DIALECT[backend],
        "threads": 0,
        "messages": 0,
        "feedback": 0,
        "suspended_states": 0,
        "checkpoints": 0,
        "context_items": 0,
    }
    await store.create_thread("t1", "alice", "helper")
    await store.add_messages("t1", [{"role": "user", "content": "x"}] * 3)
    await store.add_feedback("t1", "alice", "helper", rating=1)
    await store.save_suspended_state("a", "t1", "helper", "n", {})
    await store.save_checkpoint("t1", "", "c", None, {}, {})
    await store.save_context_item("k", 1)
    await store.save_context_item("k", 2, user_id="alice")
    stats = await store.get_stats()
    assert (stats["threads"], stats["messages"], stats["feedback"]) == (1, 3, 1)
    assert (stats["suspended_states"], stats["checkpoints"]) == (1, 1)
    assert stats["context_items"] == 2


async def test_health_check(store: BaseStore, backend: str) -> None:
    health = await store.health_check()
    assert health["status"] == "healthy"
    assert health["error"] is None
    assert health["latency_ms"] >= 0
    assert (health["backend"], health["dialect"]) == (STORE_CLASS[backend], DIALECT[backend])
    expected_checks = {
        "memory": {},
        "sqlite": {"connected": True, "schema_at_head": True, "writable": True},
        "postgres": {"connected": True, "schema_at_head": True},
        "pgbouncer": {"connected": True, "schema_at_head": True},
        "partitioned": {"connected": True, "schema_at_head": True},
    }[backend]
    assert health["checks"] == expected_checks
    if backend != "memory":
        assert health["schema_revision"] == head_revision()
    json.dumps(health)


async def test_health_check_logs_nothing_at_info(
    store: BaseStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert (await store.health_check())["status"] == "healthy"
    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "5", True, None])
async def test_health_check_refuses_a_bad_timeout(store: BaseStore, bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        await store.health_check(timeout=bad)  # type: ignore[arg-type]
    assert "timeout" in str(info.value)


async def test_health_check_times_out_on_a_server_that_never_answers() -> None:
    """A PostgreSQL URL whose socket accepts and then stays silent: unhealthy, not a hang."""
    silent: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(
        _reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        silent.append(writer)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = SQLAlchemyStore(f"postgresql+asyncpg://user:secret@127.0.0.1:{port}/db")
    try:
        # asyncpg alone would wait 60 s for the startup reply; the bound here is generous
        health = await asyncio.wait_for(store.health_check(timeout=0.5), timeout=30)
        again = await asyncio.wait_for(store.health_check(timeout=0.5), timeout=30)
    finally:
        await asyncio.wait_for(store.close(), timeout=30)
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()
    assert silent, "the probe never reached the silent server"
    for report in (health, again):
        assert report["status"] == "unhealthy"
        assert report["error"] == "the health check timed out after 0.5 s"
        assert report["checks"] == {"connected": False, "schema_at_head": False}
        assert (report["backend"], report["dialect"]) == ("SQLAlchemyStore", "postgresql")
        assert "secret" not in json.dumps(report)


async def test_sqlite_health_check_never_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    store = SQLAlchemyStore(f"sqlite+aiosqlite:///{path}")
    health = await store.health_check()
    await store.close()
    assert not path.exists()
    assert health["status"] == "unhealthy"
    assert health["checks"]["writable"] is False
    assert health["error"] == f"cannot use the SQLite database {path}: the file does not exist"


async def test_sqlite_health_check_reports_a_missing_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # an empty SQLite file, no threadstore tables
    store = SQLAlchemyStore(f"sqlite+aiosqlite:///{path}", auto_migrate=False)
    health = await store.health_check()
    await store.close()
    assert health["status"] == "unhealthy"
    assert health["checks"] == {"connected": True, "schema_at_head": False, "writable": True}
    assert health["schema_revision"] is None
    assert health["error"] == (
        f"the database has no threadstore schema; this threadstore needs {head_revision()}"
    )


async def test_delete_cascades_everything(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("keep", "alice", "helper")
    for thread in ("t1", "keep"):
        await store.add_messages(thread, [{"role": "user", "content": "x"}] * 4)
        await store.add_feedback(thread, "alice", "helper", rating=2)
        await store.save_suspended_state(f"ap-{thread}", thread, "helper", "n", {})
        await store.save_checkpoint(thread, "", "c1", None, {}, {})
    await store.fork_thread("t1", 1, "fork")
    assert await store.delete_thread("t1") is True
    stats = await store.get_stats()
    assert stats["threads"] == 2  # keep + the detached fork
    assert stats["messages"] == 4 + 2
    assert stats["feedback"] == 1
    assert stats["suspended_states"] == 1
    assert stats["checkpoints"] == 1
    assert await store.get_feedback(thread_id="t1") == []
    assert await store.list_suspended_states(thread_id="t1") == []


async def test_async_context_manager(store_factory: StoreFactory) -> None:
    async with store_factory() as entered:
        await entered.create_thread("t1", "alice", "helper")
        assert await entered.get_thread("t1") is not None


async def test_memory_store_evicts_least_recently_updated(clock: object) -> None:
    store = MemoryStore(max_threads=2)
    await store.create_thread("old", "alice", "helper")
    await store.add_message("old", "user", "x")
    await store.create_thread("mid", "alice", "helper")
    await store.add_message("old", "user", "bump")  # old is now the most recent
    await store.create_thread("new", "alice", "helper")
    assert await store.get_thread("mid") is None
    assert await store.get_thread("old") is not None
    assert len(await store.get_messages("old")) == 2
    assert (await store.get_stats())["threads"] == 2
    with pytest.raises(ValidationError):
        MemoryStore(max_threads=0)


def test_create_store_picks_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    assert isinstance(create_store("memory://"), MemoryStore)
    sqlite = create_store(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert isinstance(sqlite, SQLAlchemyStore)
    assert sqlite.backend_name == "sqlite"
    assert isinstance(create_store("sqlite:///relative.db"), SQLAlchemyStore)
    monkeypatch.setenv("THREADSTORE_URL", "memory://")
    assert isinstance(create_store(), MemoryStore)
    monkeypatch.delenv("THREADSTORE_URL")
    default = create_store()
    assert isinstance(default, SQLAlchemyStore)
    assert repr(default) == "SQLAlchemyStore(url='sqlite+aiosqlite:///threadstore.db')"


@pytest.mark.parametrize(
    "url",
    ["mysql://u:p@h/db", "postgresql+psycopg2://u:p@h/db", "sqlite+pysqlite:///x.db", "::bad::"],
)
def test_create_store_rejects_unsupported_urls(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        create_store(url)
    assert info.value.suggestion
    assert "p@h" not in str(info.value)
