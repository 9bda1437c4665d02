"""initialize(): verify by default, upgrade only when asked, once across processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.migrations import race
from tests.migrations.support import head, on_connection, revision_ids, revision_of, table_names
from threadstore import SchemaOutOfDateError, SQLAlchemyStore, create_store
from threadstore.config import URL_ENV_VAR
from threadstore.migrations import VERSION_TABLE, upgrade

PROCESSES = 4


@pytest.mark.parametrize("start", [None, *revision_ids()[:-1]], ids=lambda r: str(r or "empty"))
async def test_default_refuses_an_out_of_date_database_and_changes_nothing(
    empty_url: str, start: str | None
) -> None:
    if start is not None:
        await upgrade(empty_url, start)
    tables = await table_names(empty_url)
    store = SQLAlchemyStore(empty_url)
    with pytest.raises(SchemaOutOfDateError) as info:
        await store.initialize()
    await store.close()
    message = str(info.value)
    assert head() in message
    assert "threadstore db upgrade" in message
    assert "alembic upgrade head" in message
    assert "auto_migrate=True" in message
    assert ("no threadstore schema" if start is None else f"revision {start}") in message
    assert await table_names(empty_url) == tables
    assert await revision_of(empty_url) == start


@pytest.mark.parametrize("start", [None, *revision_ids()[:-1]], ids=lambda r: str(r or "empty"))
async def test_auto_migrate_upgrades_to_head(
    empty_url: str, start: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    if start is not None:
        await upgrade(empty_url, start)
    caplog.set_level("INFO", logger="threadstore.migrations")
    store = SQLAlchemyStore(empty_url, auto_migrate=True)
    await store.initialize()
    health = await store.health_check()
    assert health["status"] == "healthy"
    assert health["schema_revision"] == head()
    assert await store.create_thread("t1", "alice", "helper")
    await store.close()
    assert f"upgraded threadstore schema from {start} to {head()}" in caplog.text

    caplog.clear()
    again = SQLAlchemyStore(empty_url, auto_migrate=True)
    await again.initialize()  # already at head: nothing to do
    assert await again.get_thread("t1") is not None
    await again.close()
    assert "upgraded" not in caplog.text


async def test_sqlite_foreign_keys_are_back_on_after_auto_migrate(empty_sqlite_url: str) -> None:
    store = SQLAlchemyStore(empty_sqlite_url, auto_migrate=True, pool_size=1, max_overflow=0)
    await store.initialize()
    async with store.engine.connect() as conn:  # the one pooled connection the upgrade used
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    await store.close()


async def test_embedded_default_needs_no_manual_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    async with create_store() as store:
        await store.create_thread("t1", "alice", "helper")
        health = await store.health_check()
    assert health["schema_revision"] == head()
    assert (tmp_path / "threadstore.db").is_file()


async def test_configured_database_is_never_migrated_implicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'configured.db'}"
    monkeypatch.setenv(URL_ENV_VAR, url)
    for store in (create_store(), SQLAlchemyStore()):
        with pytest.raises(SchemaOutOfDateError):
            await store.initialize()
        await store.close()
    monkeypatch.delenv(URL_ENV_VAR)
    monkeypatch.chdir(tmp_path)
    explicit = SQLAlchemyStore(auto_migrate=False)  # the embedded default, opted out
    with pytest.raises(SchemaOutOfDateError):
        await explicit.initialize()
    await explicit.close()
    assert await table_names(url) == set()


def _race(url: str) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=race.start_store, args=(url, barrier, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0, (process.exitcode, reports)
    return reports


async def test_processes_starting_together_migrate_exactly_once(empty_url: str) -> None:
    reports = _race(empty_url)
    assert [r["error"] for r in reports] == [None] * PROCESSES, reports
    assert all(r["status"] == "healthy" and r["revision"] == head() for r in reports), reports
    # one process ran every revision; the others found the schema at head
    assert sorted(r["upgraded"] for r in reports) == [False] * (PROCESSES - 1) + [True], reports
    assert sorted(r["alembic_steps"] for r in reports) == [0] * (PROCESSES - 1) + [
        len(revision_ids())
    ], reports
    versions = await on_connection(
        empty_url, lambda conn: conn.execute(text(f"SELECT * FROM {VERSION_TABLE}")).all()
    )
    assert [tuple(row) for row in versions] == [(head(),)]
    threads = await on_connection(
        empty_url,
        lambda conn: conn.execute(text("SELECT count(*) FROM threadstore_threads")).scalar_one(),
    )
    assert threads == PROCESSES
