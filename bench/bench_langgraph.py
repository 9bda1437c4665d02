"""LangGraph saver benchmark: ThreadstoreSaver against LangGraph's own savers.

In one interleaved run, per backend, it times ``aput``, ``aput_writes``,
``aget_tuple`` (latest checkpoint) and ``alist`` (a page of 10) on a thread of
200 and one of 1,000 checkpoints (``--history``) for:

* SQLite: ThreadstoreSaver on a SQLAlchemyStore (aiosqlite, file, WAL) vs.
  ``AsyncSqliteSaver`` (langgraph-checkpoint-sqlite) on its own file;
* PostgreSQL (when THREADSTORE_TEST_POSTGRES_URL is set): ThreadstoreSaver on a
  SQLAlchemyStore (asyncpg) vs. ``AsyncPostgresSaver``
  (langgraph-checkpoint-postgres, psycopg), both in one scratch database that
  is dropped afterwards.

Rounds alternate between the two sides so machine noise hits both; the ratio
printed is threadstore's median over the official saver's (below 1 = faster).
Absolute times on a shared machine vary; compare the ratios.
Usage: ``python bench/bench_langgraph.py [--rounds N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver, Checkpoint, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from sqlalchemy.engine import make_url

from bench.harness import migrate, one_sqlite_library
from threadstore import SQLAlchemyStore
from threadstore.langgraph import ThreadstoreSaver

Op = Callable[[], Awaitable[object]]
HISTORIES = (200, 1000)
"""Checkpoints in the measured thread: a short one and a long one (issue 12 asks for 1,000)."""


class Workload:
    """A thread of checkpoints shaped like a chat agent's: messages plus small channels."""

    def __init__(self, saver: BaseCheckpointSaver[Any], thread_id: str) -> None:
        self.saver = saver
        self.config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        self.versions: dict[str, Any] = {}
        self.step = 0
        self.writes_config: Any = None

    def _checkpoint(self) -> tuple[Checkpoint, dict[str, Any]]:
        self.step += 1
        changed = ["messages", "counter", "branch:to:agent"]
        new_versions = {
            ch: self.saver.get_next_version(self.versions.get(ch), None) for ch in changed
        }
        self.versions.update(new_versions)
        checkpoint = empty_checkpoint()
        checkpoint["id"] = str(uuid6(clock_seq=self.step))
        checkpoint["channel_values"] = {
            "messages": [
                {"role": "user" if i % 2 else "assistant", "content": f"message {i} " * 8}
                for i in range(12)
            ],
            "counter": self.step,
            "context": {"user": "u-1", "tools": ["search", "calculator"]},
        }
        checkpoint["channel_versions"] = dict(self.versions)
        checkpoint["versions_seen"] = {"agent": {"messages": self.versions["messages"]}}
        return checkpoint, new_versions

    async def put(self) -> object:
        checkpoint, new_versions = self._checkpoint()
        metadata: Any = {"source": "loop", "step": self.step, "run_id": "run-1"}
        self.config = await self.saver.aput(self.config, checkpoint, metadata, new_versions)
        return self.config

    async def put_writes(self, config: Any = None) -> object:
        """Two writes of a new task, to an older checkpoint (the latest keeps a few)."""
        writes = [("messages", {"role": "assistant", "content": "ok " * 20}), ("counter", 1)]
        target = config or self.writes_config
        await self.saver.aput_writes(target, writes, str(uuid.uuid4()), "~__pregel_pull, a")
        return None

    async def get_tuple(self) -> object:
        return await self.saver.aget_tuple({"configurable": {"thread_id": self._thread}})

    async def list_page(self) -> object:
        config = {"configurable": {"thread_id": self._thread, "checkpoint_ns": ""}}
        return [t async for t in self.saver.alist(config, limit=10)]

    @property
    def _thread(self) -> str:
        return str(self.config["configurable"]["thread_id"])


async def _time(op: Op, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        await op()
    return (time.perf_counter() - started) / repeat


async def _compare(name: str, ours: Op, theirs: Op, rounds: int, repeat: int) -> float:
    mine: list[float] = []
    official: list[float] = []
    for _ in range(rounds):
        mine.append(await _time(ours, repeat))
        official.append(await _time(theirs, repeat))
    a, b = statistics.median(mine), statistics.median(official)
    print(f"  {name:<12} threadstore {a * 1e6:7.0f} us   official {b * 1e6:7.0f} us", end="")
    print(f"   ratio {a / b:5.2f}")
    return a / b


async def _run(
    ours: BaseCheckpointSaver[Any],
    theirs: BaseCheckpointSaver[Any],
    rounds: int,
    repeat: int,
    history: int,
) -> dict[str, float]:
    print(f" thread of {history} checkpoints")
    mine = Workload(ours, f"bench-ours-{history}")
    official = Workload(theirs, f"bench-official-{history}")
    for step in range(history):
        for workload in (mine, official):
            await workload.put()
            if step == history // 2:
                workload.writes_config = workload.config
    ratios = {
        "aput": await _compare("aput", mine.put, official.put, rounds, repeat),
        "aput_writes": await _compare(
            "aput_writes", mine.put_writes, official.put_writes, rounds, repeat
        ),
    }
    for workload in (mine, official):  # the latest checkpoint has 3 tasks' writes
        for _ in range(3):
            await workload.put_writes(workload.config)
    ratios["aget_tuple"] = await _compare(
        "aget_tuple", mine.get_tuple, official.get_tuple, rounds, repeat
    )
    ratios["alist"] = await _compare("alist", mine.list_page, official.list_page, rounds, repeat)
    return ratios


async def bench_sqlite(
    rounds: int, repeat: int, histories: tuple[int, ...] = HISTORIES
) -> dict[str, float]:
    print("sqlite: ThreadstoreSaver (SQLAlchemy + aiosqlite) vs AsyncSqliteSaver")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{os.path.join(folder, 'threadstore.db')}"
        await migrate(url)
        store = SQLAlchemyStore(url)
        await store.initialize()
        try:
            async with AsyncSqliteSaver.from_conn_string(
                os.path.join(folder, "official.db")
            ) as official:
                await official.setup()
                return await _each(ThreadstoreSaver(store), official, rounds, repeat, histories)
        finally:
            await store.close()


async def _each(
    ours: BaseCheckpointSaver[Any],
    theirs: BaseCheckpointSaver[Any],
    rounds: int,
    repeat: int,
    histories: tuple[int, ...],
) -> dict[str, float]:
    """Ratios per operation and thread length, keyed ``"aput@1000"``."""
    ratios: dict[str, float] = {}
    for history in histories:
        for name, ratio in (await _run(ours, theirs, rounds, repeat, history)).items():
            ratios[f"{name}@{history}"] = ratio
    return ratios


async def _pg(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def bench_postgres(
    base_url: str, rounds: int, repeat: int, histories: tuple[int, ...] = HISTORIES
) -> dict[str, float]:
    print("postgres: ThreadstoreSaver (SQLAlchemy + asyncpg) vs AsyncPostgresSaver (psycopg)")
    name = f"threadstore_bench_{uuid.uuid4().hex[:10]}"
    await _pg(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name)
    try:
        await migrate(url.render_as_string(False))
        store = SQLAlchemyStore(url)
        await store.initialize()
        try:
            conninfo = url.set(drivername="postgresql").render_as_string(False)
            async with AsyncPostgresSaver.from_conn_string(conninfo) as official:
                await official.setup()
                return await _each(ThreadstoreSaver(store), official, rounds, repeat, histories)
        finally:
            await store.close()
    finally:
        await _pg(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--history", type=int, nargs="+", default=list(HISTORIES))
    args = parser.parse_args()
    print(one_sqlite_library())
    histories = tuple(args.history)
    started = time.perf_counter()
    await bench_sqlite(args.rounds, args.repeat, histories)
    pg_url = os.environ.get("THREADSTORE_TEST_POSTGRES_URL")
    if pg_url:
        await bench_postgres(pg_url, args.rounds, args.repeat, histories)
    else:
        print("postgres: skipped (THREADSTORE_TEST_POSTGRES_URL is not set)")
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
