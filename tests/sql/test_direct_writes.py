"""One-statement writes run on the driver (``SqlUnit.write_one``).

The saver's checkpoint upsert and pending writes, create_thread and
save_checkpoint: a write that is the call's only statement runs straight on
the worker's sqlite3 cursor, in autocommit under the store's write lock, or
on the asyncpg connection with no transaction begun.
These tests pin that the shortcut is taken, that it writes exactly what
SQLAlchemy's execution writes, and that a failure on it is the same
threadstore error, with nothing written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from tests.conftest import another_writer
from tests.statements import recorded
from threadstore import SQLAlchemyStore
from threadstore.errors import DuplicateRecordError, QueryTimeoutError
from threadstore.langgraph import ThreadstoreSaver
from threadstore.store.sql.direct import DirectStatements
from threadstore.store.sql.tables import checkpoint_writes, checkpoints

both = pytest.mark.parametrize("sql_backend", ["sqlite", "postgres"])


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SQLAlchemyStore]:
    async with SQLAlchemyStore(db_url) as opened:
        yield opened


async def _put(saver: ThreadstoreSaver, thread: str, step: int) -> Any:
    checkpoint = empty_checkpoint()
    checkpoint["id"] = f"cp-{step:04d}"
    checkpoint["ts"] = f"2026-03-01T12:00:{step:02d}.000000+00:00"
    checkpoint["channel_values"] = {"messages": [f"m{step}"], "n": step}
    checkpoint["channel_versions"] = {"messages": step}
    config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    saved = await saver.aput(config, checkpoint, {"step": step, "run_id": "r1"}, {})
    await saver.aput_writes(saved, [("messages", {"m": step}), ("n", step)], f"task-{step}")
    return saved


async def _rows(store: SQLAlchemyStore, thread: str) -> list[list[Any]]:
    async with store.engine.connect() as conn:
        found = []
        for table in (checkpoints, checkpoint_writes):
            columns = [c for c in table.c if c.name not in ("thread_id", "created_at")]
            query = select(*columns).where(table.c.thread_id == thread).order_by(*table.c)
            found.append([tuple(row) for row in (await conn.execute(query)).all()])
        return found


@both
async def test_saver_writes_run_on_the_driver_and_write_what_sqlalchemy_writes(
    store: SQLAlchemyStore,
) -> None:
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    saver = ThreadstoreSaver(store)
    for step in range(3):
        await _put(saver, "fast", step)
    assert len(direct._writes) == 2  # the upsert and the two-row INSERT of pending writes
    assert all(compiled is not None for compiled in direct._writes.values())
    with recorded(store) as statements:  # a listener: SQLAlchemy's own execution
        for step in range(3):
            await _put(saver, "slow", step)
    assert len(statements) == 6
    assert await _rows(store, "fast") == await _rows(store, "slow")
    latest = await saver.aget_tuple({"configurable": {"thread_id": "fast"}})
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"messages": ["m2"], "n": 2}
    assert sorted(w[1] for w in latest.pending_writes or []) == ["messages", "n"]


@pytest.mark.parametrize("sql_backend", ["sqlite"])
async def test_a_direct_write_blocked_by_another_writer_is_a_timeout_and_writes_nothing(
    store: SQLAlchemyStore, db_url: str
) -> None:
    @event.listens_for(store.engine.sync_engine, "connect")  # not a statement listener
    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200")  # after threadstore's own 30 s
        cursor.close()

    await store.engine.dispose()  # connections from now on get the short timeout
    saver = ThreadstoreSaver(store)
    await _put(saver, "t", 0)
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    assert direct._writes  # the saver's writes run on the driver
    path = make_url(db_url).database
    assert path is not None
    with another_writer(path), pytest.raises(QueryTimeoutError) as info:
        await _put(saver, "t", 1)
    assert "locked by another writer" in info.value.message
    assert isinstance(info.value.__cause__, Exception)
    assert [row[1] for row in (await _rows(store, "t"))[0]] == ["cp-0000"]
    await _put(saver, "t", 1)  # the lock is free again: the same call succeeds
    assert [row[1] for row in (await _rows(store, "t"))[0]] == ["cp-0000", "cp-0001"]


@both
async def test_create_thread_and_save_checkpoint_run_on_the_driver(store: SQLAlchemyStore) -> None:
    """The store's own one-statement writes share the path; a duplicate is still named."""
    direct = store._ctx.direct
    assert isinstance(direct, DirectStatements)
    thread = await store.create_thread("t1", "alice", "helper", metadata={"k": [1]})
    await store.save_checkpoint("t1", "", "c1", None, {"step": 1}, {"run_id": "r"})
    assert len(direct._writes) == 2
    assert await store.get_thread("t1") == thread
    saved = await store.get_checkpoint("t1", "", "c1")
    assert saved is not None
    assert (saved["checkpoint"], saved["metadata"]) == ({"step": 1}, {"run_id": "r"})
    with pytest.raises(DuplicateRecordError, match="thread 't1'"):
        await store.create_thread("t1", "bob", "helper")
    found = await store.get_thread("t1")
    assert found is not None
    assert found["user_id"] == "alice"
