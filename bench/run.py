"""One entry point for threadstore's benchmarks: every backend, one table each.

``python bench/run.py`` measures, on a SQLite file (aiosqlite) and on
PostgreSQL (asyncpg, when THREADSTORE_TEST_POSTGRES_URL is set), each hot path
against the same work by hand on the raw driver in the same run, prints one
Markdown table per backend and writes the rows as JSON (``--json``, default
``bench/results/latest.json``) for later comparison.
Usage: ``python bench/run.py [--rounds N] [--only sqlite|postgres] [--json PATH]
[--depth N | --skip-flat] [--skip-agentomatic]``. The Agentomatic column needs
``bash bench/agentomatic_env.sh`` first (its own environment).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy.engine import make_url

from bench import agentomatic_column as agentomatic
from bench import bench_langgraph, flat_cost, hot_paths
from bench.concurrency import LoadResult, mixed_load, print_load
from bench.harness import Row, measure, migrate, one_sqlite_library, print_table, write_json
from bench.rawdb import RawDB, RawPostgres, RawSqlite
from threadstore import SQLAlchemyStore

Measured = tuple[list[Row], list[LoadResult]]


async def _run(
    backend: str, url: str, raw: RawDB, rounds: int, tasks: list[int], depth: int = 0
) -> Measured:
    print(f"{backend}: threadstore vs {raw.name}", flush=True)
    store = SQLAlchemyStore(url)
    await store.initialize()
    try:
        await hot_paths.seed(store, raw)
        rows = await measure(backend, raw.name, hot_paths.cases(store, raw), rounds)
        loads = []
        for count in tasks:
            result = await mixed_load(store, count)
            print(f"  mixed load, {count} tasks: {result.ops_per_second:.0f} ops/s", flush=True)
            loads.append(result)
        if depth:  # the flat-cost section (bench/flat_cost.py)
            print(f"{backend}: flat cost at depth {depth:,}", flush=True)
            rows += await flat_cost.bench(backend, store, raw, depth, rounds)
        return rows, loads
    finally:
        await store.close()
        await raw.close()


async def bench_sqlite(rounds: int, tasks: list[int], depth: int = 0) -> Measured:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.db")
        url = f"sqlite+aiosqlite:///{path}"
        await migrate(url)
        return await _run("sqlite", url, await RawSqlite.connect(path), rounds, tasks, depth)


async def bench_postgres(base_url: str, rounds: int, tasks: list[int], depth: int = 0) -> Measured:
    admin = make_url(base_url).set(drivername="postgresql").render_as_string(False)
    name = f"threadstore_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = make_url(base_url).set(database=name)
    try:
        await migrate(url.render_as_string(False))
        dsn = url.set(drivername="postgresql").render_as_string(False)
        raw = await RawPostgres.connect(dsn)
        return await _run("postgres", url.render_as_string(False), raw, rounds, tasks, depth)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def agentomatic_sqlite(rounds: int, depth: int) -> agentomatic.Timings:
    """Agentomatic's SQLAlchemyStore on a SQLite file of its own."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{os.path.join(folder, 'agentomatic.db')}"
        print("sqlite: agentomatic 1.16 SQLAlchemyStore", flush=True)
        return await agentomatic.measure(url, rounds, depth)


async def agentomatic_postgres(base_url: str, rounds: int, depth: int) -> agentomatic.Timings:
    """Agentomatic's SQLAlchemyStore on a PostgreSQL database of its own."""
    admin = make_url(base_url).set(drivername="postgresql").render_as_string(False)
    name = f"threadstore_bench_agentomatic_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        print("postgres: agentomatic 1.16 SQLAlchemyStore", flush=True)
        url = make_url(base_url).set(database=name).render_as_string(False)
        return await agentomatic.measure(url, rounds, depth)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--json", type=Path, default=Path("bench/results/latest.json"))
    parser.add_argument(
        "--tasks",
        type=int,
        nargs="*",
        default=[1, 8, 50],
        help="concurrent tasks of the mixed load (none: skip it)",
    )
    parser.add_argument(
        "--saver-history",
        type=int,
        nargs="*",
        default=list(bench_langgraph.HISTORIES),
        help="thread lengths for the LangGraph saver comparison (none: skip it)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=flat_cost.DEPTH,
        help="messages of the flat-cost thread (forks copy a tenth, the MemoryStore holds 10x)",
    )
    parser.add_argument("--skip-flat", action="store_true", help="skip the flat-cost section")
    parser.add_argument(
        "--skip-agentomatic",
        action="store_true",
        help="skip the Agentomatic column (also n/a without bench/agentomatic_env.sh)",
    )
    args = parser.parse_args()
    print(one_sqlite_library())
    depth = 0 if args.skip_flat else args.depth
    measured: dict[str, Measured] = {}
    if args.only in (None, "sqlite"):
        measured["sqlite"] = await bench_sqlite(args.rounds, args.tasks, depth)
    pg = os.environ.get("THREADSTORE_TEST_POSTGRES_URL")
    if args.only in (None, "postgres"):
        if pg:
            measured["postgres"] = await bench_postgres(pg, args.rounds, args.tasks, depth)
        else:
            print("postgres: skipped (THREADSTORE_TEST_POSTGRES_URL is not set)")
    others: dict[str, agentomatic.Timings] = {}
    if not args.skip_agentomatic and agentomatic.available():
        if "sqlite" in measured:
            others["sqlite"] = await agentomatic_sqlite(args.rounds, depth)
        if "postgres" in measured and pg:
            others["postgres"] = await agentomatic_postgres(pg, args.rounds, depth)
    elif not args.skip_agentomatic:
        print("agentomatic: n/a (run `bash bench/agentomatic_env.sh` to measure it)")
    savers: dict[str, dict[str, float]] = {}
    if args.saver_history:
        histories = tuple(args.saver_history)
        if args.only in (None, "sqlite"):
            savers["sqlite"] = await bench_langgraph.bench_sqlite(args.rounds, 20, histories)
        if args.only in (None, "postgres") and pg:
            savers["postgres"] = await bench_langgraph.bench_postgres(
                pg, args.rounds, 20, histories
            )
    for backend, (rows, loads) in measured.items():
        timings = others.get(backend, {})
        print_table(backend, rows, lambda row, t=timings: agentomatic.cells(row, t))
        if loads:
            print_load(backend, loads)
    all_rows = [row for rows, _ in measured.values() for row in rows]
    load_json = {
        backend: [vars(r) | {"ops_per_second": r.ops_per_second} for r in loads]
        for backend, (_, loads) in measured.items()
    }
    for backend, ratios in savers.items():
        print(f"\n### {backend}: ThreadstoreSaver / official LangGraph saver\n")
        print("| operation@checkpoints | ratio |")
        print("|---|---:|")
        for name, ratio in ratios.items():
            print(f"| {name} | {ratio:.2f} |")
    memory: dict[str, float] = {}
    if depth:
        found = await flat_cost.memory_ratio(depth * 10)
        memory = vars(found) | {"ratio": found.ratio}
        print(
            f"\n### memory: MemoryStore holding {found.messages:,} messages\n\n"
            f"{found.stored_bytes / 2**20:.1f} MiB held (tracemalloc) for "
            f"{found.raw_bytes / 2**20:.1f} MiB of content: ratio {found.ratio:.2f}, "
            f"{(found.stored_bytes - found.raw_bytes) / found.messages:.0f} bytes per message "
            f"beyond its content; loaded in {found.seconds:.0f} s"
        )
    extra = {
        "rounds": args.rounds,
        "depth": depth,
        "mixed_load": load_json,
        "saver_ratios": savers,
        "memory": memory,
        "agentomatic": others,
    }
    write_json(args.json, all_rows, extra)


if __name__ == "__main__":
    asyncio.run(main())
