"""PostgreSQL ranks semantic search in SQL, page for page as MemoryStore's Python ranking.

The portable path (float8 over revision 0012's ``embedding_array``) runs on
every database here: pgvector is not installable on these machines, so
``pg_extension`` has no ``vector`` and the probe says so. The pgvector path's
SQL runs against a stand-in (a ``vector`` domain over ``float8[]`` with a
``<=>`` operator of the same contract) in one temporary database.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("langgraph.store.base")

from hypothesis import HealthCheck, given, settings
from langgraph.store.base import PutOp
from sqlalchemy import event, text

from tests.conftest import FakeClock
from tests.langgraph.ranking_cases import (
    items,
    lookup,
    odd_vectors,
    pool_vectors,
    same_pages,
    searches,
)
from threadstore import BaseStore, MemoryStore, SQLAlchemyStore
from threadstore.langgraph import ThreadstoreLongTermStore
from threadstore.langgraph.store_query import cosine
from threadstore.store.sql.memory_items import VECTOR_KEYS


@pytest.fixture(params=("postgres", "pgbouncer", "partitioned"))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def reference(clock: FakeClock) -> AsyncIterator[MemoryStore]:
    """A MemoryStore on the same clock: its long-term store ranks in Python."""
    memory = MemoryStore(clock=clock)
    await memory.initialize()
    yield memory
    await memory.close()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pool=pool_vectors, odd=odd_vectors, written=items, asked=searches, query=pool_vectors)
async def test_sql_ranking_equals_python_ranking(
    store: BaseStore,
    reference: MemoryStore,
    clock: FakeClock,
    pool: list[list[float]],
    odd: list[float],
    written: list[Any],
    asked: list[Any],
    query: list[list[float]],
) -> None:
    await same_pages(
        lambda index: ThreadstoreLongTermStore(store, index=index),
        lambda index: ThreadstoreLongTermStore(reference, index=index),
        clock,
        (pool, odd, written, asked, query),
        shared=False,
    )


async def test_every_item_is_ranked_past_max_candidates(
    store: BaseStore,
    reference: MemoryStore,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    vectors = {f"t{i}": [1.0, i / 10, 0.0] for i in range(40)} | {"q": [1.0, 0.0, 0.0]}
    index: Any = {"embed": lookup(vectors), "dims": 3, "fields": ["text"]}
    ranked = ThreadstoreLongTermStore(store, index=index, max_candidates=5)
    bounded = ThreadstoreLongTermStore(reference, index=index, max_candidates=5)
    for i in range(40):  # the nearest items are the oldest
        for lt in (ranked, bounded):
            await lt.aput(("docs",), f"k{i}", {"text": f"t{i}"})
        clock.advance(1)
    truth = sorted(range(40), key=lambda i: -cosine(vectors["q"], vectors[f"t{i}"]))[:3]
    with caplog.at_level(logging.WARNING, logger="threadstore"):
        hits = await ranked.asearch(("docs",), query="q", limit=3)
    assert "ranked only the newest" not in caplog.text
    assert [hit.key for hit in hits] == [f"k{i}" for i in truth] == ["k0", "k1", "k2"]
    assert [hit.score for hit in hits] == [cosine(vectors["q"], vectors[f"t{i}"]) for i in truth]
    with caplog.at_level(logging.WARNING, logger="threadstore"):
        fallback = await bounded.asearch(("docs",), query="q", limit=3)
    assert "ranked only the newest 5" in caplog.text
    assert [hit.key for hit in fallback] == ["k35", "k36", "k37"]  # the Python fallback's bound
    ranked.close()
    bounded.close()


async def test_unsafe_components_are_ranked_in_python(
    store: BaseStore, reference: MemoryStore, clock: FakeClock
) -> None:
    """Components whose float8 products PostgreSQL would refuse (underflow, overflow)."""
    vectors = {
        "tiny": [1e-200, 1.0],
        "huge": [1e200, 1.0],
        "subnormal": [5e-324, 0.0],
        "plain": [1.0, 0.5],
        "q": [1.0, 1.0],
        "zero": [0.0, 0.0],
    }
    index: Any = {"embed": lookup(vectors), "fields": ["text"]}
    ours = ThreadstoreLongTermStore(store, index=index)
    theirs = ThreadstoreLongTermStore(reference, index=index)
    for key in ("tiny", "huge", "subnormal", "plain"):
        for lt in (ours, theirs):
            await lt.aput(("unsafe",), key, {"text": key})
        clock.advance(1)
    for query in ("q", "zero"):
        got = await ours.asearch(("unsafe",), query=query)
        want = await theirs.asearch(("unsafe",), query=query)
        assert [(h.key, h.score) for h in got] == [(h.key, h.score) for h in want]
    assert [h.key for h in await ours.asearch(("unsafe",), query="q")][:2] == ["plain", "tiny"]
    ours.close()
    theirs.close()


def _statements(store: SQLAlchemyStore, needle: str) -> list[str]:
    """The statements holding ``needle`` that the store runs from now on."""
    seen: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")  # type: ignore[union-attr]
    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if needle in statement:
            seen.append(statement)

    return seen


@pytest.mark.parametrize("backend", ["postgres"])
async def test_without_pgvector_the_portable_path_is_asked_once(
    store: SQLAlchemyStore, clock: FakeClock
) -> None:
    seen = _statements(store, "pg_extension")
    vectors = {"a": [1.0, 0.0], "b": [0.0, 1.0], "q": [1.0, 0.2]}
    lt = ThreadstoreLongTermStore(store, index={"embed": lookup(vectors), "fields": ["text"]})
    await lt.aput(("p",), "a", {"text": "a"})
    await lt.aput(("p",), "b", {"text": "b"})
    assert seen == []  # writes never ask
    for _ in range(3):
        assert [h.key for h in await lt.asearch(("p",), query="q")] == ["a", "b"]
    assert len(seen) == 1
    assert store._ctx.pgvector.installed is False
    async with store.engine.connect() as conn:  # type: ignore[union-attr]
        has = await conn.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'"))
    assert has == 0
    lt.close()


_STAND_IN = (
    "CREATE DOMAIN vector AS float8[]",
    # pgvector's contract: an error for another length, NaN for a zero vector
    "CREATE FUNCTION stand_in_cosine(a vector, b vector) RETURNS float8 LANGUAGE plpgsql "
    "IMMUTABLE AS $$ DECLARE ab float8; aa float8; bb float8; BEGIN "
    "IF cardinality(a) <> cardinality(b) THEN RAISE 'different vector dimensions'; END IF; "
    "SELECT sum(x * y), sum(x * x), sum(y * y) INTO ab, aa, bb "
    "FROM unnest(CAST(a AS float8[]), CAST(b AS float8[])) AS t(x, y); "
    "IF aa * bb = 0 THEN RETURN 'NaN'; END IF; RETURN 1 - ab / sqrt(aa * bb); END $$",
    "CREATE OPERATOR <=> (LEFTARG = vector, RIGHTARG = vector, FUNCTION = stand_in_cosine)",
)


@pytest.mark.parametrize("backend", ["postgres"])
async def test_the_pgvector_path_against_a_stand_in(
    store: SQLAlchemyStore, reference: MemoryStore, clock: FakeClock
) -> None:
    async with store.engine.begin() as conn:  # type: ignore[union-attr]
        for statement in _STAND_IN:
            await conn.execute(text(statement))
    vectors = {
        "near": [1.0, 0.1],
        "far": [-1.0, 0.3],
        "zero": [0.0, 0.0],
        "short": [1.0],
        "q": [1.0, 0.0],
        "side": [0.0, 2.0],
    }
    index: Any = {"embed": lookup(vectors), "fields": ["text"]}
    ours = ThreadstoreLongTermStore(store, index=index)
    theirs = ThreadstoreLongTermStore(reference, index=index)
    for key in ("zero", "near", "short", "far", "side"):
        for lt in (ours, theirs):
            await lt.aput(("pv",), key, {"text": key})
        clock.advance(1)
    portable = [(h.key, h.score) for h in await ours.asearch(("pv",), query="q")]
    assert store._ctx.pgvector.installed is False  # a domain is not the extension
    store._ctx.pgvector.installed = True  # as if pg_extension listed pgvector
    operator = _statements(store, "<=>")
    for limit in (1, 2, 5):
        got = await ours.asearch(("pv",), query="q", limit=limit)
        want = await theirs.asearch(("pv",), query="q", limit=limit)
        assert [(h.key, h.score) for h in got] == [(h.key, h.score) for h in want]
        assert [(h.key, h.score) for h in got] == portable[:limit]
    assert [key for key, _ in portable] == ["short", "near", "side", "zero", "far"]
    assert len(operator) == 3
    assert "CAST(threadstore_memory_vectors.embedding_array AS vector) <=>" in operator[0]
    ours.close()
    theirs.close()


async def test_many_items_page_for_page(
    store: BaseStore, reference: MemoryStore, clock: FakeClock
) -> None:
    """300 items past the first batch: early stops, exact duplicates, near ties, filters."""
    rng = random.Random(14)
    base = [[rng.gauss(0, 1) for _ in range(8)] for _ in range(60)]
    vectors: dict[str, list[float]] = {}
    for i in range(300):
        kind = i % 3
        if kind == 0:  # its own direction
            vectors[f"t{i}"] = [rng.gauss(0, 1) for _ in range(8)]
        elif kind == 1:  # an exact duplicate of a shared one: ties
            vectors[f"t{i}"] = base[i % 60]
        else:  # a shared one nudged below float32's resolution
            vectors[f"t{i}"] = [x * (1 + rng.choice((-1, 1)) * 1e-9) for x in base[i % 60]]
    queries = {f"q{i}": base[i] for i in range(3)} | {"qr": [rng.gauss(0, 1) for _ in range(8)]}
    index: Any = {"embed": lookup(vectors | queries), "fields": ["text"]}
    ours = ThreadstoreLongTermStore(store, index=index)
    theirs = ThreadstoreLongTermStore(reference, index=index)
    for i in range(300):
        for lt in (ours, theirs):
            await lt.aput(("many", f"g{i % 4}"), f"k{i}", {"text": f"t{i}", "n": i % 7})
        if i % 5 == 0:
            clock.advance(1)
    for query in queries:
        for offset, limit, wanted in ((0, 10, None), (37, 25, None), (0, 100, {"n": 3})):
            args: dict[str, Any] = {"query": query, "offset": offset, "limit": limit}
            args["filter"] = wanted
            got = await ours.asearch(("many",), **args)
            want = await theirs.asearch(("many",), **args)
            assert [(h.key, h.score) for h in got] == [(h.key, h.score) for h in want]
    ours.close()
    theirs.close()


async def test_a_query_out_of_range_ranks_in_python_over_many_items(
    store: BaseStore, reference: MemoryStore, clock: FakeClock
) -> None:
    """A query component below 1e-15 is not ranked in SQL; the fallback reads vectors in chunks."""
    count = VECTOR_KEYS + 100
    vectors = {f"t{i}": [1.0, i / count] for i in range(count)} | {"q": [1.0, 1e-20]}
    index: Any = {"embed": lookup(vectors), "fields": ["text"]}
    ours = ThreadstoreLongTermStore(store, index=index)
    theirs = ThreadstoreLongTermStore(reference, index=index)
    ops = [PutOp(("wide",), f"k{i}", {"text": f"t{i}"}) for i in range(count)]
    for lt in (ours, theirs):
        await lt.abatch(ops)
    got = await ours.asearch(("wide",), query="q", limit=5)
    assert [(h.key, h.score) for h in got] == [
        (h.key, h.score) for h in await theirs.asearch(("wide",), query="q", limit=5)
    ]
    assert [h.key for h in got] == ["k0", "k1", "k2", "k3", "k4"]
    ours.close()
    theirs.close()
