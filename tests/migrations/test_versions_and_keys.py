"""Revision 0004: thread versions, per-thread idempotency keys, keyset indexes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tests.migrations.support import on_connection
from threadstore import SQLAlchemyStore
from threadstore.migrations import downgrade, upgrade
from threadstore.models import Message, Thread

threads = Thread.__table__
messages = Message.__table__
_NOW = datetime(2026, 1, 1, tzinfo=UTC)
_KEY_INDEX = "ix_threadstore_messages_thread_id_idempotency_key"


def _thread(thread_id: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "user_id": "u",
        "agent_name": "a",
        "metadata": {},
        "created_at": _NOW,
        "updated_at": _NOW,
    }


def _message(thread_id: str, seq: int, key: str | None) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "seq": seq,
        "role": "user",
        "content": f"m{seq}",
        "metadata": {},
        "timestamp": _NOW,
        "idempotency_key": key,
    }


def _write_threads(conn: Connection) -> None:
    conn.execute(sa.insert(threads), [_thread("t1"), _thread("t2")])


async def _migrated(url: str) -> str:
    await upgrade(url)
    await on_connection(url, _write_threads)
    return url


async def test_idempotency_keys_are_unique_per_thread_and_nulls_never_collide(
    empty_url: str,
) -> None:
    url = await _migrated(empty_url)
    rows = [_message("t1", 0, None), _message("t1", 1, None), _message("t1", 2, "k")]
    rows.append(_message("t2", 0, "k"))  # the same key in another thread

    def insert_rows(conn: Connection) -> None:
        conn.execute(sa.insert(messages), rows)

    await on_connection(url, insert_rows)

    def insert_reused_key(conn: Connection) -> None:
        conn.execute(sa.insert(messages), _message("t1", 3, "k"))

    with pytest.raises(sa.exc.IntegrityError):
        await on_connection(url, insert_reused_key)

    def keys(conn: Connection) -> list[tuple[str, int, str | None]]:
        query = sa.select(messages.c.thread_id, messages.c.seq, messages.c.idempotency_key)
        return [tuple(row) for row in conn.execute(query.order_by("thread_id", "seq"))]

    assert await on_connection(url, keys) == [
        ("t1", 0, None),
        ("t1", 1, None),
        ("t1", 2, "k"),
        ("t2", 0, "k"),
    ]


async def test_a_retried_keyed_insert_infers_the_partial_index_and_writes_nothing(
    empty_url: str, sql_backend: str
) -> None:
    """The upsert a retry can use: ON CONFLICT (thread_id, idempotency_key) WHERE ..."""
    url = await _migrated(empty_url)
    dialect_insert = postgresql.insert if sql_backend == "postgres" else sqlite.insert

    def append(conn: Connection, seq: int) -> int:
        statement = (
            dialect_insert(messages)
            .values(_message("t1", seq, "retry-me"))
            .on_conflict_do_nothing(
                index_elements=[messages.c.thread_id, messages.c.idempotency_key],
                index_where=messages.c.idempotency_key.is_not(None),
            )
        )
        return conn.execute(statement).rowcount

    assert await on_connection(url, lambda conn: append(conn, 0)) == 1
    assert await on_connection(url, lambda conn: append(conn, 1)) == 0  # the retry

    def count(conn: Connection) -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()

    assert await on_connection(url, count) == 1


async def test_the_key_index_is_partial(empty_url: str, sql_backend: str) -> None:
    """Autogenerate ignores an index's WHERE, so the drift check cannot see this one."""
    await upgrade(empty_url)
    option = "postgresql_where" if sql_backend == "postgres" else "sqlite_where"

    def key_index(conn: Connection) -> dict[str, Any]:
        indexes = inspect(conn).get_indexes("threadstore_messages")
        return next(dict(ix) for ix in indexes if ix["name"] == _KEY_INDEX)

    index = await on_connection(empty_url, key_index)
    assert index["column_names"] == ["thread_id", "idempotency_key"]
    assert index["unique"]
    predicate = str(index["dialect_options"][option]).strip("()").lower()
    assert predicate == "idempotency_key is not null"


async def test_inserts_that_omit_the_new_columns_get_their_defaults(empty_url: str) -> None:
    """Until the store writes them: a new thread is at version 1, a message has no key."""
    await upgrade(empty_url)
    store = SQLAlchemyStore(empty_url)
    try:
        await store.initialize()
        await store.create_thread("fresh", "u", "a")

        def version(conn: Connection) -> int:
            query = sa.select(threads.c.version).where(threads.c.id == "fresh")
            return conn.execute(query).scalar_one()

        assert await on_connection(empty_url, version) == 1
        added = await store.add_message("fresh", "user", "hi")
    finally:
        await store.close()

    def key(conn: Connection) -> str | None:
        query = sa.select(messages.c.idempotency_key).where(messages.c.id == added["id"])
        return conn.execute(query).scalar_one()

    assert await on_connection(empty_url, key) is None


async def test_downgrade_keeps_the_rows_and_a_new_upgrade_restarts_versions(
    empty_url: str,
) -> None:
    url = await _migrated(empty_url)

    def write(conn: Connection) -> None:
        conn.execute(sa.update(threads).where(threads.c.id == "t1").values(version=9))
        conn.execute(sa.insert(messages), [_message("t1", 0, "k"), _message("t1", 1, None)])

    await on_connection(url, write)
    await downgrade(url, "0003")

    def rows_at_0003(conn: Connection) -> dict[str, Any]:
        columns = {c["name"] for c in inspect(conn).get_columns("threadstore_messages")}
        thread_columns = {c["name"] for c in inspect(conn).get_columns("threadstore_threads")}
        contents = conn.execute(
            sa.text("SELECT thread_id, seq, content FROM threadstore_messages ORDER BY seq")
        )
        ids = conn.execute(sa.text("SELECT id FROM threadstore_threads ORDER BY id"))
        return {
            "key column": "idempotency_key" in columns,
            "version column": "version" in thread_columns,
            "messages": [tuple(row) for row in contents],
            "threads": list(ids.scalars()),
        }

    assert await on_connection(url, rows_at_0003) == {
        "key column": False,
        "version column": False,
        "messages": [("t1", 0, "m0"), ("t1", 1, "m1")],
        "threads": ["t1", "t2"],
    }

    await upgrade(url)

    def rows_at_head(conn: Connection) -> dict[str, Any]:
        versions = conn.execute(sa.select(threads.c.id, threads.c.version).order_by("id"))
        keys = conn.execute(sa.select(messages.c.idempotency_key).order_by("seq"))
        return {"versions": [tuple(row) for row in versions], "keys": list(keys.scalars())}

    assert await on_connection(url, rows_at_head) == {
        "versions": [("t1", 1), ("t2", 1)],
        "keys": [None, None],
    }


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("threadstore_threads", ["user_id", "updated_at", "id"]),
        ("threadstore_threads", ["agent_name", "updated_at", "id"]),
        ("threadstore_feedback", ["thread_id", "created_at", "id"]),
        ("threadstore_feedback", ["user_id", "created_at", "id"]),
        ("threadstore_feedback", ["agent_name", "created_at", "id"]),
        ("threadstore_suspended_states", ["thread_id", "created_at", "id"]),
        ("threadstore_suspended_states", ["agent_name", "created_at", "id"]),
    ],
)
async def test_keyset_orders_have_an_index_ending_with_id(
    empty_sqlite_url: str, table: str, columns: list[str]
) -> None:
    """SQLite's planner reads a filtered keyset page in index order: no sort step."""
    await upgrade(empty_sqlite_url)
    filtered, *order = columns
    query = (
        f"SELECT * FROM {table} WHERE {filtered} = 'x' AND ({order[0]}, id) < ('z', 'z') "
        f"ORDER BY {order[0]} DESC, id DESC LIMIT 10"
    )

    def plan(conn: Connection) -> list[str]:
        return [row[-1] for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {query}"))]

    details = await on_connection(empty_sqlite_url, plan)
    assert any(f"ix_{table}_{'_'.join(columns)}" in detail for detail in details), details
    assert not any("TEMP B-TREE" in detail for detail in details), details
