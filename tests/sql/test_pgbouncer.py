"""The pgbouncer switch: what it turns off, migrations kept off the pooler, load through it.

PgBouncer (transaction pooling) is the one scripts/start-pgbouncer.sh starts
(``THREADSTORE_TEST_PGBOUNCER_URL``); the contract and conformance suites run
through it as the ``pgbouncer`` backend. These tests cover the switch itself.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, QueuePool

from tests.conftest import through_pgbouncer
from threadstore import SchemaOutOfDateError, SQLAlchemyStore, ValidationError
from threadstore.engine_options import pgbouncer_options


async def _tables(direct_url: str) -> list[str]:
    conn = await asyncpg.connect(
        make_url(direct_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
    finally:
        await conn.close()
    return [row[0] for row in rows]


async def test_initialize_through_pgbouncer_never_migrates(empty_postgres_url: str) -> None:
    store = SQLAlchemyStore(through_pgbouncer(empty_postgres_url), pgbouncer=True)
    try:
        with pytest.raises(SchemaOutOfDateError, match="migrations do not run through PgBouncer"):
            await store.initialize()
    finally:
        await store.close()
    assert await _tables(empty_postgres_url) == []


async def test_migration_url_migrates_directly_then_the_store_runs_through_pgbouncer(
    empty_postgres_url: str,
) -> None:
    url = through_pgbouncer(empty_postgres_url) + "?pgbouncer=true"
    store = SQLAlchemyStore(url, migration_url=empty_postgres_url)
    try:
        assert "pgbouncer" not in store.engine.url.query  # the driver never sees the flag
        assert isinstance(store.engine.pool, QueuePool)  # client connections to PgBouncer
        await store.initialize()
        assert "threadstore_messages" in await _tables(empty_postgres_url)
        await store.create_thread("t", "u", "agent")

        async def one(i: int) -> int:
            await store.add_message("t", "user", f"message {i}")
            await store.list_threads()
            return len(await store.get_messages("t", limit=1000))

        # more clients than PgBouncer has server connections (default_pool_size = 20)
        seen = await asyncio.gather(*(one(i) for i in range(60)))
        assert sorted(seen)[-1] == 60
        assert [m["seq"] for m in await store.get_messages("t", limit=100)] == list(range(60))
        async with store.transaction() as tx:
            await tx.add_message("t", "user", "in a block")
            assert (await tx.get_stats())["messages"] == 61
    finally:
        await store.close()


def test_auto_migrate_through_pgbouncer_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot migrate through PgBouncer") as info:
        SQLAlchemyStore("postgresql+asyncpg://u@h:6432/db", pgbouncer=True, auto_migrate=True)
    assert "migration_url" in info.value.suggestion


@pytest.mark.parametrize(
    ("url", "options", "match"),
    [
        ("sqlite+aiosqlite:///x.db", {"pgbouncer": True}, "applies to PostgreSQL"),
        ("postgresql+asyncpg://u@h/db?pgbouncer=maybe", {}, "not true or false"),
        ("postgresql+asyncpg://u@h/db", {"pgbouncer": "yes"}, "must be True or False"),
        (
            "postgresql+asyncpg://u@h/db",
            {"pgbouncer": True, "connect_args": {"statement_cache_size": 100}},
            "does not work behind PgBouncer",
        ),
        (
            "postgresql+asyncpg://u@h/db",
            {"migration_url": "sqlite+aiosqlite:///x.db"},
            "migration_url applies to PostgreSQL",
        ),
    ],
)
def test_bad_pgbouncer_settings_are_refused(
    url: str, options: dict[str, object], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        SQLAlchemyStore(url, **options)  # type: ignore[arg-type]


def test_pgbouncer_options() -> None:
    options = pgbouncer_options({"connect_args": {"timeout": 5}})
    args = options["connect_args"]
    assert (args["statement_cache_size"], args["prepared_statement_cache_size"]) == (0, 0)
    assert args["timeout"] == 5
    names = {args["prepared_statement_name_func"]() for _ in range(100)}
    assert len(names) == 100
    assert "poolclass" not in options  # the engine pools client connections to PgBouncer


async def test_without_an_engine_pool_through_pgbouncer(postgres_url_fresh: str) -> None:
    store = SQLAlchemyStore(
        through_pgbouncer(postgres_url_fresh), pgbouncer=True, poolclass=NullPool
    )
    try:
        assert isinstance(store.engine.pool, NullPool)
        await store.initialize()
        await store.create_thread("t", "u", "agent")
        await asyncio.gather(*(store.add_message("t", "user", str(i)) for i in range(20)))
        assert (await store.get_stats())["messages"] == 20
    finally:
        await store.close()
