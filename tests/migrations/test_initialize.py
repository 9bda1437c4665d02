"""initialize(): create a missing schema, upgrade only when asked, once across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.migrations import race
from tests.migrations.support import head, on_connection, revision_ids, revision_of, table_names
from threadstore import (
    MigrationError,
    SchemaOutOfDateError,
    SQLAlchemyStore,
    ValidationError,
    create_store,
)
from threadstore.config import URL_ENV_VAR
from threadstore.migrations import VERSION_TABLE, downgrade, upgrade
from threadstore.models import Base

PROCESSES = 4


async def test_default_creates_the_schema_on_an_empty_database(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="threadstore.migrations")
    store = SQLAlchemyStore(empty_url)
    await store.initialize()
    assert await store.create_thread("t1", "alice", "helper")
    health = await store.health_check()
    await store.close()
    assert (health["status"], health["schema_revision"]) == ("healthy", head())
    assert await revision_of(empty_url) == head()
    assert f"upgraded threadstore schema from None to {head()}" in caplog.text


async def test_default_creates_the_schema_next_to_an_applications_tables(empty_url: str) -> None:
    await on_connection(
        empty_url,
        lambda conn: conn.execute(text("CREATE TABLE app_orders (id INTEGER PRIMARY KEY)")),
    )
    async with create_store(empty_url) as store:
        await store.create_thread("t1", "alice", "helper")
    assert await revision_of(empty_url) == head()
    assert "app_orders" in await table_names(empty_url)


async def test_default_creates_the_schema_after_a_downgrade_to_base(empty_url: str) -> None:
    await upgrade(empty_url)
    await downgrade(empty_url, "base")
    assert await table_names(empty_url) <= {VERSION_TABLE}  # Alembic keeps its empty table
    async with SQLAlchemyStore(empty_url) as store:
        await store.create_thread("t1", "alice", "helper")
    assert await revision_of(empty_url) == head()


@pytest.mark.parametrize("auto_migrate", [None, False])
@pytest.mark.parametrize("start", revision_ids()[:-1])
async def test_an_older_schema_is_refused_and_left_alone(
    empty_url: str, start: str, auto_migrate: bool | None
) -> None:
    await upgrade(empty_url, start)
    tables = await table_names(empty_url)
    store = SQLAlchemyStore(empty_url, auto_migrate=auto_migrate)
    with pytest.raises(SchemaOutOfDateError) as info:
        await store.initialize()
    await store.close()
    assert type(info.value) is SchemaOutOfDateError
    message = str(info.value)
    assert f"the database has revision {start}; this threadstore needs revision {head()}" in message
    assert "threadstore db upgrade" in message
    assert "alembic upgrade head" in message
    assert "auto_migrate=True" in message
    assert await table_names(empty_url) == tables
    assert await revision_of(empty_url) == start


async def test_auto_migrate_false_only_verifies_even_an_empty_database(empty_url: str) -> None:
    store = SQLAlchemyStore(empty_url, auto_migrate=False)
    with pytest.raises(SchemaOutOfDateError) as info:
        await store.initialize()
    await store.close()
    message = str(info.value)
    assert "the database has no threadstore schema" in message
    assert "threadstore db upgrade" in message
    assert "auto_migrate" in message
    assert not {name for name in await table_names(empty_url) if name.startswith("threadstore")}


def _half_made(conn: Connection) -> None:
    """What a revision interrupted outside a transaction could leave: one table, no version."""
    conn.execute(text("CREATE TABLE threadstore_threads (id VARCHAR(255) PRIMARY KEY)"))
    conn.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)"))


@pytest.mark.parametrize("auto_migrate", [None, True, False])
@pytest.mark.parametrize("make", ["create_all", "half_made"])
async def test_threadstore_tables_without_a_revision_are_refused(
    empty_url: str, make: str, auto_migrate: bool | None
) -> None:
    if make == "create_all":
        await on_connection(empty_url, Base.metadata.create_all)
    else:
        await on_connection(empty_url, _half_made)
    tables = await table_names(empty_url)
    store = SQLAlchemyStore(empty_url, auto_migrate=auto_migrate)
    with pytest.raises(MigrationError) as info:
        await store.initialize()
    await store.close()
    assert type(info.value) is MigrationError
    message = str(info.value)
    assert "threadstore_threads" in message
    assert f"no revision in {VERSION_TABLE}" in message
    assert "half-made" in message
    assert "create_all" in message
    assert "Drop the threadstore_* tables" in info.value.suggestion
    assert await table_names(empty_url) == tables
    assert await revision_of(empty_url) is None


async def test_two_revision_rows_are_refused_and_left_alone(empty_url: str) -> None:
    store = SQLAlchemyStore(empty_url)
    await store.initialize()
    await store.close()

    def second_row(conn: Connection) -> None:
        conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('0001')"))

    await on_connection(empty_url, second_row)
    again = SQLAlchemyStore(empty_url)
    with pytest.raises(MigrationError, match="more than one revision") as info:
        await again.initialize()
    await again.close()
    assert f"Keep the one row of {VERSION_TABLE}" in info.value.suggestion
    assert sorted(await _versions(empty_url)) == sorted(["0001", head()])


async def _versions(url: str) -> list[str]:
    def read(conn: Connection) -> list[str]:
        return list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())

    result: list[str] = await on_connection(url, read)
    return result


_STARTS = """
import asyncio, sys
from threadstore import SQLAlchemyStore

async def main() -> None:
    store = SQLAlchemyStore(sys.argv[1])
    await store.initialize()
    await store.create_thread("t", "u", "a")
    await store.add_message("t", "user", "hello")
    assert [m["content"] for m in await store.get_messages("t")] == ["hello"]
    await store.close()

asyncio.run(main())
print(sorted(m for m in ("alembic", "mako", "pygments") if m in sys.modules))
"""


async def test_a_store_at_head_starts_and_runs_without_loading_alembic(empty_url: str) -> None:
    """Alembic (with Mako and Pygments) loads only to migrate: none of it in a running store."""
    store = SQLAlchemyStore(empty_url)
    await store.initialize()  # migrated here, in this process
    await store.close()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _STARTS, empty_url, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == "[]"


def test_auto_migrate_must_be_a_bool_or_none(empty_sqlite_url: str) -> None:
    with pytest.raises(ValidationError, match="auto_migrate must be None, True or False"):
        SQLAlchemyStore(empty_sqlite_url, auto_migrate="yes")  # type: ignore[arg-type]


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


async def test_an_older_configured_or_default_database_is_never_upgraded_implicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = revision_ids()[0]
    url = f"sqlite+aiosqlite:///{tmp_path / 'configured.db'}"
    await upgrade(url, first)
    monkeypatch.setenv(URL_ENV_VAR, url)
    for store in (create_store(), SQLAlchemyStore()):
        with pytest.raises(SchemaOutOfDateError):
            await store.initialize()
        await store.close()
    assert await revision_of(url) == first
    monkeypatch.delenv(URL_ENV_VAR)
    monkeypatch.chdir(tmp_path)
    default = f"sqlite+aiosqlite:///{tmp_path / 'threadstore.db'}"
    await upgrade(default, first)
    embedded = SQLAlchemyStore()
    with pytest.raises(SchemaOutOfDateError):
        await embedded.initialize()  # the embedded default follows the same rule
    await embedded.close()
    assert await revision_of(default) == first


def _race(url: str, auto_migrate: bool | None) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=race.start_store, args=(url, auto_migrate, barrier, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0, (process.exitcode, reports)
    return reports


@pytest.mark.parametrize("auto_migrate", [None, True], ids=["default", "auto_migrate"])
async def test_processes_starting_together_migrate_exactly_once(
    empty_url: str, auto_migrate: bool | None
) -> None:
    """The first start of N replicas on an empty database: one creates the schema."""
    reports = _race(empty_url, auto_migrate)
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
