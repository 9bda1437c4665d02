"""Fixtures: one contract suite over every backend, each test on a fresh database.

Backends: ``memory``, ``sqlite`` (a real file) and ``postgres`` (a real server
named by ``THREADSTORE_TEST_POSTGRES_URL``). Without that variable the
PostgreSQL cases skip locally; with ``CI=true`` the run fails instead. The
contract and LangGraph conformance suites add ``pgbouncer``: the same fresh
PostgreSQL database reached through PgBouncer in transaction pooling mode
(``THREADSTORE_TEST_PGBOUNCER_URL``, started by scripts/start-pgbouncer.sh).

Databases are migrated once by running the Alembic revisions into a template
(a SQLite file, a PostgreSQL template database); each test gets a copy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.pg_supply import DatabaseSupply
from threadstore import BaseStore, MemoryStore, SQLAlchemyStore
from threadstore.migrations import upgrade_connection
from threadstore.sqlite_vector import sqlite_driver

PG_ENV = "THREADSTORE_TEST_POSTGRES_URL"
PGBOUNCER_ENV = "THREADSTORE_TEST_PGBOUNCER_URL"
BACKENDS = ("memory", "sqlite", "postgres")
POOLED_BACKENDS = (*BACKENDS, "pgbouncer", "partitioned")
"""The backends of the suites that must also pass through PgBouncer and on the
partitioned layout (PostgreSQL, messages and checkpoints hash-partitioned by thread)."""
TEST_PARTITIONS = 4
SQL_BACKENDS = ("sqlite", "postgres")


@dataclass
class FakeClock:
    """A controllable clock: frozen until advanced."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def require_postgres() -> str:
    """Return the PostgreSQL test URL, skipping (locally) or failing (CI) without it."""
    url = postgres_url()
    if url is None:
        message = f"{PG_ENV} is not set: no PostgreSQL server to test against"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message} (CI=true: PostgreSQL is required)")
        pytest.skip(message)
    return url


@contextlib.contextmanager
def another_writer(path: str) -> Iterator[None]:
    """Hold ``path``'s SQLite write lock from a second connection, as another process's writer.

    On the store's own SQLite library: a second copy of SQLite in this process
    would not see the store's POSIX locks (see ``threadstore.sqlite_vector``).
    """
    other = sqlite_driver().connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_pgbouncer() -> str:
    """Return the PgBouncer test URL, skipping (locally) or failing (CI) without it."""
    url = os.environ.get(PGBOUNCER_ENV) or None
    if url is None:
        message = f"{PGBOUNCER_ENV} is not set: no PgBouncer to test through"
        if in_ci():
            pytest.fail(f"{message} (CI=true: scripts/test.sh starts one)")
        pytest.skip(message)
    return url


def through_pgbouncer(direct_url: str) -> str:
    """The URL of the same database as ``direct_url``, reached through the test PgBouncer."""
    bouncer = make_url(require_pgbouncer())
    return bouncer.set(database=make_url(direct_url).database).render_as_string(False)


def _pg_admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_connection)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_supply() -> Iterator[DatabaseSupply]:
    """The session's maker of fresh PostgreSQL databases (copies made ahead of need)."""
    supply = DatabaseSupply(require_postgres())
    yield supply
    supply.close()


@pytest.fixture(scope="session")
def postgres_template(pg_supply: DatabaseSupply) -> Iterator[str]:
    """Create a migrated template database once; yields its name."""
    import asyncio

    url = require_postgres()
    name = f"threadstore_tpl_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(url, f'CREATE DATABASE "{name}"'))
    asyncio.run(_migrate(make_url(url).set(database=name).render_as_string(False)))
    yield name
    pg_supply.discard(name)


@pytest.fixture(scope="session")
def postgres_partitioned_template(
    pg_supply: DatabaseSupply, postgres_template: str
) -> Iterator[str]:
    """A template database at head with the partitioned layout; yields its name."""
    import asyncio

    from threadstore.partitioning import upgrade_partitioned

    url = require_postgres()
    name = f"threadstore_tplp_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(url, f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    target = make_url(url).set(database=name).render_as_string(False)
    asyncio.run(upgrade_partitioned(target, TEST_PARTITIONS))
    yield name
    pg_supply.discard(name)


@pytest.fixture
async def partitioned_postgres_url(
    pg_supply: DatabaseSupply, postgres_partitioned_template: str
) -> AsyncIterator[str]:
    """A fresh PostgreSQL database with the partitioned layout, dropped after the test."""
    async for url in _temporary_database(pg_supply, postgres_partitioned_template):
        yield url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite file."""
    path = tmp_path / "threadstore.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _temporary_database(supply: DatabaseSupply, template: str | None) -> AsyncIterator[str]:
    """A new PostgreSQL database (optionally from a template): yields its URL, then drops it."""
    name = await supply.take(template)
    try:
        yield supply.url(name)
    finally:
        supply.drop(name)


@pytest.fixture
async def postgres_url_fresh(
    pg_supply: DatabaseSupply, postgres_template: str
) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database, dropped after the test."""
    async for url in _temporary_database(pg_supply, postgres_template):
        yield url


@pytest.fixture
async def empty_postgres_url(pg_supply: DatabaseSupply) -> AsyncIterator[str]:
    """A fresh PostgreSQL database with no schema at all."""
    async for url in _temporary_database(pg_supply, None):
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, sql_backend: str) -> str:
    """A fresh migrated database URL for the SQL backend under test."""
    name = "sqlite_url" if sql_backend == "sqlite" else "postgres_url_fresh"
    return str(request.getfixturevalue(name))


StoreFactory = Callable[..., BaseStore]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_factory(request: pytest.FixtureRequest, backend: str, clock: FakeClock) -> StoreFactory:
    """Build stores of the backend under test on one fresh database (or one memory)."""
    url = None
    if backend == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    elif backend == "postgres":
        url = request.getfixturevalue("postgres_url_fresh")
    elif backend == "pgbouncer":
        require_pgbouncer()  # before a database is made for nothing
        url = through_pgbouncer(request.getfixturevalue("postgres_url_fresh"))
    elif backend == "partitioned":
        url = request.getfixturevalue("partitioned_postgres_url")

    def make(**options: object) -> BaseStore:
        options.setdefault("clock", clock)
        if url is None:
            return MemoryStore(**options)  # type: ignore[arg-type]
        if backend == "pgbouncer":
            options.setdefault("pgbouncer", True)
        return SQLAlchemyStore(url, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[BaseStore]:
    """An initialized store of the backend under test."""
    instance = store_factory()
    await instance.initialize()
    yield instance
    await instance.close()


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI every optional part must be installed: nothing may skip for lack of it."""
    if not in_ci():
        return
    import importlib

    optional = ("asyncpg", "langgraph.graph", "langgraph.checkpoint.conformance")
    optional += ("google.adk.sessions",)  # tests/adk
    optional += ("pysqlite3.dbapi2", "sqlite_vec")  # the sqlite-vec extra's tests
    for module in optional:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise pytest.UsageError(
                f"CI=true but {module} is not installed: pip install -e '.[dev,langgraph]'"
            ) from exc
    if postgres_url() is None:
        raise pytest.UsageError(f"CI=true but {PG_ENV} is not set: PostgreSQL is required")
    if not os.environ.get(PGBOUNCER_ENV):
        raise pytest.UsageError(
            f"CI=true but {PGBOUNCER_ENV} is not set: run scripts/test.sh, which starts PgBouncer"
        )
