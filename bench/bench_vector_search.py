"""Semantic search of the LangGraph long-term store: ranked in SQL vs. the Python fallback.

Fills one scratch PostgreSQL database (THREADSTORE_TEST_POSTGRES_URL; dropped
afterwards) with ``--items`` items of ``--dims`` random dimensions under one
namespace, then times one top-10 search ranked in SQL (the portable float8
path, or pgvector where installed) and one ranked by the Python fallback over
every item (``max_candidates`` = the item count), and checks both return the
same hits. The fallback is reached by hiding the SQL ranking for that search
only; a store never does that. Usage: ``python bench/bench_vector_search.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from typing import Any

from langgraph.store.base import PutOp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from threadstore import SQLAlchemyStore
from threadstore.engine import create_engine
from threadstore.langgraph import ThreadstoreLongTermStore
from threadstore.store.sql.memory_items import SqlMemoryItems


async def _run(url: str, items: int, dims: int) -> None:
    rng = random.Random(14)
    vectors = {f"t{i}": [rng.uniform(-1, 1) for _ in range(dims)] for i in range(items)}
    vectors["q"] = [rng.uniform(-1, 1) for _ in range(dims)]
    index: Any = {"embed": lambda texts: [vectors[t] for t in texts], "fields": ["text"]}
    store = SQLAlchemyStore(url)
    await store.initialize()
    lt = ThreadstoreLongTermStore(store, index=index, max_candidates=items)
    try:
        for start in range(0, items, 500):
            ops = [
                PutOp(("docs",), f"k{i}", {"text": f"t{i}"})
                for i in range(start, min(start + 500, items))
            ]
            await lt.abatch(ops)
        await lt.asearch(("docs",), query="q", limit=10)  # warm: connection, probe, plans
        began = time.perf_counter()
        in_sql = await lt.asearch(("docs",), query="q", limit=10)
        sql_time = time.perf_counter() - began
        ranking = SqlMemoryItems.vector_ranking
        SqlMemoryItems.vector_ranking = lambda self: None  # type: ignore[method-assign]
        try:
            began = time.perf_counter()
            in_python = await lt.asearch(("docs",), query="q", limit=10)
            python_time = time.perf_counter() - began
        finally:
            SqlMemoryItems.vector_ranking = ranking  # type: ignore[method-assign]
        same = [(h.key, h.score) for h in in_sql] == [(h.key, h.score) for h in in_python]
        print(f"{items} items x {dims} dims, top 10, PostgreSQL")
        print(f"  ranked in SQL:        {sql_time:.3f} s")
        print(f"  Python fallback:      {python_time:.3f} s")
        print(f"  same hits and scores: {same}")
    finally:
        lt.close()
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--dims", type=int, default=256)
    args = parser.parse_args()
    base = make_url(os.environ["THREADSTORE_TEST_POSTGRES_URL"])
    name = f"bench_vectors_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        await _run(
            base.set(database=name).render_as_string(hide_password=False), args.items, args.dims
        )
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
