"""SQL-only facts of the saver: the latest checkpoint is one indexed query."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

pytest.importorskip("langgraph.checkpoint.base")

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from sqlalchemy import text

from tests.statements import recorded
from threadstore import SQLAlchemyStore
from threadstore.langgraph import ThreadstoreSaver
from threadstore.store.sql.checkpoint_queries import SaverStatements


def test_importing_threadstore_does_not_import_langgraph() -> None:
    code = "import sys, threadstore; sys.exit(any(m.startswith('langgraph') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


async def test_latest_of_1000_checkpoints_is_one_indexed_query(db_url: str) -> None:
    store = SQLAlchemyStore(db_url)
    await store.initialize()
    try:
        saver = ThreadstoreSaver(store)
        config: Any = {"configurable": {"thread_id": "long", "checkpoint_ns": ""}}
        for step in range(1000):
            checkpoint = empty_checkpoint()
            checkpoint["id"] = str(uuid6(clock_seq=step))
            checkpoint["channel_values"] = {"step": step}
            config = await saver.aput(config, checkpoint, {"step": step}, {})
            await saver.aput_writes(config, [("out", step), ("log", "x")], f"task-{step}")
        latest_id = config["configurable"]["checkpoint_id"]

        with recorded(store) as seen:
            found = await saver.aget_tuple({"configurable": {"thread_id": "long"}})
        statements = [sql for sql, _params in seen if "threadstore_" in sql]
        assert found is not None
        assert found.checkpoint["id"] == latest_id
        assert found.checkpoint["channel_values"] == {"step": 999}
        assert sorted(w[1:] for w in found.pending_writes or []) == [("log", "x"), ("out", 999)]
        assert len(statements) == 1  # the checkpoint and its pending writes together
        assert "threadstore_checkpoint_writes" in statements[0]

        statements_built = SaverStatements.build(store.engine.dialect.name)
        latest = statements_built.get_latest.params(thread_id="long", ns="").compile(
            dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}
        )
        async with store.engine.connect() as conn:
            if store.engine.dialect.name == "sqlite":
                plan = " | ".join(
                    str(r[-1]) for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {latest}"))
                )
                assert "SEARCH threadstore_checkpoints USING INDEX" in plan
                # the whole key: not the thread's prefix, which reads every write of the thread
                assert (
                    "SEARCH threadstore_checkpoint_writes USING INDEX "
                    "sqlite_autoindex_threadstore_checkpoint_writes_1 "
                    "(thread_id=? AND checkpoint_ns=? AND checkpoint_id=?)"
                ) in plan
                assert "AUTOMATIC" not in plan
                assert "SCAN threadstore_" not in plan
                assert "TEMP B-TREE" not in plan
            else:
                await conn.execute(text("ANALYZE threadstore_checkpoints"))
                plan = " | ".join(str(r[0]) for r in await conn.execute(text(f"EXPLAIN {latest}")))
                # the newest id: one backward probe
                assert "Only Scan Backward using pk_threadstore_checkpoints" in plan
                assert "Index Scan using pk_threadstore_checkpoint_writes" in plan
                assert "Seq Scan" not in plan
                assert "Sort" not in plan
    finally:
        await store.close()


async def test_several_stores_on_one_database_write_concurrently(db_url: str) -> None:
    stores = [SQLAlchemyStore(db_url) for _ in range(3)]
    for store in stores:
        await store.initialize()
    try:
        savers = [ThreadstoreSaver(store) for store in stores]

        async def run(saver: ThreadstoreSaver, n: int) -> None:
            config: Any = {"configurable": {"thread_id": f"shared-{n % 2}", "checkpoint_ns": ""}}
            checkpoint = empty_checkpoint()
            checkpoint["id"] = str(uuid6(clock_seq=n))
            stored = await saver.aput(config, checkpoint, {"n": n}, {})
            await saver.aput_writes(stored, [("a", n), ("b", n)], f"task-{n}")

        await asyncio.gather(*(run(savers[n % 3], n) for n in range(60)))
        listed = [t async for t in savers[0].alist(None)]
        assert len(listed) == 60
        assert all(len(t.pending_writes or []) == 2 for t in listed)
    finally:
        for store in stores:
            await store.close()


async def test_revision_0003_downgrades_and_upgrades_with_data(db_url: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from threadstore.migrations import alembic_config

    store = SQLAlchemyStore(db_url)
    await store.initialize()
    saver = ThreadstoreSaver(store)
    config: Any = {"configurable": {"thread_id": "mig", "checkpoint_ns": ""}}
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"x": "\x00"}
    stored = await saver.aput(config, checkpoint, {"step": 1, "run_id": "r-1"}, {})
    await saver.aput_writes(stored, [("x", 1)], "task")
    await store.close()

    before = ScriptDirectory.from_config(alembic_config()).get_revision("0003").down_revision
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), str(before)))
        async with engine.connect() as conn:
            kept = await conn.execute(text("SELECT checkpoint_id FROM threadstore_checkpoints"))
            assert kept.scalars().all() == [checkpoint["id"]]
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
    finally:
        await engine.dispose()

    store = SQLAlchemyStore(db_url)
    await store.initialize()
    try:
        found = await ThreadstoreSaver(store).aget_tuple(config)
        assert found is not None
        assert found.checkpoint["id"] == checkpoint["id"]
        assert found.checkpoint["channel_values"] == {}  # the downgrade dropped the payload
        assert found.pending_writes == []
        assert found.metadata == {"step": 1, "run_id": "r-1"}
        await ThreadstoreSaver(store).adelete_for_runs(["r-1"])  # run_id was backfilled
        assert await ThreadstoreSaver(store).aget_tuple(config) is None
    finally:
        await store.close()
