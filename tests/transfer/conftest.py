"""Fixtures for the transfer tests: more fresh migrated databases."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest


@pytest.fixture
def new_sqlite(sqlite_template: Path, tmp_path: Path) -> Callable[[], str]:
    """Make another fresh, migrated SQLite file on each call; returns its URL."""

    def make() -> str:
        path = tmp_path / f"other-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"

    return make


@pytest.fixture
async def other_db_url(
    request: pytest.FixtureRequest, sql_backend: str, new_sqlite: Callable[[], str]
) -> AsyncIterator[str]:
    """A second fresh migrated database of the same kind as ``db_url``."""
    if sql_backend == "sqlite":
        yield new_sqlite()
        return
    from tests.conftest import _temporary_database

    template = request.getfixturevalue("postgres_template")
    async for url in _temporary_database(request.getfixturevalue("pg_supply"), template):
        yield url
