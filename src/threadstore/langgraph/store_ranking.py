"""Semantic search ranked in the database, page for page as in Python.

PostgreSQL and SQLite with sqlite-vec order the rows under the namespace
prefix by the cosine distance of their nearest embedding, over every row: no
``max_candidates`` bound (:mod:`threadstore.store.sql.vector_distance`).
sqlite-vec and pgvector compute in float32, PostgreSQL without pgvector in
float64. :meth:`~threadstore.langgraph.store_index.Index.rank` scores in
float64; to return the very page it would (same rows, order, ties and
scores), rows are read nearest first, filtered, and scored again with the
same :func:`~threadstore.langgraph.store_query.cosine`, until no unread row
could still reach the page: float32 moves a cosine by at most
:func:`tolerance`. That bound holds while embeddings stay inside float32's
range (components below 1e15 in magnitude, norms above 1e-15), as every
model's do; float64's error (about ``dims`` units of 2**-53, its components
kept inside 1e-150 to 1e150 by revision 0012, the rest ranked here) is far
inside it, so one margin serves every database. Rows without embeddings
fill a short page as in the fallback.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

from langgraph.store.base import SearchOp

from threadstore.langgraph.store_query import cosine, matches
from threadstore.store.memory_item_rows import (
    UNRANKED,
    MemoryItemRow,
    MemoryItemRows,
    VectorRanking,
)

__all__ = ["rank_in_database", "rankable", "tolerance"]

_FIRST_BATCH = 64
_SCAN_PAGE = 500
_LIMIT = 1e15


def tolerance(dims: int) -> float:
    """How far the database's cosine (float32 at worst) may be from Python's, for ``dims``.

    Rounding both vectors to float32 moves a cosine by at most 4u (u = 2**-24),
    the float32 dot product and norms over ``dims`` terms by about 2 * dims * u,
    the square roots and the division by a few u; doubled for a margin.
    """
    return 2 * (3 * dims + 10) * 2.0**-24


def rankable(query: list[float]) -> bool:
    """Whether the database can rank for ``query`` within :func:`tolerance`."""
    return bool(query) and all(x == 0 or 1 / _LIMIT <= abs(x) <= _LIMIT for x in query)


async def rank_in_database(
    ranking: VectorRanking,
    rows: MemoryItemRows,
    op: SearchOp,
    now: datetime,
    query: list[float],
) -> list[tuple[MemoryItemRow, float | None]]:
    """The page ``op.offset``/``op.limit`` that ``Index.rank`` gives over every matching row."""
    if op.limit == 0:
        return []
    prefix, wanted, stop = tuple(op.namespace_prefix), op.filter or {}, op.offset + op.limit
    margin = tolerance(len(query))
    hits: list[tuple[float, MemoryItemRow]] = []
    best: list[float] = []  # the `stop` best scores so far, a min-heap
    start, size = 0, max(_FIRST_BATCH, 2 * stop)
    while True:
        batch = await ranking.ranked(prefix, now, query, start, size)
        kept = [(row, distance) for row, distance in batch if matches(row.value, wanted)]
        vectors = await rows.vectors([row.item_key for row, _ in kept])
        for row, distance in kept:
            if distance != UNRANKED and len(best) == stop and 1.0 - distance + margin < best[0]:
                return await _page(ranking, op, now, wanted, hits)
            found = vectors.get(row.item_key)
            if not found:  # its vectors went in between (another writer)
                continue
            score = max(cosine(query, vector) for vector in found)
            hits.append((score, row))
            if len(best) < stop:
                heapq.heappush(best, score)
            elif score > best[0]:
                heapq.heapreplace(best, score)
        if len(batch) < size:
            return await _page(ranking, op, now, wanted, hits)
        start, size = start + size, size * 2


async def _page(
    ranking: VectorRanking,
    op: SearchOp,
    now: datetime,
    wanted: dict[str, Any],
    hits: list[tuple[float, MemoryItemRow]],
) -> list[tuple[MemoryItemRow, float | None]]:
    hits.sort(key=lambda hit: hit[1].cursor, reverse=True)  # the fallback's candidate order
    hits.sort(key=lambda hit: -hit[0])
    page: list[tuple[MemoryItemRow, float | None]] = [
        (row, score) for score, row in hits[op.offset : op.offset + op.limit]
    ]
    after = None
    while len(page) < op.limit:
        batch = await ranking.unembedded(tuple(op.namespace_prefix), now, after, _SCAN_PAGE)
        page.extend((row, None) for row in batch if matches(row.value, wanted))
        if len(batch) < _SCAN_PAGE:
            break
        after = batch[-1].cursor
    return page[: op.limit]
