"""Helpers shared by the migration tests: the revision chain and schema snapshots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from threadstore.config import resolve_url
from threadstore.engine import create_engine
from threadstore.migrations import (
    VERSION_TABLE,
    alembic_config,
    context_options,
    current_revision,
)
from threadstore.models import TABLE_PREFIX, Base

T = TypeVar("T")


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def chain() -> list[Script]:
    """Every revision, oldest first (the history is linear: see test_revisions)."""
    return list(reversed(list(script_directory().walk_revisions())))


def revision_ids() -> list[str]:
    return [script.revision for script in chain()]


def head() -> str:
    return revision_ids()[-1]


def below(revision: str) -> str:
    """The revision a downgrade of ``revision`` lands on (``base`` for the first)."""
    down = script_directory().get_revision(revision).down_revision
    assert down is None or isinstance(down, str), "merge revisions are not expected"
    return down or "base"


async def on_connection(url: str, work: Callable[[Connection], T]) -> T:
    """Run ``work`` on a sync view of a fresh connection to ``url`` and commit."""
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _index(index: Any) -> dict[str, Any]:
    """A reflected index with its dialect options (a partial index's WHERE) as text."""
    options = {key: str(value) for key, value in index.get("dialect_options", {}).items()}
    return {**index, "dialect_options": options}


def _snapshot(conn: Connection) -> dict[str, Any]:
    inspector = inspect(conn)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if not table.startswith(TABLE_PREFIX) or table == VERSION_TABLE:
            continue
        tables[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted(inspector.get_foreign_keys(table), key=lambda fk: str(fk["name"])),
            "indexes": sorted(
                (_index(ix) for ix in inspector.get_indexes(table)), key=lambda ix: str(ix["name"])
            ),
            "unique": sorted(
                inspector.get_unique_constraints(table), key=lambda uq: str(uq["name"])
            ),
            "checks": sorted(
                inspector.get_check_constraints(table), key=lambda ck: str(ck["name"])
            ),
        }
    return tables


async def schema_snapshot(url: str) -> dict[str, Any]:
    """threadstore's tables (not the version table) as the database describes them."""
    return await on_connection(url, _snapshot)


async def table_names(url: str) -> set[str]:
    return set(await on_connection(url, lambda conn: inspect(conn).get_table_names()))


async def revision_of(url: str) -> str | None:
    return await on_connection(url, current_revision)


async def drift(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""

    def compare(conn: Connection) -> list[Any]:
        options = {**context_options(), "target_metadata": Base.metadata}
        return list(compare_metadata(MigrationContext.configure(conn, opts=options), Base.metadata))

    return await on_connection(url, compare)
