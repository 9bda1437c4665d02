"""query_threads / query_messages pages are one statement each, read through an index."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import BaseStore, SQLAlchemyStore

GIN_THREADS = "ix_threadstore_threads_metadata_gin"
GIN_MESSAGES = "ix_threadstore_messages_metadata_gin"
BY_TIME = "ix_threadstore_messages_timestamp_thread_id_seq"
IN_THREAD = "ix_threadstore_messages_thread_id_timestamp_seq"
"""(thread_id, timestamp, seq) INCLUDE (role) on PostgreSQL (0011)."""
IN_THREAD_SQLITE = "ix_threadstore_messages_thread_id_timestamp_seq_role"
"""SQLite's: role as a fourth key column (0011), as it has no INCLUDE."""
THREAD_SEQ_SQLITE = "sqlite_autoindex_threadstore_messages_1"
"""SQLite's (thread_id, seq) unique index: also reads a thread's messages (then sorted)."""
THREAD_KEY = {
    "postgres": "pk_threadstore_messages",
    "sqlite": "ix_threadstore_messages_thread_id_id",
}
"""A thread's messages by their key (thread_id, id) of revision 0010: as cheap for a few threads."""

# (name, view, method, filters, {dialect: the index, or one of the indexes, it reads}, may sort)
CASES: list[tuple[str, str | None, str, dict[str, Any], dict[str, list[str]], bool]] = [
    (
        "threads of an agent",
        None,
        "query_threads",
        {"agent_name": "a1"},
        {"*": ["ix_threadstore_threads_agent_name_updated_at_id"]},
        False,
    ),
    (
        "a user's threads (a view)",
        "alice",
        "query_threads",
        {},
        {"*": ["ix_threadstore_threads_user_id_updated_at_id"]},
        False,
    ),
    (
        "threads updated lately",
        None,
        "query_threads",
        {"updated_after": "2026-01-01T00:00:30+00:00"},
        {"*": ["ix_threadstore_threads_updated_at_id"]},
        False,
    ),
    (
        "threads created lately, by creation",
        None,
        "query_threads",
        {"order": "created", "created_after": "2026-01-01T00:00:30+00:00"},
        {"*": ["ix_threadstore_threads_created_at_id"]},
        False,
    ),
    (
        "threads by metadata",
        None,
        "query_threads",
        {"metadata_contains": {"batch": 7, "tags": ["vip"]}},
        {"postgres": [GIN_THREADS], "sqlite": ["ix_threadstore_threads_updated_at_id"]},
        True,
    ),
    ("newest messages", None, "query_messages", {}, {"*": [BY_TIME]}, False),
    ("messages of a role", None, "query_messages", {"role": "user"}, {"*": [BY_TIME]}, False),
    (
        "messages of a time range",
        None,
        "query_messages",
        {"created_after": "2026-01-01T00:01:00+00:00"},
        {"*": [BY_TIME]},
        False,
    ),
    (
        "messages of a thread",
        None,
        "query_messages",
        {"thread_id": "t1"},
        {"postgres": [IN_THREAD], "sqlite": [IN_THREAD_SQLITE]},
        False,
    ),
    (
        "messages of a user (a view)",
        "alice",
        "query_messages",
        {},
        # newest messages checked against the thread's key, or the user's threads first
        {
            "postgres": [BY_TIME, IN_THREAD, THREAD_KEY["postgres"]],
            "sqlite": [BY_TIME, IN_THREAD_SQLITE, THREAD_SEQ_SQLITE, THREAD_KEY["sqlite"]],
        },
        True,
    ),
    (
        "messages of an agent",
        None,
        "query_messages",
        {"agent_name": "a1"},
        {
            "postgres": [BY_TIME, IN_THREAD, THREAD_KEY["postgres"]],
            "sqlite": [BY_TIME, IN_THREAD_SQLITE, THREAD_SEQ_SQLITE, THREAD_KEY["sqlite"]],
        },
        True,
    ),
    (
        "messages by metadata",
        None,
        "query_messages",
        {"metadata_contains": {"kind": "a", "n": 7}},  # 1% of the messages
        {"postgres": [GIN_MESSAGES], "sqlite": [BY_TIME]},
        True,
    ),
]


async def _fill(store: BaseStore, clock: FakeClock) -> None:
    """200 threads: a1 owns 10, alice 20; 900 messages, 100 of them in t1."""
    for n in range(200):
        clock.advance()
        await store.create_thread(
            f"t{n}",
            "alice" if n % 10 == 1 else ("bob", "carol", "dave")[n % 3],
            f"a{n % 20}",
            metadata={"batch": n % 25, "tier": "gs"[n % 2], "tags": ["vip"] if n % 3 else []},
        )
    for n in range(800):
        clock.advance()
        await store.add_message(
            f"t{n % 200}",
            ("user", "assistant")[n % 2],
            "hi",
            metadata={"n": n % 100, "kind": "qa"[n % 2]},
        )
    for _ in range(100):
        clock.advance()
        await store.add_message("t1", "user", "more")


async def _plan(
    store: SQLAlchemyStore, sql_backend: str, statement: str, params: Any, *, bitmap: bool
) -> str:
    async with store.engine.connect() as conn:
        if sql_backend == "postgres":
            await conn.exec_driver_sql("ANALYZE")
            await conn.exec_driver_sql("SET enable_seqscan = off")
            if bitmap:  # only a bitmap scan may serve it: which index can?
                await conn.exec_driver_sql("SET enable_indexscan = off")
            result = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
            return "\n".join(str(row[0]) for row in result)
        result = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        return "\n".join(str(row[-1]) for row in result)


async def _statements(store: SQLAlchemyStore, call: Any, **arguments: Any) -> list[Any]:
    """The statements one call runs, with its result last."""
    with recorded(store) as statements:
        result = await call(**arguments)
    return [*statements, result]


@pytest.mark.parametrize(
    ("name", "view", "method", "filters", "indexes", "may_sort"),
    CASES,
    ids=[c[0] for c in CASES],
)
async def test_pages_are_one_statement_on_their_index(
    db_url: str,
    sql_backend: str,
    clock: FakeClock,
    name: str,
    view: str | None,
    method: str,
    filters: dict[str, Any],
    indexes: dict[str, list[str]],
    may_sort: bool,
) -> None:
    """The first page and a deeper one (a row-value range) each read one named index.

    On PostgreSQL a metadata query's first page is planned with bitmap scans
    only, to show that the GIN index serves ``@>``: at this size the planner
    rightly prefers reading the sort order's B-tree and filtering (as it does
    for needles most rows match), and may do so for the deeper page.
    """
    store = SQLAlchemyStore(db_url, clock=clock)
    await store.initialize()
    try:
        await _fill(store, clock)
        target: BaseStore = store if view is None else store.for_user(view)
        call = getattr(target, method)
        *first, page = await _statements(store, call, limit=2, **filters)
        assert page["next_cursor"] is not None, name
        *deeper, _ = await _statements(store, call, limit=2, cursor=page["next_cursor"], **filters)
        assert len(first) == len(deeper) == 1, name
        wanted = indexes.get(sql_backend, indexes.get("*", []))
        for depth, ((statement, params),) in enumerate((first, deeper)):
            gin = "metadata_contains" in filters and sql_backend == "postgres"
            text = await _plan(store, sql_backend, statement, params, bitmap=gin and depth == 0)
            if depth == 0 or not gin:
                assert any(index in text for index in wanted), text
            assert "Seq Scan" not in text, text
            assert not re.search(r"SCAN threadstore_\w+$", text, re.MULTILINE), text
            if not may_sort:
                assert "TEMP B-TREE" not in text, text  # SQLite reads in the index's order
                assert "Sort" not in text, text
    finally:
        await store.close()


RECORD_CASES: list[tuple[str, str | None, str, dict[str, Any], str]] = [
    ("newest calls", None, "query_tool_calls_page", {}, "ix_threadstore_tool_calls_created_at_id"),
    (
        "calls of an agent",
        None,
        "query_tool_calls_page",
        {"agent_name": "a1"},
        "ix_threadstore_tool_calls_agent_name_created_at_id",
    ),
    (
        "a user's calls",
        "alice",
        "query_tool_calls_page",
        {},
        "ix_threadstore_tool_calls_user_id_created_at_id",
    ),
    (
        "runs of a thread",
        None,
        "list_invocation_logs_page",
        {"thread_id": "t1"},
        "ix_threadstore_invocation_logs_thread_id_timestamp_id",
    ),
    (
        "a user's runs",
        "alice",
        "list_invocation_logs_page",
        {},
        "ix_threadstore_invocation_logs_user_id_timestamp_id",
    ),
]


@pytest.mark.parametrize(
    ("name", "view", "method", "filters", "index"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES]
)
async def test_record_pages_read_a_range_of_their_index(
    db_url: str,
    sql_backend: str,
    clock: FakeClock,
    name: str,
    view: str | None,
    method: str,
    filters: dict[str, Any],
    index: str,
) -> None:
    """A deeper page of tool calls or runs is one statement, in its index's order."""
    store = SQLAlchemyStore(db_url, clock=clock)
    await store.initialize()
    try:
        await store.create_thread("t1", "alice", "a1")
        await store.create_thread("t2", "bob", "a2")
        for n in range(200):
            clock.advance()
            thread = ("t1", "t2", None, None)[n % 4]
            await store.create_invocation_log(agent_name=f"a{n % 10}", thread_id=thread)
            await store.record_tool_call(
                tool_name="bash", agent_name=f"a{n % 10}", thread_id=thread
            )
        target: BaseStore = store if view is None else store.for_user(view)
        call = getattr(target, method)
        page = await call(limit=2, **filters)
        *statements, _ = await _statements(
            store, call, limit=2, cursor=page["next_cursor"], **filters
        )
        assert len(statements) == 1, name
        ((statement, params),) = statements
        text = await _plan(store, sql_backend, statement, params, bitmap=False)
        assert index in text, text
        assert "Seq Scan" not in text, text
        assert "Sort" not in text, text
        assert "TEMP B-TREE" not in text, text
    finally:
        await store.close()
