"""Copy benchmark: ``threadstore copy`` from a SQLite file into PostgreSQL at two sizes.

For each size N it builds a migrated SQLite file holding N messages across
N/100 threads (rows written with sqlite3 directly, to build quickly), creates
an empty migrated PostgreSQL database, and runs ``copy_database`` (verification
included) in a fresh child process, so the peak RSS it reports
(``resource.getrusage``) belongs to the copy alone. Memory should stay flat as
N grows: rows move in keyset batches, and the PostgreSQL side uses asyncpg's
COPY.

Usage: ``python bench/bench_copy.py [--messages 20000 100000] [--batch-size 5000] [--no-verify]``
(``--messages 1000000`` for the full run: 1,000,000 messages, 10,000 threads).
Needs THREADSTORE_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from threadstore.migrations import upgrade
from threadstore.transfer import copy_database


def build_sqlite(path: Path, messages: int) -> None:
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    threads = max(1, messages // 100)
    start = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO threadstore_threads (id, user_id, agent_name, title, metadata,"
            " created_at, updated_at, message_count) VALUES (?, ?, 'bench', ?, '{}', ?, ?, ?)",
            (
                (f"t{t:06d}", f"u{t % 97}", f"thread {t}", start, start, messages // threads)
                for t in range(threads)
            ),
        )
        per = messages // threads
        conn.executemany(
            "INSERT INTO threadstore_messages (thread_id, seq, role, content, metadata,"
            " timestamp) VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    f"t{i // per:06d}",
                    i % per,
                    "user" if i % 2 else "assistant",
                    f"message {i} " + "lorem ipsum " * 8,
                    f'{{"n": {i}}}',
                    start + timedelta(microseconds=i),
                )
                for i in range(per * threads)
            ),
        )
    conn.close()


async def _pg(admin: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        make_url(admin).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def child(source: str, target: str, batch_size: int, verify: bool) -> None:
    started = time.perf_counter()
    summary = asyncio.run(
        copy_database(
            source,
            target,
            batch_size=batch_size,
            verify=verify,
            state_file=Path(tempfile.gettempdir()) / f"bench-{uuid.uuid4().hex}.json",
        )
    )
    seconds = time.perf_counter() - started
    assert not verify or (summary.verification is not None and summary.verification.ok)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": sum(summary.rows.values()), "seconds": seconds, "rss_kib": rss_kib}))


def run(size: int, pg: str, batch_size: int, verify: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.db"
        started = time.perf_counter()
        build_sqlite(path, size)
        built = time.perf_counter() - started
        name = f"threadstore_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(pg, f'CREATE DATABASE "{name}"'))
        target = make_url(pg).set(database=name).render_as_string(hide_password=False)
        try:
            asyncio.run(upgrade(target))
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    f"sqlite+aiosqlite:///{path}",
                    target,
                    "--batch-size",
                    str(batch_size),
                    *([] if verify else ["--no-verify"]),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            asyncio.run(_pg(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    result = json.loads(out.strip().splitlines()[-1])
    result["built"] = built
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument(
        "--no-verify", action="store_true", help="time the copy without the final comparison"
    )
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.batch_size, not args.no_verify)
        return
    pg = os.environ.get("THREADSTORE_TEST_POSTGRES_URL")
    if not pg:
        sys.exit("THREADSTORE_TEST_POSTGRES_URL is not set: the copy needs a PostgreSQL server")
    columns = ("messages", "threads", "rows", "seconds", "rows/s", "peak RSS")
    print(" ".join(f"{c:>10}" for c in columns))
    for size in args.messages:
        r = run(size, pg, args.batch_size, not args.no_verify)
        print(
            f"{size:>10,} {max(1, size // 100):>10,} {int(r['rows']):>10,} {r['seconds']:>10.1f} "
            f"{r['rows'] / r['seconds']:>10,.0f} {r['rss_kib'] / 1024:>7.0f} MB"
        )


if __name__ == "__main__":
    main()
