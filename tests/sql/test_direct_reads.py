"""Hot one-call reads run on the driver itself (threadstore.store.sql.direct).

SQLAlchemy compiles each hot read once; a one-call read in autocommit then
runs that SQL on the asyncpg connection or the SQLite worker's cursor. These
tests pin that the shortcut is invisible: every hot statement shape returns
exactly the rows SQLAlchemy's own execution returns, the shortcut is really
taken, and a driver failure on it becomes the same threadstore error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import SQLAlchemyStore
from threadstore.errors import PersistenceConnectionError, SchemaOutOfDateError
from threadstore.store.checkpoint_rows import WriteRow
from threadstore.store.sql import checkpoints, messages, threads
from threadstore.store.sql.direct import DirectStatements


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SQLAlchemyStore]:
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC))
    async with SQLAlchemyStore(db_url, clock=clock) as opened:
        await opened.create_thread("root", "alice", "helper", title="Root", metadata={"k": [1]})
        batch = [
            {"role": "user", "content": f"m{i} ünï", "metadata": {"i": i, "x": None}}
            for i in range(12)
        ]
        await opened.add_messages("root", batch)
        for i in range(3):
            clock.advance(1.5)
            await opened.fork_thread("root" if i == 0 else f"f{i - 1}", 0, f"f{i}")
        for n in range(3):
            clock.advance(0.25)
            state = {"step": n, "v": [n, "a"]}
            parent = f"c{n - 1}" if n else None
            await opened.save_checkpoint("root", "", f"c{n}", parent, state, {"n": n})
        yield opened


def _shapes() -> list[tuple[str, Any, dict[str, Any]]]:
    """Every hot statement shape with parameters that select rows."""
    shapes: list[tuple[str, Any, dict[str, Any]]] = [
        ("thread", threads._BY_ID, {"thread_id": "root"}),
        ("thread, owned", threads._BY_ID_OWNED, {"thread_id": "root", "owner": "alice"}),
        ("missing thread", threads._BY_ID, {"thread_id": "nope"}),
    ]
    for scoped, by_agent, by_user in itertools.product((False, True), repeat=3):
        params: dict[str, Any] = {"limit": 10, "offset": 1}
        if scoped:
            params["owner"] = "alice"
        if by_agent:
            params["agent_name"] = "helper"
        if by_user:
            params["user_id"] = "alice"
        query = threads._find_query(scoped=scoped, by_agent=by_agent, by_user=by_user)
        shapes.append((f"threads {scoped=} {by_agent=} {by_user=}", query, params))
    for scoped in (False, True):
        params = {"thread_id": "f2"} | ({"owner": "alice"} if scoped else {})
        shapes.append((f"lineage {scoped=}", threads._lineage_query(scoped=scoped), params))
    for scoped, after, before, newest in itertools.product((False, True), repeat=4):
        params = {"thread_id": "root", "limit": 5, "offset": 1}
        if scoped:
            params["owner"] = "alice"
        if after:
            params["after_seq"] = 2
        if before:
            params["before_seq"] = 11
        query = messages._page_query(scoped=scoped, after=after, before=before, newest_first=newest)
        shapes.append((f"page {scoped=} {after=} {before=} {newest=}", query, params))
    for scoped, by_id in itertools.product((False, True), repeat=2):
        params = {"thread_id": "root", "checkpoint_ns": ""}
        if scoped:
            params["owner"] = "alice"
        if by_id:
            params["checkpoint_id"] = "c1"
        query = checkpoints._one(scoped=scoped, by_id=by_id)
        shapes.append((f"checkpoint {scoped=} {by_id=}", query, params))
    return shapes


async def test_every_hot_shape_reads_what_sqlalchemy_reads(store: SQLAlchemyStore) -> None:
    """Each shape, run on the driver and through SQLAlchemy, gives equal rows and types."""
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    selected = 0
    for name, query, params in _shapes():
        assert direct.get(query) is not None, f"{name}: not eligible for the direct path"
        async with store._open_unit(write=False, block=False) as unit:
            fast = [dict(row) for row in await unit.fetch(query, params)]
        async with store._open_unit(write=False, block=True) as unit:  # SQLAlchemy's path
            slow = [dict(row) for row in await unit.fetch(query, params)]
        assert fast == slow, name
        assert [{k: type(v) for k, v in row.items()} for row in fast] == [
            {k: type(v) for k, v in row.items()} for row in slow
        ], name
        selected += bool(fast)
    assert selected == len(_shapes()) - 1  # only the missing thread selects nothing


async def test_the_savers_reads_read_what_sqlalchemy_reads(store: SQLAlchemyStore) -> None:
    """The saver's latest/by-id statements (a UNION with the pending writes) agree both ways."""
    saver = store._ctx.saver_statements
    async with store._open_unit(write=True, block=False) as unit:
        write = WriteRow("task-1", 0, "ch", "json", b"\x00x", "")
        await unit.checkpoint_rows.put_writes(("root", "", "c2"), [write], replace=True)
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    base = {"thread_id": "root", "ns": ""}
    for query, params in (
        (saver.get_latest, base),
        (saver.get_by_id, base | {"checkpoint_id": "c1"}),
    ):
        assert direct.get(query) is not None
        async with store._open_unit(write=False, block=False) as unit:
            fast = [dict(row) for row in await unit.fetch(query, params)]
        async with store._open_unit(write=False, block=True) as unit:
            slow = [dict(row) for row in await unit.fetch(query, params)]
        assert fast == slow
        assert fast


async def test_store_reads_take_the_direct_path(store: SQLAlchemyStore) -> None:
    """The public reads compile their statements for the driver (and no others pile up)."""
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    before = len(direct._compiled)
    thread = await store.get_thread("root")
    assert thread is not None
    assert thread["metadata"] == {"k": [1]}
    page = await store.get_messages("root", limit=3)
    assert [m["content"] for m in page] == ["m0 ünï", "m1 ünï", "m2 ünï"]
    assert page[0]["metadata"] == {"i": 0, "x": None}
    assert len(await store.list_threads(limit=50)) == 4
    latest = await store.get_checkpoint("root", "", "")
    assert latest is not None
    assert latest["checkpoint"] == {"step": 2, "v": [2, "a"]}
    lineage = await store.get_thread_lineage("f2")
    assert [t["id"] for t in lineage["ancestors"]] == ["root", "f0", "f1"]
    assert len(direct._compiled) > before
    assert all(compiled is not None for compiled in direct._compiled.values())


async def test_a_direct_read_of_a_missing_table_is_schema_out_of_date(
    store: SQLAlchemyStore,
) -> None:
    async with store.transaction():
        pass
    async with store._open_unit(write=True, block=True) as unit:
        await unit.execute(text("DROP TABLE threadstore_checkpoint_writes"), write=True)
        await unit.execute(text("DROP TABLE threadstore_checkpoints"), write=True)
    with pytest.raises(SchemaOutOfDateError):
        await store.get_checkpoint("root", "", "")
    assert (await store.get_thread("root")) is not None


@pytest.mark.parametrize("sql_backend", ["postgres"])
async def test_a_connection_killed_under_a_direct_read_is_replaced(
    store: SQLAlchemyStore, db_url: str
) -> None:
    """The killed connection fails one read as PersistenceConnectionError, never raw."""
    assert await store.get_thread("root") is not None  # a pooled connection exists
    admin = await asyncpg.connect(
        make_url(db_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        others = "datname = current_database() AND pid <> pg_backend_pid()"
        await admin.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}"
        )
        for _ in range(500):
            if not await admin.fetchval(f"SELECT count(*) FROM pg_stat_activity WHERE {others}"):
                break
            await asyncio.sleep(0.01)
    finally:
        await admin.close()
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append((await store.get_thread("root")) is not None)
        except PersistenceConnectionError:
            outcomes.append(False)
    assert outcomes[-1] is True
    assert outcomes.count(False) <= 1


async def test_timestamps_keep_microseconds_and_zone(store: SQLAlchemyStore) -> None:
    thread = await store.get_thread("f2")
    assert thread is not None
    created = datetime.fromisoformat(thread["created_at"])
    assert created == datetime(2026, 3, 1, 12, 0, 4, 623456, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)


async def test_a_json_codec_given_to_the_engine_serves_both_paths(db_url: str) -> None:
    """The JSON codec passed as engine options is used, not threadstore's own, on every path."""
    decoded: list[str] = []

    def decode(text: str) -> Any:
        decoded.append(text)
        return json.loads(text)

    def encode(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    async with SQLAlchemyStore(db_url, json_deserializer=decode, json_serializer=encode) as opened:
        await opened.create_thread("t", "u", "a", metadata={"b": 1, "a": [2]})
        await opened.add_message("t", "user", "hi", metadata={"z": 1, "y": 2})
        thread = await opened.get_thread("t")  # the direct path
        page = await opened.get_messages("t")
        async with opened.transaction() as tx:  # SQLAlchemy's path
            in_block = await tx.get_thread("t")
    assert thread is not None
    assert in_block is not None
    assert thread["metadata"] == in_block["metadata"] == {"b": 1, "a": [2]}
    assert page[0]["metadata"] == {"z": 1, "y": 2}
    assert [json.loads(text) for text in decoded].count({"b": 1, "a": [2]}) >= 2
    assert {"z": 1, "y": 2} in [json.loads(text) for text in decoded]
    if db_url.startswith("sqlite"):  # the text as ``encode`` wrote it (JSONB keeps its own)
        assert decoded.count('{"a":[2],"b":1}') >= 2


async def test_a_statement_listener_sees_every_hot_read(store: SQLAlchemyStore) -> None:
    """With a cursor listener (tracing, echo), hot reads take SQLAlchemy's path and are seen."""
    with recorded(store) as statements:
        assert await store.get_thread("root") is not None
        assert len(await store.get_messages("root", limit=3)) == 3
    assert len(statements) == 2
    assert "threadstore_threads" in statements[0][0]
    assert "threadstore_messages" in statements[1][0]
    assert await store.get_thread("root") is not None  # after the listener: direct again


def test_past_the_bound_statements_take_sqlalchemys_path() -> None:
    """A store passing ever new statements compiles at most MAX_DIRECT of them."""
    from sqlalchemy import bindparam, select
    from sqlalchemy.dialects import sqlite

    from threadstore.store.sql.direct import MAX_DIRECT
    from threadstore.store.sql.tables import threads as table

    direct = DirectStatements(sqlite.dialect())
    made = [
        select(table.c.id).where(table.c.id == bindparam("i")).limit(n + 1)
        for n in range(MAX_DIRECT + 3)
    ]
    assert all(direct.get(statement) is not None for statement in made[:MAX_DIRECT])
    assert [direct.get(statement) for statement in made[MAX_DIRECT:]] == [None] * 3
    assert len(direct._compiled) == MAX_DIRECT
    assert direct.get(made[0]) is not None  # the compiled ones stay
