"""Fixtures for the migration tests: empty databases on each SQL backend."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, sql_backend: str, tmp_path: Path) -> str:
    """A database with no schema at all: a new SQLite file or a new PostgreSQL database."""
    if sql_backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("empty_postgres_url"))


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
