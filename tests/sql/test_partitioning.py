"""The opt-in partitioned layout: a lossless conversion, its entry points, and partition pruning.

The contract and LangGraph conformance suites also run on this layout (the
``partitioned`` backend of tests/contract); here: what the conversion keeps,
what it refuses, and that every hot-path statement reads one partition.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.conftest import TEST_PARTITIONS, FakeClock
from tests.statements import recorded
from threadstore import BaseStore, MigrationError, SQLAlchemyStore, ValidationError
from threadstore.migrations import downgrade, upgrade
from threadstore.partitioning import (
    PARTITIONED_TABLES,
    partition_by_thread,
    partition_counts,
    upgrade_partitioned,
)

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "threadstore")
_PARTITION = re.compile(r"(threadstore_(?:messages|checkpoints|checkpoint_writes))_p[0-9]+")
_TOUCHES = re.compile(
    r"\b(?:threadstore_messages|threadstore_checkpoints|threadstore_checkpoint_writes)\b"
)


async def _run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """Run a command line in a worker thread (the test's loop keeps running)."""
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, check=False, **options
    )


async def _counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(partition_counts)
    finally:
        await engine.dispose()


async def _fill(store: BaseStore) -> None:
    for n in range(6):
        await store.create_thread(f"t{n}", f"u{n % 2}", "agent")
        await store.add_messages(f"t{n}", [{"role": "user", "content": f"m{i}"} for i in range(5)])
        await store.save_checkpoint(f"t{n}", "", f"c{n}", None, {"v": n}, {"step": n})


async def test_conversion_keeps_rows_ids_and_the_sequence(postgres_url_fresh: str) -> None:
    store = SQLAlchemyStore(postgres_url_fresh)
    await store.initialize()
    await _fill(store)
    before = [await store.get_messages(f"t{n}") for n in range(6)]
    await store.close()
    assert await _counts(postgres_url_fresh) == dict.fromkeys(PARTITIONED_TABLES, 0)

    await upgrade_partitioned(postgres_url_fresh, 3)

    assert await _counts(postgres_url_fresh) == dict.fromkeys(PARTITIONED_TABLES, 3)
    store = SQLAlchemyStore(postgres_url_fresh)
    await store.initialize()
    try:
        assert [await store.get_messages(f"t{n}") for n in range(6)] == before
        assert (await store.get_checkpoint("t4", "", "c4") or {}).get("checkpoint") == {"v": 4}
        newest = max(m["id"] for messages in before for m in messages)
        added = await store.add_message("t0", "assistant", "after")
        assert added["id"] > newest  # the sequence continued, ids never collide
        async with store.engine.connect() as conn:
            spread = await conn.execute(
                text("SELECT count(DISTINCT tableoid) FROM threadstore_messages")
            )
            assert spread.scalar_one() > 1  # rows really went to several partitions
            pk = await conn.execute(
                text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = 'pk_threadstore_messages'"
                )
            )
            assert pk.scalar_one() == "PRIMARY KEY (thread_id, id)"
    finally:
        await store.close()


async def test_same_count_is_a_no_op_and_another_count_is_refused(
    partitioned_postgres_url: str,
) -> None:
    await upgrade_partitioned(partitioned_postgres_url, TEST_PARTITIONS)  # again: nothing to do
    assert await _counts(partitioned_postgres_url) == dict.fromkeys(
        PARTITIONED_TABLES, TEST_PARTITIONS
    )
    with pytest.raises(MigrationError, match="already partitioned") as raised:
        await upgrade_partitioned(partitioned_postgres_url, TEST_PARTITIONS + 1)
    assert "export" in raised.value.suggestion
    assert await _counts(partitioned_postgres_url) == dict.fromkeys(
        PARTITIONED_TABLES, TEST_PARTITIONS
    )


@pytest.mark.parametrize("bad", [1, 0, 5000, True, "8"])
async def test_a_bad_count_is_refused_before_connecting(bad: Any) -> None:
    with pytest.raises(ValidationError, match="partitions") as raised:
        await upgrade_partitioned("postgresql+asyncpg://nobody@127.0.0.1:1/none", bad)
    assert raised.value.suggestion


async def test_sqlite_is_refused_and_left_as_it_was(sqlite_url: str) -> None:
    with pytest.raises(MigrationError, match="needs PostgreSQL") as raised:
        await upgrade_partitioned(sqlite_url, 4)
    assert "threadstore copy" in raised.value.suggestion
    store = SQLAlchemyStore(sqlite_url)
    await store.initialize()  # still a healthy plain database
    await store.create_thread("t", "u", "a")
    await store.close()


async def test_cli_upgrade_partitions_an_empty_database(empty_postgres_url: str) -> None:
    result = await _run([CLI, "db", "upgrade", "--url", empty_postgres_url, "--partitions", "2"])
    assert result.returncode == 0, result.stderr
    assert await _counts(empty_postgres_url) == dict.fromkeys(PARTITIONED_TABLES, 2)
    check = await _run([CLI, "db", "check", "--url", empty_postgres_url])
    assert check.returncode == 0, check.stderr  # the partitions are not "extra tables"


async def test_alembic_x_partitions(empty_postgres_url: str) -> None:
    result = await _run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-x",
            f"url={empty_postgres_url}",
            "-x",
            "partitions=2",
            "upgrade",
            "head",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert result.returncode == 0, result.stderr
    assert await _counts(empty_postgres_url) == dict.fromkeys(PARTITIONED_TABLES, 2)


async def test_revisions_run_down_and_up_on_the_partitioned_layout(
    partitioned_postgres_url: str,
) -> None:
    await downgrade(partitioned_postgres_url, "0003")
    assert await _counts(partitioned_postgres_url) == dict.fromkeys(
        PARTITIONED_TABLES, TEST_PARTITIONS
    )  # the tables stay partitioned while their revisions change them
    await upgrade(partitioned_postgres_url)
    store = SQLAlchemyStore(partitioned_postgres_url)
    await store.initialize()
    try:
        await store.create_thread("t", "u", "a")
        await store.add_message("t", "user", "hi", idempotency_key="k")
        assert len(await store.get_messages("t")) == 1
    finally:
        await store.close()


async def test_partition_by_thread_needs_the_schema(empty_postgres_url: str) -> None:
    engine = create_async_engine(empty_postgres_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            with pytest.raises(MigrationError, match="does not exist"):
                await conn.run_sync(partition_by_thread, 4)
    finally:
        await engine.dispose()


Call = Callable[[BaseStore, Any], Awaitable[Any]]


def _saver(store: BaseStore) -> Any:
    from threadstore.langgraph import ThreadstoreSaver

    return ThreadstoreSaver(store)


async def _aput(store: BaseStore, config: Any) -> Any:
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    checkpoint = empty_checkpoint()
    checkpoint["id"] = str(uuid6(clock_seq=-1))
    return await _saver(store).aput(config, checkpoint, {"source": "loop", "step": 9}, {})


HOT_PATHS: list[tuple[str, Call]] = [
    ("add_message", lambda s, _c: s.add_message("t1", "user", "hello")),
    ("add_message idempotent", lambda s, _c: s.add_message("t1", "user", "x", idempotency_key="k")),
    ("add_messages", lambda s, _c: s.add_messages("t1", [{"role": "user", "content": "a"}] * 3)),
    ("get_messages", lambda s, _c: s.get_messages("t1", limit=50)),
    ("get_messages newest", lambda s, _c: s.get_messages("t1", limit=5, newest_first=True)),
    ("fork_thread", lambda s, _c: s.fork_thread("t1", 3, "fork")),
    ("delete_thread", lambda s, _c: s.delete_thread("t2")),
    ("save_checkpoint", lambda s, _c: s.save_checkpoint("t1", "", "c9", "c1", {}, {})),
    ("get_checkpoint", lambda s, _c: s.get_checkpoint("t1", "", "c1")),
    ("get_checkpoint latest", lambda s, _c: s.get_checkpoint("t1", "", "")),
    ("list_checkpoints", lambda s, _c: s.list_checkpoints("t1", "", limit=10)),
    ("saver aput", lambda s, c: _aput(s, c)),
    ("saver aput_writes", lambda s, c: _saver(s).aput_writes(c, [("ch", 1)], "task")),
    ("saver aget_tuple", lambda s, c: _saver(s).aget_tuple(c)),
    ("saver alist", lambda s, c: _alist(s, c)),
]


async def _alist(store: BaseStore, config: Any) -> list[Any]:
    return [item async for item in _saver(store).alist(config, limit=5)]


@pytest.mark.parametrize(("name", "call"), HOT_PATHS, ids=[name for name, _ in HOT_PATHS])
async def test_hot_path_statements_read_one_partition(
    partitioned_postgres_url: str, clock: FakeClock, name: str, call: Call
) -> None:
    pytest.importorskip("langgraph.checkpoint.base")
    store = SQLAlchemyStore(partitioned_postgres_url, clock=clock)
    await store.initialize()
    try:
        for thread in ("t1", "t2", "t3"):
            await store.create_thread(thread, "u", "agent")
            await store.add_messages(thread, [{"role": "user", "content": "m"}] * 5)
            await store.save_checkpoint(thread, "", "c1", None, {}, {})
        config = await _aput(store, {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}})
        await _saver(store).aput_writes(config, [("ch", 0)], "task0")
        with recorded(store) as statements:
            await call(store, config)
        touching = [(s, p) for s, p in statements if _TOUCHES.search(s)]
        assert touching, f"{name}: no statement on a partitioned table"
        for statement, params in touching:
            read, plan = await _partitions_read(store, statement, params)
            wide = {table: found for table, found in read.items() if len(found) > 1}
            assert not wide, f"{name}: {statement}\n{plan}"
    finally:
        await store.close()


async def _partitions_read(
    store: SQLAlchemyStore, statement: str, params: Any
) -> tuple[dict[str, set[str]], str]:
    """The partitions of each partitioned table that the statement's plan reads."""
    async with store.engine.connect() as conn:
        await conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan")
        result = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
        plan = "\n".join(str(row[0]) for row in result)
    read: dict[str, set[str]] = {}
    for match in _PARTITION.finditer(plan):
        read.setdefault(match.group(1), set()).add(match.group(0))
    return read, plan


async def test_a_statement_across_threads_reads_every_partition(
    partitioned_postgres_url: str,
) -> None:
    """The control for the test above: its plan reader does see a multi-partition read."""
    store = SQLAlchemyStore(partitioned_postgres_url)
    await store.initialize()
    try:
        read, plan = await _partitions_read(
            store, "SELECT count(*) FROM threadstore_messages WHERE role = $1", ("user",)
        )
        assert len(read["threadstore_messages"]) == TEST_PARTITIONS, plan
    finally:
        await store.close()
