"""Revision 0010 on real databases: the keys the models declare per dialect, and its downgrade.

tests/unit/test_distribution_keys.py reads the rule from the metadata; this
checks that the migrated SQLite file and PostgreSQL database have exactly
those primary keys (per :func:`primary_key_columns`) and unique indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tests.migrations.support import on_connection
from threadstore.migrations import downgrade, upgrade
from threadstore.models import Base
from threadstore.models.base import primary_key_columns

_KEYED = ("threadstore_messages", "threadstore_feedback", "threadstore_suspended_states")


def _keys(conn: Connection) -> dict[str, tuple[tuple[str, ...], set[tuple[str, ...]]]]:
    inspector = inspect(conn)
    return {
        table: (
            tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            {
                tuple(str(c) for c in index["column_names"])
                for index in inspector.get_indexes(table)
                if index["unique"]
            }
            | {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)},
        )
        for table in _KEYED
    }


async def test_migrated_keys_are_the_models_keys_of_the_dialect(empty_url: str) -> None:
    await upgrade(empty_url)
    dialect = "sqlite" if empty_url.startswith("sqlite") else "postgresql"
    found = await on_connection(empty_url, _keys)
    for table in _KEYED:
        pk, unique = found[table]
        assert pk == primary_key_columns(Base.metadata.tables[table], dialect)
        assert ("thread_id", "id") in {pk} | unique  # the shard key of each row, everywhere
    assert found["threadstore_messages"][0] == (
        ("id",) if dialect == "sqlite" else ("thread_id", "id")
    )
    assert found["threadstore_suspended_states"][0] == ("thread_id", "id")


_suspended = sa.table(
    "threadstore_suspended_states",
    *(sa.column(c, sa.String()) for c in ("id", "thread_id", "agent_name", "node_name")),
    sa.column("state_snapshot", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("expires_at", sa.DateTime(timezone=True)),
)


def _two_threads_one_approval_id(conn: Connection) -> None:
    """What the (thread_id, id) key allows and the store never writes: one id in two threads."""
    at = datetime(2025, 9, 1, tzinfo=UTC)
    for n, thread in enumerate(("t-old", "t-new")):
        conn.execute(
            sa.text(
                "INSERT INTO threadstore_threads (id, user_id, agent_name, metadata, created_at, "
                "updated_at, message_count, version) VALUES (:t, 'u', 'a', '{}', :at, :at, 0, 1)"
            ),
            {"t": thread, "at": at},
        )
        conn.execute(
            sa.insert(_suspended).values(
                id="shared",
                thread_id=thread,
                agent_name="a",
                node_name="n",
                state_snapshot={"n": n},
                created_at=at + timedelta(minutes=n),
                expires_at=at + timedelta(days=1),
            )
        )


async def test_downgrade_keeps_the_newest_row_of_an_approval_id(empty_url: str) -> None:
    await upgrade(empty_url)
    await on_connection(empty_url, _two_threads_one_approval_id)
    await downgrade(empty_url, "0009")
    rows = await on_connection(
        empty_url,
        lambda conn: conn.execute(sa.select(_suspended.c.id, _suspended.c.thread_id)).all(),
    )
    assert [tuple(row) for row in rows] == [("shared", "t-new")]
    keys = await on_connection(empty_url, _keys)
    assert keys["threadstore_suspended_states"][0] == ("id",)
    assert keys["threadstore_messages"][0] == ("id",)
    await upgrade(empty_url)
