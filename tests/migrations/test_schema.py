"""The migrated schema: no drift from the models, every step reversible."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.migrations.support import (
    below,
    chain,
    drift,
    head,
    on_connection,
    revision_of,
    schema_snapshot,
    table_names,
)
from threadstore.migrations import VERSION_TABLE, downgrade, upgrade


def _kinds(diffs: list[Any]) -> set[str]:
    """The operation names of autogenerate's diffs (modify_* diffs come wrapped in a list)."""
    return {str(diff[0][0] if isinstance(diff, list) else diff[0]) for diff in diffs}


async def test_migrated_database_matches_the_models(empty_url: str) -> None:
    await upgrade(empty_url)
    assert await revision_of(empty_url) == head()
    assert await drift(empty_url) == []


async def test_drift_check_sees_what_it_should(empty_url: str, sql_backend: str) -> None:
    """Control: the comparison does notice a changed schema, and ignores foreign tables."""
    await upgrade(empty_url)
    statements = [
        "DROP INDEX ix_threadstore_threads_user_id_updated_at_id",
        "CREATE TABLE threadstore_stray (id INTEGER PRIMARY KEY)",
        "CREATE TABLE app_orders (id INTEGER PRIMARY KEY)",
    ]
    if sql_backend == "postgres":
        statements += [
            "ALTER TABLE threadstore_threads ALTER COLUMN message_count SET DEFAULT 7",
            "DROP INDEX ix_threadstore_threads_metadata_gin",  # GIN needs jsonb
            "ALTER TABLE threadstore_threads ALTER COLUMN metadata TYPE json",
            "ALTER TABLE threadstore_feedback ALTER COLUMN comment TYPE varchar(20)",
        ]

    def alter(conn: Connection) -> None:
        for statement in statements:
            conn.execute(text(statement))

    await on_connection(empty_url, alter)
    diffs = await drift(empty_url)
    kinds = _kinds(diffs)
    assert {"add_index", "remove_table"} <= kinds
    assert "app_orders" not in repr(diffs)
    if sql_backend == "postgres":
        assert {"modify_default", "modify_type"} <= kinds
        modified = {diff[0][3] for diff in diffs if isinstance(diff, list)}
        assert {"message_count", "metadata", "comment"} <= modified


POSTGRES_ONLY = frozenset({"0012"})
"""Revisions that change nothing on SQLite (their docstrings say so)."""


async def test_every_revision_goes_up_down_and_up_again(empty_url: str, sql_backend: str) -> None:
    before = await schema_snapshot(empty_url)
    assert before == {}
    for script in chain():
        await upgrade(empty_url, script.revision)
        after = await schema_snapshot(empty_url)
        if sql_backend == "sqlite" and script.revision in POSTGRES_ONLY:
            assert after == before, f"{script.revision} changed SQLite"
        else:
            assert after != before, f"{script.revision} changed nothing"
        await downgrade(empty_url, below(script.revision))
        assert await schema_snapshot(empty_url) == before, f"{script.revision} downgrade"
        await upgrade(empty_url, script.revision)
        assert await schema_snapshot(empty_url) == after, f"{script.revision} re-upgrade"
        assert await revision_of(empty_url) == script.revision
        before = after
    assert await drift(empty_url) == []


async def test_downgrade_to_base_leaves_only_an_empty_version_table(empty_url: str) -> None:
    await upgrade(empty_url)
    await downgrade(empty_url, "base")
    assert await table_names(empty_url) == {VERSION_TABLE}
    assert await revision_of(empty_url) is None
    assert await drift(empty_url) != []  # nothing left to match the models
