"""A primary and a streaming standby of it, started with the repository's scripts.

``scripts/start-postgres.sh`` starts the primary and ``scripts/start-replica.sh``
a hot standby (``pg_basebackup -R``), both on free local ports, once per
session; a test that stops a standby gets one of its own. Without PostgreSQL
binaries the tests skip locally and fail with ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import in_ci
from threadstore.migrations import upgrade

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
REPLAY_WAIT = 60.0
"""Seconds a test waits for a standby to replay a write before failing (never reached)."""


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass
class Server:
    """A server started by one of the scripts: its DSN (database ``postgres``) and data dir."""

    url: str
    data: Path

    def stop(self) -> None:
        bindir = _bindir()
        assert bindir is not None
        subprocess.run(
            _as_postgres(str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"),
            check=False,
            capture_output=True,
        )

    def database(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


def _script(name: str, *args: str) -> str:
    done = subprocess.run(["bash", str(SCRIPTS / name), *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"scripts/{name} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def _folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)  # the servers run as the postgres user
    return folder


def start_standby(primary: Server) -> Server:
    """A new hot standby of ``primary`` (scripts/start-replica.sh)."""
    folder = _folder("threadstore-replica-")
    url = _script("start-replica.sh", str(folder / "standby"), primary.url)
    return Server(url, folder / "standby" / "data")


@pytest.fixture(scope="session")
def primary() -> Iterator[Server]:
    """A primary started by scripts/start-postgres.sh."""
    if _bindir() is None:
        message = "no PostgreSQL server binaries under /usr/lib/postgresql"
        if in_ci():
            pytest.fail(f"{message} (CI=true: PostgreSQL is required)")
        pytest.skip(message)
    folder = _folder("threadstore-primary-")
    server = Server(_script("start-postgres.sh", str(folder / "pg")), folder / "pg" / "data")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def standby(primary: Server) -> Iterator[Server]:
    """The session's standby of ``primary``."""
    server = start_standby(primary)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data.parent.parent, ignore_errors=True)


def _raw(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def wait_replayed(primary_url: str, standby_url: str) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    source = await asyncpg.connect(_raw(primary_url))
    try:
        target = await source.fetchval("SELECT pg_current_wal_insert_lsn()")
    finally:
        await source.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REPLAY_WAIT
    while True:
        try:
            conn = await asyncpg.connect(_raw(standby_url))
            try:
                done = await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target)
            finally:
                await conn.close()
            if done:
                return
        except asyncpg.InvalidCatalogNameError:  # the database is not replayed yet
            pass
        if loop.time() > deadline:
            pytest.fail(f"the standby did not replay {target} within {REPLAY_WAIT:g} s")
        await asyncio.sleep(0.02)


@dataclass
class Pair:
    """One fresh migrated database on the primary and its URL on a standby."""

    primary_url: str
    standby_url: str


async def fresh_pair(primary: Server, standby: Server) -> AsyncIterator[Pair]:
    """Create and migrate a database on the primary; yield it once the standby has it."""
    name = f"threadstore_rep_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_raw(primary.url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    pair = Pair(primary.database(name), standby.database(name))
    await upgrade(pair.primary_url)
    await wait_replayed(pair.primary_url, pair.standby_url)
    yield pair
    admin = await asyncpg.connect(_raw(primary.url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def pair(primary: Server, standby: Server) -> AsyncIterator[Pair]:
    """A fresh database on the session's primary, replayed on its standby."""
    async for item in fresh_pair(primary, standby):
        yield item


async def set_replay(standby_url: str, *, paused: bool) -> None:
    """Pause or resume WAL replay on the standby (it keeps receiving WAL)."""
    conn = await asyncpg.connect(_raw(standby_url))
    try:
        name = "pg_wal_replay_pause" if paused else "pg_wal_replay_resume"
        await conn.execute(f"SELECT {name}()")
    finally:
        await conn.close()
