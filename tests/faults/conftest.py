"""Fixtures for fault tests: a throwaway PostgreSQL cluster, raw connections, polling.

Faults that need the server stopped or logins refused run on a cluster of their
own (one per test module); the others run on the dev server of the whole suite
(``THREADSTORE_TEST_POSTGRES_URL``). Without PostgreSQL binaries the cluster
tests skip locally and fail with ``CI=true``, like every PostgreSQL test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.faults.cluster import Cluster, postgres_bindir
from threadstore import SQLAlchemyStore


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A password-protected PostgreSQL cluster this module may stop and start."""
    bindir = postgres_bindir()
    if bindir is None:
        message = "no PostgreSQL server binaries under /usr/lib/postgresql"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message} (CI=true: PostgreSQL is required)")
        pytest.skip(message)
    instance = Cluster(bindir)
    try:
        instance.start()
        yield instance
    finally:
        instance.destroy()


@pytest.fixture
def running_cluster(cluster: Cluster) -> Cluster:
    """The module's cluster, started again if an earlier test left it stopped."""
    if not cluster.is_running():
        cluster.start()
    return cluster


def asyncpg_url(url: str) -> str:
    """The URL without SQLAlchemy's driver suffix, for asyncpg.connect()."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def raw_connect(url: str, **server_settings: str) -> asyncpg.Connection:
    """A plain asyncpg connection next to the store, e.g. to hold a lock."""
    return await asyncpg.connect(asyncpg_url(url), server_settings=server_settings or None)


async def backend_pid(store: SQLAlchemyStore) -> int:
    """The server process id of the connection the store's pool hands out next."""
    async with store.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def eventually(check: Callable[[], Awaitable[Any]], *, attempts: int = 1000) -> Any:
    """Poll ``check`` every 10 ms until it returns something truthy; fail if it never does."""
    for _ in range(attempts):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.01)
    pytest.fail(f"condition never became true: {check}")


async def waiting_on_lock(admin: asyncpg.Connection, application_name: str) -> int | None:
    """The pid of a backend of ``application_name`` that waits on a lock, if any."""
    pid = await admin.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        application_name,
    )
    return None if pid is None else int(pid)
