"""The SDK's own SQLiteSession under the pop check that ThreadstoreSession passes.

openai-agents#4205 reported a non-atomic ``pop_item`` (two pops returning the
same item). The pinned SDK (0.24) claims the tail with ``DELETE ... RETURNING``
under a write lock, and passes: the check is the same one, not tailored to us.
If a future SDK regresses, this test says so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from agents import SQLiteSession, TResponseInputItem

POPS = 40


async def test_the_sdk_sqlite_session_pops_forty_distinct_items(tmp_path: Path) -> None:
    session = SQLiteSession("s1", tmp_path / "sdk.db")
    try:
        items = [cast(TResponseInputItem, {"role": "user", "content": str(i)}) for i in range(POPS)]
        await session.add_items(items)
        popped = await asyncio.gather(*(session.pop_item() for _ in range(POPS)))
        contents = sorted(int(cast(dict[str, Any], p)["content"]) for p in popped if p is not None)
        assert contents == list(range(POPS))
    finally:
        session.close()
