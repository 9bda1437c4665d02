"""Hot-path benchmark: threadstore against the raw driver, in one interleaved run.

For each backend (SQLite file via aiosqlite; PostgreSQL via asyncpg when
THREADSTORE_TEST_POSTGRES_URL is set) it times, per operation:

* ``add_message``: threadstore vs. the straightforward raw-driver version: two
  statements (bump the counter, insert the row) in one transaction. (On
  PostgreSQL threadstore itself sends one statement that does both.)
* ``get_messages`` (a 50-message keyset page of a 2,000-message thread):
  threadstore vs. the same SELECT on the raw driver.

Rounds alternate between the two sides so machine noise hits both; the
ratio printed is threadstore's median time over the raw driver's.
Usage: ``python bench/bench_store.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url

from bench.harness import one_sqlite_library
from threadstore import SQLAlchemyStore
from threadstore.migrations import upgrade_connection

Op = Callable[[], Awaitable[object]]


async def _time(op: Op, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        await op()
    return (time.perf_counter() - started) / repeat


async def _compare(name: str, ours: Op, raw: Op, rounds: int, repeat: int) -> None:
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        mine.append(await _time(ours, repeat))
        theirs.append(await _time(raw, repeat))
    a, b = statistics.median(mine), statistics.median(theirs)
    print(
        f"  {name:<28} threadstore {a * 1e6:8.0f} us   raw {b * 1e6:8.0f} us   ratio {a / b:5.2f}"
    )


async def _migrate(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection)
    await engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


async def bench_sqlite(rounds: int) -> None:
    print("sqlite (aiosqlite, file, WAL)")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.db")
        url = f"sqlite+aiosqlite:///{path}"
        await _migrate(url)
        store = SQLAlchemyStore(url)
        await store.initialize()
        await store.create_thread("ours", "u", "a")
        await store.create_thread("raw", "u", "a")
        await store.add_messages("ours", [{"role": "user", "content": "x"}] * 2000)
        await store.add_messages("raw", [{"role": "user", "content": "x"}] * 2000)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA foreign_keys=ON")

        async def raw_append() -> None:
            now = _now().replace(tzinfo=None).isoformat(sep=" ")
            await db.execute("BEGIN IMMEDIATE")
            cur = await db.execute(
                "UPDATE threadstore_threads SET message_count = message_count + 1, "
                "updated_at = ? WHERE id = ? RETURNING message_count",
                (now, "raw"),
            )
            (count,) = await cur.fetchone()  # type: ignore[misc]
            await db.execute(
                "INSERT INTO threadstore_messages (thread_id, seq, role, content, metadata, "
                "timestamp) VALUES (?, ?, ?, ?, ?, ?)",
                ("raw", count - 1, "user", "hello", json.dumps({"k": 1}), now),
            )
            await db.execute("COMMIT")

        async def raw_page() -> None:
            cur = await db.execute(
                "SELECT * FROM threadstore_messages WHERE thread_id = ? AND seq > ? "
                "ORDER BY seq LIMIT 50",
                ("raw", 1000),
            )
            rows = await cur.fetchall()
            [json.loads(r[5]) for r in rows]

        await _compare(
            "add_message",
            lambda: store.add_message("ours", "user", "hello", metadata={"k": 1}),
            raw_append,
            rounds,
            20,
        )
        await _compare(
            "get_messages (page of 50)",
            lambda: store.get_messages("ours", limit=50, after_seq=1000),
            raw_page,
            rounds,
            50,
        )
        await db.close()
        await store.close()


async def bench_postgres(url: str, rounds: int) -> None:
    print("postgresql (asyncpg)")
    admin_url = make_url(url).set(drivername="postgresql").render_as_string(False)
    name = f"threadstore_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = make_url(url).set(database=name).render_as_string(False)
    try:
        await _migrate(db_url)
        store = SQLAlchemyStore(db_url)
        await store.initialize()
        await store.create_thread("ours", "u", "a")
        await store.create_thread("raw", "u", "a")
        await store.add_messages("ours", [{"role": "user", "content": "x"}] * 2000)
        await store.add_messages("raw", [{"role": "user", "content": "x"}] * 2000)
        conn = await asyncpg.connect(
            make_url(db_url).set(drivername="postgresql").render_as_string(False)
        )

        async def raw_append() -> None:
            async with conn.transaction():
                count = await conn.fetchval(
                    "UPDATE threadstore_threads SET message_count = message_count + 1, "
                    "updated_at = $1 WHERE id = $2 RETURNING message_count",
                    _now(),
                    "raw",
                )
                await conn.execute(
                    "INSERT INTO threadstore_messages (thread_id, seq, role, content, metadata, "
                    "timestamp) VALUES ($1, $2, $3, $4, $5, $6)",
                    "raw",
                    count - 1,
                    "user",
                    "hello",
                    json.dumps({"k": 1}),
                    _now(),
                )

        async def raw_page() -> None:
            rows = await conn.fetch(
                "SELECT * FROM threadstore_messages WHERE thread_id = $1 AND seq > $2 "
                "ORDER BY seq LIMIT 50",
                "raw",
                1000,
            )
            [json.loads(r["metadata"]) for r in rows]

        await _compare(
            "add_message",
            lambda: store.add_message("ours", "user", "hello", metadata={"k": 1}),
            raw_append,
            rounds,
            20,
        )
        await _compare(
            "get_messages (page of 50)",
            lambda: store.get_messages("ours", limit=50, after_seq=1000),
            raw_page,
            rounds,
            50,
        )
        await conn.close()
        await store.close()
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(one_sqlite_library())
    await bench_sqlite(args.rounds)
    pg = os.environ.get("THREADSTORE_TEST_POSTGRES_URL")
    if pg:
        await bench_postgres(pg, args.rounds)
    else:
        print("postgresql: skipped (THREADSTORE_TEST_POSTGRES_URL is not set)")


if __name__ == "__main__":
    asyncio.run(main())
