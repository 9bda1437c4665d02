"""Full-text search in SQL: one statement on the search index, and no trace of erased words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import BaseStore, SQLAlchemyStore
from threadstore.store.search_inputs import SearchInput
from threadstore.store.sql.search_dialects import MAX_PG_SHAPES, MESSAGES, _pg_shape, statement

Call = Callable[[BaseStore], Awaitable[Any]]


async def _second_page(store: BaseStore) -> Any:
    first = await store.search_messages("refund", limit=2)
    return await store.search_messages("refund", limit=2, cursor=first["next_cursor"])


SEARCH_INDEX = "ix_threadstore_messages_search"
THREAD_INDEX = "uq_threadstore_messages_thread_id_seq"
"""PostgreSQL may read a few threads' messages through their thread instead (as cheap)."""
THREAD_TIME_INDEX = "ix_threadstore_messages_thread_id_timestamp_seq"
"""Or through the per-thread time index of revision 0007 (as cheap)."""
THREAD_KEY = "pk_threadstore_messages"
"""Or through the messages' key, (thread_id, id) since revision 0010 (as cheap)."""
TITLE_INDEX = "ix_threadstore_threads_search"

CASES: list[tuple[str, Call, set[str]]] = [
    ("every message", lambda s: s.search_messages("refund"), {SEARCH_INDEX}),
    ("two words, prefix", lambda s: s.search_messages("refu ord", prefix=True), {SEARCH_INDEX}),
    ("a second page", _second_page, {SEARCH_INDEX}),
    (
        "a user's",
        lambda s: s.search_messages("refund", user_id="u1"),
        {SEARCH_INDEX, THREAD_INDEX, THREAD_TIME_INDEX, THREAD_KEY},
    ),
    (
        "through a view",
        lambda s: s.for_user("u1").search_messages("refund order"),
        {SEARCH_INDEX, THREAD_INDEX, THREAD_TIME_INDEX},
    ),
    (
        "an agent's, one role",
        lambda s: s.search_messages("refund", agent_name="a1", role="user"),
        {SEARCH_INDEX},
    ),
    (
        "one thread",
        lambda s: s.search_messages("refund", thread_id="t3"),
        {SEARCH_INDEX, THREAD_INDEX, THREAD_TIME_INDEX, THREAD_KEY},
    ),
    ("thread titles", lambda s: s.search_threads("refund order"), {TITLE_INDEX}),
    (
        "a user's titles",
        lambda s: s.for_user("u1").search_threads("refund"),
        {TITLE_INDEX, "ix_threadstore_threads_user_id_created_at_id"},
    ),
]


async def _fill(store: BaseStore, clock: FakeClock) -> None:
    for n in range(12):
        await store.create_thread(f"t{n}", f"u{n % 3}", f"a{n % 2}", title=f"refund {n} order")
        await store.add_messages(
            f"t{n}",
            [
                {"role": ("user", "assistant")[i % 2], "content": f"message {i} of {n} " + word}
                for i, word in enumerate(["refund my order", "the weather", "order status"] * 5)
            ],
        )
        clock.advance()


async def _plan(store: SQLAlchemyStore, call: Call) -> str:
    with recorded(store) as statements:
        await call(store)
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
        fts = (
            "threadstore_search_threads"
            if TITLE_INDEX in indexes
            else "threadstore_search_messages"
        )
        assert f"{fts} VIRTUAL TABLE INDEX" in plan, plan
        assert "SCAN d" not in plan, plan
        assert "SCAN r" not in plan, plan


async def _index_blocks(store: SQLAlchemyStore) -> list[bytes]:
    async with store.engine.connect() as conn:
        blocks: list[bytes] = []
        for table in ("threadstore_search_messages", "threadstore_search_threads"):
            rows = await conn.execute(text(f"SELECT block FROM {table}_data"))
            blocks += [bytes(row[0]) for row in rows]
        return blocks


async def test_erasure_leaves_no_word_of_the_user_in_the_sqlite_index(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with SQLAlchemyStore(sqlite_url, clock=clock) as store:
        await _fill(store, clock)
        await store.create_thread("secret", "erin", "a1", title="quuxtitleword plans")
        await store.add_message("secret", "user", "zanzibarquux is my refund code")
        await store.add_message("t1", "user", "refund for keptword")
        before = await _index_blocks(store)
        assert any(b"zanzibarquux" in block for block in before)
        assert any(b"quuxtitleword" in block for block in before)
        await store.delete_thread("t2")  # a plain delete only tombstones the words...
        await store.erase_user("erin")  # ...erasure rewrites the index without them
        blocks = await _index_blocks(store)
        assert not any(b"zanzibarquux" in block for block in blocks)
        assert not any(b"quuxtitleword" in block for block in blocks)
        assert any(b"keptword" in block for block in blocks)
        assert (await store.search_messages("zanzibarquux"))["items"] == []
        assert len((await store.search_messages("keptword"))["items"]) == 1


async def test_every_write_path_keeps_the_sqlite_index_equal_to_the_messages(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with SQLAlchemyStore(sqlite_url, clock=clock) as store:
        await _fill(store, clock)
        await store.fork_thread("t1", 7, "fork", title="forked refund")
        await store.update_thread("t4", title="renamed")
        await store.update_thread("t5", title=None)
        await store.delete_thread("t3")
        await store.erase_user("u2")
        clock.advance(86400 * 10)
        await store.add_message("t0", "user", "recent refund")
        await store.delete_idle_threads(older_than=clock.now - clock.now.resolution * 10**6)
        async with store.engine.connect() as conn:
            # FTS5's own consistency check (of the messages' index against the messages)
            for table in ("threadstore_search_messages", "threadstore_search_threads"):
                await conn.execute(
                    text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
                )
            mapped = await conn.scalar(
                text(
                    "SELECT count(*) FROM threadstore_search_thread_rows AS r "
                    "JOIN threadstore_threads AS t ON t.id = r.thread_id "
                    "JOIN threadstore_search_threads AS f ON f.rowid = r.id AND f.title = t.title"
                )
            )
            titled = await conn.scalar(
                text("SELECT count(*) FROM threadstore_threads WHERE title IS NOT NULL")
            )
            rows = await conn.scalar(text("SELECT count(*) FROM threadstore_search_thread_rows"))
            assert mapped == titled == rows
            count = await conn.scalar(
                text("SELECT count(*) FROM threadstore_messages WHERE content LIKE 'message %'")
            )
        hits = await store.search_messages("message", limit=1000)
        assert len(hits["items"]) == count
        assert count > 0
        assert (await store.search_messages("recent"))["items"][0]["thread_id"] == "t0"


def _search(*terms: str, prefix: bool = False) -> SearchInput:
    return SearchInput(
        terms=terms,
        prefix=prefix,
        user_id=None,
        agent_name=None,
        thread_id=None,
        role=None,
        highlight=("[", "]"),
    )


def test_a_postgres_search_asked_again_reuses_its_statement() -> None:
    """The statement (and so its memoized cache key) is kept per tsquery and shape, bounded."""
    first, _, per_call = statement("postgresql", MESSAGES, _search("zanzibar"), [], "", False)
    again, _, _ = statement("postgresql", MESSAGES, _search("zanzibar"), [], "", False)
    assert per_call
    assert again is first
    assert (
        statement("postgresql", MESSAGES, _search("zanzibar", prefix=True), [], "", False)[0]
        is not first
    )
    assert statement("postgresql", MESSAGES, _search("refund"), [], "", False)[0] is not first
    other_shape = statement(
        "postgresql", MESSAGES, _search("zanzibar"), ["d.role = :role"], "", True
    )
    assert other_shape[0] is not first
    assert "'zanzibar'" in str(first)
    assert _pg_shape.cache_info().maxsize == MAX_PG_SHAPES
