"""Timing helpers shared by the benchmarks: interleaved rounds, medians, ratios, tables.

Each :class:`Case` pairs threadstore's call with the same work written by hand
on the raw driver. Rounds alternate between the two sides so machine noise hits
both; a row reports both medians and their ratio (threadstore / raw; below 1
is faster). Absolute times on a shared machine vary: compare ratios.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from threadstore.migrations import upgrade_connection
from threadstore.sqlite_vector import SQLITE_VEC_ENV_VAR, sqlite_driver

Op = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Case:
    """One operation: threadstore's call and the reference doing the same work."""

    name: str
    ours: Op
    reference: Op
    repeat: int = 20


@dataclass(frozen=True)
class Row:
    """One measured operation."""

    backend: str
    operation: str
    threadstore_us: float
    reference_us: float
    reference: str

    @property
    def ratio(self) -> float:
        return self.threadstore_us / self.reference_us


async def _time(op: Op, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        await op()
    return (time.perf_counter() - started) / repeat


async def measure(backend: str, reference: str, cases: Sequence[Case], rounds: int) -> list[Row]:
    """Time every case in interleaved rounds; return one row per case."""
    rows = []
    for case in cases:
        await case.ours()  # warm caches (statement compilation, prepared statements)
        await case.reference()
        mine, theirs = [], []
        for _ in range(rounds):
            mine.append(await _time(case.ours, case.repeat))
            theirs.append(await _time(case.reference, case.repeat))
        row = Row(
            backend,
            case.name,
            statistics.median(mine) * 1e6,
            statistics.median(theirs) * 1e6,
            reference,
        )
        print(
            f"  {row.operation:<34} threadstore {row.threadstore_us:9.0f} us   "
            f"{reference} {row.reference_us:9.0f} us   ratio {row.ratio:5.2f}",
            flush=True,
        )
        rows.append(row)
    return rows


def print_table(
    backend: str, rows: Sequence[Row], extra: Callable[[Row], tuple[str, ...]] | None = None
) -> None:
    """A Markdown table of one backend's rows; ``extra`` adds the Agentomatic cells."""
    print(f"\n### {backend}\n")
    more = " agentomatic (us) | agentomatic ratio |" if extra else ""
    print(f"| operation | threadstore (us) | reference | reference (us) | ratio |{more}")
    print("|---|---:|---|---:|---:|" + ("---:|---:|" if extra else ""))
    for row in rows:
        cells = "".join(f" {cell} |" for cell in extra(row)) if extra else ""
        print(
            f"| {row.operation} | {row.threadstore_us:.0f} | {row.reference} | "
            f"{row.reference_us:.0f} | {row.ratio:.2f} |{cells}"
        )


def one_sqlite_library() -> str:
    """Make threadstore open SQLite with the stdlib sqlite3, as aiosqlite and LangGraph's savers do.

    With the sqlite-vec extra installed threadstore would otherwise use
    pysqlite3's own SQLite (another version, another query planner), and the
    ratios would compare two libraries. Set ``THREADSTORE_SQLITE_VEC=1`` to
    measure that build anyway; the line returned says which library each side runs.
    """
    os.environ.setdefault(SQLITE_VEC_ENV_VAR, "0")
    ours = sqlite_driver()
    connection = ours.connect(":memory:")
    try:
        version = connection.execute("SELECT sqlite_version()").fetchone()[0]
    finally:
        connection.close()
    return (
        f"SQLite: threadstore {ours.__name__} {version}, "
        f"raw driver and official savers sqlite3 {sqlite3.sqlite_version}"
    )


def write_json(path: Path, rows: Sequence[Row], extra: dict[str, Any]) -> None:
    """Save the rows with the machine's description, for later comparison."""
    document = {
        "when": datetime.now(UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": [asdict(row) | {"ratio": row.ratio} for row in rows],
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {path}")


async def migrate(url: str) -> None:
    """Bring the database at ``url`` to head (the benchmarks' own set-up)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_connection)
    finally:
        await engine.dispose()
