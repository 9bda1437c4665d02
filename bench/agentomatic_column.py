"""The Agentomatic column of bench/run.py: its SQLAlchemyStore timed in its own environment.

Agentomatic is never a threadstore dependency: ``bash bench/agentomatic_env.sh``
installs version 1.16.0 into bench/.venv-agentomatic, and
:func:`measure` runs bench/agentomatic_side.py there on a database of its
own, reading back one JSON object (operation -> median and, for the
flat-cost rows, Agentomatic's own shallow reference). Without that
environment the column reads "n/a".
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bench.harness import Row

PYTHON = Path(__file__).resolve().parent / ".venv-agentomatic" / "bin" / "python"
SIDE = Path(__file__).resolve().parent / "agentomatic_side.py"

Timings = dict[str, dict[str, Any]]


def available() -> bool:
    """Whether bench/.venv-agentomatic exists."""
    return PYTHON.exists()


async def measure(url: str, rounds: int, depth: int) -> Timings:
    """Agentomatic's medians on ``url`` (a database it owns); {} if the run fails."""
    process = await asyncio.create_subprocess_exec(
        str(PYTHON),
        str(SIDE),
        url,
        "--rounds",
        str(rounds),
        "--depth",
        str(depth),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        print(f"  agentomatic: run failed (exit {process.returncode})", file=sys.stderr)
        return {}
    found: Timings = json.loads(out.decode().strip().splitlines()[-1])
    return found


def cells(row: Row, timings: Timings) -> tuple[str, str]:
    """The row's Agentomatic time and ratio, or "n/a" where it has no such operation.

    The ratio divides by the row's reference (the raw driver), or for the
    flat-cost rows by Agentomatic's own shallow case, as threadstore's does.
    """
    found = timings.get(row.operation)
    if found is None:
        return "n/a", "n/a"
    reference = found.get("self_reference_us") or row.reference_us
    return f"{found['us']:.0f}", f"{found['us'] / reference:.2f}"
