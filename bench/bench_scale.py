"""Scale-out benchmark: a read-heavy mix on the primary alone vs with a replica,
and through PgBouncer vs direct with many concurrent clients.

The mix is 90 % reads (a 20-message page of a random thread, or a page of
20 threads) and 10 % ``add_message``, run by N concurrent tasks for a fixed
time; each configuration prints operations/s and the p50/p99 latency.

Needs a primary, a streaming standby of it and a PgBouncer in front of the
primary (the scripts print their DSNs)::

    P=$(bash scripts/start-postgres.sh /tmp/p); R=$(bash scripts/start-replica.sh /tmp/r "$P")
    B=$(bash scripts/start-pgbouncer.sh /tmp/b "$P")
    python bench/bench_scale.py --primary "$P" --replica "$R" --pgbouncer "$B"

On one shared machine a replica adds no hardware, so compare the shapes
(routing and pooling overhead), not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from threadstore import SQLAlchemyStore
from threadstore.migrations import upgrade

THREADS = 50
MESSAGES = 50


def _on(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _raw(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _prepare(primary: str, replica: str | None) -> str:
    name = f"threadstore_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_raw(primary))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await upgrade(_on(primary, name))
    store = SQLAlchemyStore(_on(primary, name))
    for t in range(THREADS):
        await store.create_thread(f"t{t}", f"u{t % 5}", "bench")
        await store.add_messages(
            f"t{t}", [{"role": "user", "content": f"m{i}"} for i in range(MESSAGES)]
        )
    await store.close()
    if replica is not None:  # wait until the standby has the data
        source = await asyncpg.connect(_raw(_on(primary, name)))
        target = await source.fetchval("SELECT pg_current_wal_insert_lsn()")
        await source.close()
        while True:
            try:
                conn = await asyncpg.connect(_raw(_on(replica, name)))
            except asyncpg.InvalidCatalogNameError:
                await asyncio.sleep(0.05)
                continue
            done = await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target)
            await conn.close()
            if done:
                break
            await asyncio.sleep(0.05)
    return name


async def _run(store: SQLAlchemyStore, tasks: int, seconds: float) -> tuple[float, float, float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            thread = f"t{rng.randrange(THREADS)}"
            roll = rng.random()
            started = time.perf_counter()
            if roll < 0.10:
                await store.add_message(thread, "assistant", "reply")
            elif roll < 0.55:
                await store.get_messages(thread, limit=20, newest_first=True)
            else:
                await store.list_threads(user_id=f"u{rng.randrange(5)}", limit=20)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(tasks)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies), p99


async def main(args: argparse.Namespace) -> None:
    name = await _prepare(args.primary, args.replica)
    primary = _on(args.primary, name)
    configs: list[tuple[str, int, str, dict[str, Any]]] = [
        ("primary only", args.tasks, primary, {"pool_size": 20, "max_overflow": 0}),
    ]
    if args.replica:
        replica = {"read_replicas": [_on(args.replica, name)], "pool_size": 20, "max_overflow": 0}
        configs.append(("primary + 1 replica", args.tasks, primary, replica))
    configs.append(
        ("direct, pool of 20", args.clients, primary, {"pool_size": 20, "max_overflow": 0})
    )
    if args.pgbouncer:
        configs.append(
            ("pgbouncer (20 servers)", args.clients, _on(args.pgbouncer, name), {"pgbouncer": True})
        )
    print(f"{'configuration':<26} {'tasks':>5} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    try:
        for label, tasks, url, options in configs:
            store = SQLAlchemyStore(url, **options)
            await store.initialize()
            await _run(store, tasks, 1.0)  # warm up the pools
            rate, p50, p99 = await _run(store, tasks, args.seconds)
            await store.close()
            print(f"{label:<26} {tasks:>5} {rate:8.0f} {p50 * 1e3:8.1f} {p99 * 1e3:8.1f}")
    finally:
        admin = await asyncpg.connect(_raw(args.primary))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--primary", required=True)
    parser.add_argument("--replica")
    parser.add_argument("--pgbouncer", help="a PgBouncer in front of the primary")
    parser.add_argument("--tasks", type=int, default=50, help="tasks for the replica runs")
    parser.add_argument("--clients", type=int, default=200, help="tasks for the pooling runs")
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
