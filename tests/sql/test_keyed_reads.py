"""Filtered queries, searches and aggregates run on the driver too.

query_threads and query_messages build their statements once per shape
(:mod:`threadstore.store.sql.query_shapes`); searches, aggregates and
SQLite's metadata containment build theirs on every call, and
:meth:`DirectStatements.keyed` compiles each statement *structure* once and
takes this call's values from the new statement's bound parameters.
These tests pin that the values really are this call's (a second call with
other filters reads other rows through the same compiled entry), that every
such read returns what SQLAlchemy's own execution returns, and that the
cache stays bounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Numeric, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import SQLAlchemyStore
from threadstore.store.sql.direct import MAX_KEYED, DirectStatements
from threadstore.store.sql.run_tables import invocation_logs
from threadstore.store.sql.tables import threads

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SQLAlchemyStore]:
    clock = FakeClock(START)
    async with SQLAlchemyStore(db_url, clock=clock) as opened:
        for n, (user, agent) in enumerate(
            [("alice", "travel"), ("bob", "travel"), ("alice", "coder"), ("carol", "coder")]
        ):
            clock.advance(60)
            thread = f"t{n}"
            await opened.create_thread(thread, user, agent, metadata={"tier": n % 2})
            for i in range(5):
                clock.advance(1)
                words = "refund please" if i % 2 else "hello there"
                await opened.add_message(
                    thread, "user" if i % 2 else "assistant", f"{words} {n}", metadata={"i": i}
                )
            await opened.record_tool_call(
                tool_name="search", agent_name=agent, thread_id=thread, is_error=bool(n % 2)
            )
            await opened.create_invocation_log(
                agent_name=agent, thread_id=thread, input_tokens=10 * n, cost=0.5 * n
            )
        yield opened


Read = Callable[[SQLAlchemyStore, Any], Awaitable[Any]]
"""A read given the store and a cursor (None: the first page; unpaged reads ignore it)."""
READS: dict[str, Read] = {
    "query_threads by user": lambda s, c: s.query_threads(user_id="alice", limit=1, cursor=c),
    "query_threads by agent, metadata": lambda s, c: s.query_threads(
        agent_name="coder", metadata_contains={"tier": 1}, cursor=c
    ),
    "query_threads, created after": lambda s, c: s.query_threads(
        created_after=START + timedelta(seconds=130),
        order="created",
        newest_first=False,
        limit=1,
        cursor=c,
    ),
    "query_messages by user and role": lambda s, c: s.query_messages(
        user_id="alice", role="user", limit=3, cursor=c
    ),
    "query_messages, metadata": lambda s, c: s.query_messages(
        metadata_contains={"i": 3}, limit=2, cursor=c
    ),
    "query_messages in a thread": lambda s, c: s.query_messages(
        thread_id="t2", newest_first=False, limit=2, cursor=c
    ),
    "search": lambda s, c: s.search_messages("refund", limit=3, cursor=c),
    "search, one user": lambda s, c: s.search_messages("refund", user_id="bob", cursor=c),
    "aggregate_stats": lambda s, c: s.aggregate_stats(agent_name="travel"),
    "aggregate_stats by hour": lambda s, c: s.aggregate_stats(bucket="hour"),
    "tool calls": lambda s, c: s.query_tool_calls_page(is_error=True, limit=1, cursor=c),
    "invocation logs": lambda s, c: s.list_invocation_logs_page(
        agent_name="coder", limit=1, cursor=c
    ),
}


def _entries(direct: DirectStatements) -> int:
    """Statements compiled for the driver: built once per shape, or found by cache key."""
    return len(direct._compiled) + len(direct._keyed)


async def _walk(store: SQLAlchemyStore, read: Read) -> list[Any]:
    """Every page of ``read``, following ``next_cursor`` where it pages."""
    pages = [await read(store, None)]
    while isinstance(pages[-1], dict) and pages[-1].get("next_cursor") is not None:
        assert len(pages) < 20, "the cursor does not advance"
        pages.append(await read(store, pages[-1]["next_cursor"]))
    return pages


@pytest.mark.parametrize("name", list(READS))
async def test_a_per_call_read_reads_what_sqlalchemy_reads(
    store: SQLAlchemyStore, name: str
) -> None:
    """Driver path and SQLAlchemy's path (forced by a statement listener) agree, page by page."""
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    before = _entries(direct)
    fast = await _walk(store, READS[name])
    assert _entries(direct) > before, "the read did not take the driver's path"
    with recorded(store) as statements:
        slow = await _walk(store, READS[name])
    assert statements, "the listener saw no statement"
    assert fast == slow
    assert all(page.get("items", page.get("messages")) for page in fast)  # each selects rows


async def test_one_structure_compiles_once_and_reads_each_calls_values(
    store: SQLAlchemyStore, sql_backend: str
) -> None:
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    alice = await store.query_threads(user_id="alice")
    entries = _entries(direct)
    bob = await store.query_threads(user_id="bob")
    carol = await store.query_threads(user_id="carol", limit=1)
    assert _entries(direct) == entries  # same structure: no new entry
    assert [t["id"] for t in alice["items"]] == ["t2", "t0"]
    assert [t["id"] for t in bob["items"]] == ["t1"]
    assert [t["id"] for t in carol["items"]] == ["t3"]
    tagged = {n: await store.query_messages(metadata_contains={"i": n}) for n in (1, 2)}
    assert {m["metadata"]["i"] for m in tagged[1]["items"]} == {1}
    assert {m["metadata"]["i"] for m in tagged[2]["items"]} == {2}
    entries = _entries(direct)
    hits = {w: await store.search_messages(w) for w in ("refund", "hello")}
    # SQLite binds the words (one statement); PostgreSQL writes each into its text
    assert _entries(direct) == entries + (1 if sql_backend == "sqlite" else 2)
    assert {h["content"].split()[0] for h in hits["refund"]["items"]} == {"refund"}
    assert {h["content"].split()[0] for h in hits["hello"]["items"]} == {"hello"}


def test_the_keyed_cache_is_bounded_and_evicted_structures_recompile() -> None:
    direct = DirectStatements(sqlite.dialect())
    made = [
        select(threads.c.id).where(threads.c.id == f"x{n}", literal(n) == literal(n))
        for n in range(MAX_KEYED + 40)
    ]
    # each statement has its own structure: n literals compare in a distinct label
    distinct = [
        select(threads.c.id, *[literal(i).label(f"c{i}") for i in range(n % 7 + 1)]).where(
            threads.c.user_id == f"u{n}", *[threads.c.id != f"i{k}" for k in range(n)]
        )
        for n in range(MAX_KEYED + 40)
    ]
    for statement in made + distinct:
        found = direct.keyed(statement, None)
        assert found is not None
    assert len(direct._keyed) <= MAX_KEYED * 1.5  # SQLAlchemy's LRUCache prunes past its threshold
    compiled, values = direct.keyed(distinct[0], None) or (None, {})
    assert compiled is not None
    assert values["user_id_1"] == "u0"


def test_a_decimal_result_column_takes_sqlalchemys_path() -> None:
    """asyncpg's Numeric processors need the driver's column type: those reads fall back.

    A Float result (``asdecimal=False``, e.g. a sum of costs) is read directly
    and converted with ``float`` (PostgreSQL may send a numeric for it).
    """
    direct = DirectStatements(postgresql.asyncpg.dialect())
    exact = select(cast(invocation_logs.c.cost, Numeric(12, 4)))
    assert direct.keyed(exact, None) is None
    costs = select(func.coalesce(func.sum(invocation_logs.c.cost), 0))
    found = direct.keyed(costs, None)
    assert found is not None
    assert found[0].columns[0][1] is float
    counts = select(func.count()).select_from(invocation_logs)
    assert direct.keyed(counts, None) is not None
