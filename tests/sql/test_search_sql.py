"""Full-text search in SQL: one statement on the search index, and no trace of erased words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.conftest import FakeClock
from threadstore import BaseStore, SQLAlchemyStore

Call = Callable[[BaseStore], Awaitable[Any]]


async def _second_page(store: BaseStore) -> Any:
    first = await store.search_messages("refund", limit=2)
    return await store.search_messages("refund", limit=2, cursor=first["next_cursor"])


SEARCH_INDEX = "ix_threadstore_messages_search"
THREAD_INDEX = "uq_threadstore_messages_thread_id_seq"
"""PostgreSQL may read a few threads' messages through their thread instead (as cheap)."""

CASES: list[tuple[str, Call, set[str]]] = [
    ("every message", lambda s: s.search_messages("refund"), {SEARCH_INDEX}),
    ("two words, prefix", lambda s: s.search_messages("refu ord", prefix=True), {SEARCH_INDEX}),
    ("a second page", _second_page, {SEARCH_INDEX}),
    ("a user's", lambda s: s.search_messages("refund", user_id="u1"), {SEARCH_INDEX, THREAD_INDEX}),
    ("through a view", lambda s: s.for_user("u1").search_messages("refund order"), {SEARCH_INDEX}),
    (
        "an agent's, one role",
        lambda s: s.search_messages("refund", agent_name="a1", role="user"),
        {SEARCH_INDEX},
    ),
    (
        "one thread",
        lambda s: s.search_messages("refund", thread_id="t3"),
        {SEARCH_INDEX, THREAD_INDEX},
    ),
]


async def _fill(store: BaseStore, clock: FakeClock) -> None:
    for n in range(12):
        await store.create_thread(f"t{n}", f"u{n % 3}", f"a{n % 2}")
        await store.add_messages(
            f"t{n}",
            [
                {"role": ("user", "assistant")[i % 2], "content": f"message {i} of {n} " + word}
                for i, word in enumerate(["refund my order", "the weather", "order status"] * 5)
            ],
        )
        clock.advance()


async def _plan(store: SQLAlchemyStore, call: Call) -> str:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        await call(store)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) == (2 if call is _second_page else 1)
    statement, params = statements[-1]
    async with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("ANALYZE")
            await conn.exec_driver_sql("SET enable_seqscan = off")
            result = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
            return "\n".join(str(row[0]) for row in result)
        result = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        return "\n".join(str(row[-1]) for row in result)


@pytest.mark.parametrize(("name", "call", "indexes"), CASES, ids=[c[0] for c in CASES])
async def test_a_search_is_one_statement_on_the_search_index(
    db_url: str, sql_backend: str, clock: FakeClock, name: str, call: Call, indexes: set[str]
) -> None:
    async with SQLAlchemyStore(db_url, clock=clock) as store:
        await _fill(store, clock)
        plan = await _plan(store, call)
    if sql_backend == "postgres":
        assert any(index in plan for index in indexes), plan
        assert "Seq Scan" not in plan, plan
    else:
        assert "threadstore_messages_fts VIRTUAL TABLE INDEX" in plan, plan
        assert "SCAN m" not in plan, plan


async def _index_blocks(store: SQLAlchemyStore) -> list[bytes]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(text("SELECT block FROM threadstore_messages_fts_data"))
        return [bytes(row[0]) for row in rows]


async def test_erasure_leaves_no_word_of_the_user_in_the_sqlite_index(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with SQLAlchemyStore(sqlite_url, clock=clock) as store:
        await _fill(store, clock)
        await store.create_thread("secret", "erin", "a1")
        await store.add_message("secret", "user", "zanzibarquux is my refund code")
        await store.add_message("t1", "user", "refund for keptword")
        assert any(b"zanzibarquux" in block for block in await _index_blocks(store))
        await store.delete_thread("t2")  # a plain delete only tombstones the words...
        await store.erase_user("erin")  # ...erasure rewrites the index without them
        blocks = await _index_blocks(store)
        assert not any(b"zanzibarquux" in block for block in blocks)
        assert any(b"keptword" in block for block in blocks)
        assert (await store.search_messages("zanzibarquux"))["items"] == []
        assert len((await store.search_messages("keptword"))["items"]) == 1


async def test_every_write_path_keeps_the_sqlite_index_equal_to_the_messages(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with SQLAlchemyStore(sqlite_url, clock=clock) as store:
        await _fill(store, clock)
        await store.fork_thread("t1", 7, "fork")
        await store.delete_thread("t3")
        await store.erase_user("u2")
        clock.advance(86400 * 10)
        await store.add_message("t0", "user", "recent refund")
        await store.delete_idle_threads(older_than=clock.now - clock.now.resolution * 10**6)
        async with store.engine.connect() as conn:
            # FTS5's own consistency check of an external-content table against its content
            await conn.execute(
                text(
                    "INSERT INTO threadstore_messages_fts(threadstore_messages_fts, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )
            count = await conn.scalar(
                text("SELECT count(*) FROM threadstore_messages WHERE content LIKE 'message %'")
            )
        hits = await store.search_messages("message", limit=1000)
        assert len(hits["items"]) == count
        assert count > 0
        assert (await store.search_messages("recent"))["items"][0]["thread_id"] == "t0"
