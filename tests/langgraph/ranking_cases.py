"""Random long-term store contents and searches for the differential tests of SQL ranking.

``test_store_sqlite_vec.py`` (sqlite-vec against the same SQLite file's Python
fallback) and ``test_store_pg_ranking.py`` (PostgreSQL against a MemoryStore's
Python ranking) draw the same cases: small vectors with many exact ties, zero
vectors and vectors of another length, nested namespaces, filters, offsets and
limits.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from tests.conftest import FakeClock
from threadstore.langgraph import ThreadstoreLongTermStore

__all__ = ["components", "items", "lookup", "odd_vectors", "pool_vectors", "same_pages", "searches"]

Embedder = Callable[[list[str]], list[list[float]]]


def lookup(vectors: dict[str, list[float]]) -> Embedder:
    """An embedding function reading each text's vector from ``vectors``."""
    return lambda texts: [vectors[text] for text in texts]


components = st.one_of(
    st.integers(min_value=-2, max_value=2).map(float),  # many exact ties
    st.floats(min_value=1e-6, max_value=1),
    st.floats(min_value=-1, max_value=-1e-6),
)
pool_vectors = st.lists(st.lists(components, min_size=3, max_size=3), min_size=1, max_size=6)
odd_vectors = st.sampled_from(([0.0, 0.0, 0.0], [1.0, 2.0]))  # zero; another length
items = st.lists(
    st.tuples(
        st.sampled_from(((), ("a",), ("a", "b"), ("c",))),  # namespace under the root
        st.sampled_from(("k1", "k2", "k3", "k4", "k5", "k6")),
        st.integers(min_value=0, max_value=9),  # value n
        st.sampled_from(("none", "one", "one", "two", "odd")),  # embedded fields
        st.integers(min_value=0, max_value=5),  # first vector (pool index)
        st.integers(min_value=0, max_value=5),  # second vector
        st.booleans(),  # advance the clock first (else: the same updated_at)
    ),
    min_size=0,
    max_size=30,
)
searches = st.lists(
    st.tuples(
        st.sampled_from(((), ("a",), ("a", "b"), ("c",))),
        st.one_of(st.none(), st.integers(min_value=0, max_value=5), st.just(-1)),  # query
        st.sampled_from((None, {"n": {"$gte": 5}}, {"n": 3})),
        st.integers(min_value=0, max_value=6),  # offset
        st.integers(min_value=0, max_value=8),  # limit
    ),
    min_size=1,
    max_size=6,
)


async def same_pages(
    ranked: Callable[[dict[str, Any]], ThreadstoreLongTermStore],
    reference: Callable[[dict[str, Any]], ThreadstoreLongTermStore],
    clock: FakeClock,
    case: tuple[list[list[float]], list[float], list[Any], list[Any], list[list[float]]],
    *,
    shared: bool,
) -> None:
    """Write ``case`` and check every search gives the reference's page, score for score.

    ``ranked`` and ``reference`` build a long-term store from an index config;
    ``shared``: both are on one database, so the items are written once.
    """
    pool, odd, written, asked, query = case
    root = f"r{uuid.uuid4().hex[:10]}"
    vectors: dict[str, list[float]] = {"odd": odd}
    vectors.update({f"p{i}": v for i, v in enumerate(pool)})
    vectors.update({f"q{i}": v for i, v in enumerate(query)})
    index: Any = {"embed": lookup(vectors), "fields": ["a", "b"]}
    ours, theirs = ranked(index), reference(index)
    writers = [ours] if shared else [ours, theirs]
    for ns, key, n, fields, first, second, advance in written:
        if advance:
            clock.advance(1)
        value: dict[str, Any] = {"n": n}
        if fields in ("one", "two"):
            value["a"] = f"p{first % len(pool)}"
        if fields == "two":
            value["b"] = f"p{second % len(pool)}"
        if fields == "odd":
            value["a"], value["b"] = "odd", f"p{first % len(pool)}"
        for writer in writers:
            await writer.aput((root, *ns), key, value)
    for ns, which, wanted, offset, limit in asked:
        text = None if which is None else ("odd" if which < 0 else f"q{which % len(query)}")
        args: dict[str, Any] = {"query": text, "filter": wanted, "offset": offset, "limit": limit}
        got = await ours.asearch((root, *ns), **args)
        expected = await theirs.asearch((root, *ns), **args)
        assert [(h.namespace, h.key, h.score) for h in got] == [
            (h.namespace, h.key, h.score) for h in expected
        ]
        for hit in got:
            assert hit.score is None or not math.isnan(hit.score)
    ours.close()
    theirs.close()
