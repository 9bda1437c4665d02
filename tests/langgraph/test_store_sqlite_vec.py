"""sqlite-vec on a real SQLite file: loaded, ranking in SQL, equal to the Python fallback.

Every test here needs the ``sqlite-vec`` extra (pysqlite3-binary, sqlite-vec);
with ``CI=true`` its absence fails the session (tests/conftest.py).
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("langgraph.store.base")
pytest.importorskip("pysqlite3.dbapi2")
pytest.importorskip("sqlite_vec")

from hypothesis import HealthCheck, given, settings
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.conftest import FakeClock, another_writer
from tests.langgraph.ranking_cases import (
    items,
    lookup,
    odd_vectors,
    pool_vectors,
    same_pages,
    searches,
)
from threadstore import (
    DuplicateRecordError,
    QueryTimeoutError,
    SQLAlchemyStore,
    ThreadNotFoundError,
    ValidationError,
    create_store,
)
from threadstore.langgraph import ThreadstoreLongTermStore
from threadstore.langgraph.store_query import cosine
from threadstore.langgraph.store_ranking import tolerance
from threadstore.sqlite_vector import SQLITE_VEC_ENV_VAR


async def _raw(store: SQLAlchemyStore, sql: str) -> Any:
    async with store.engine.connect() as conn:
        return (await conn.exec_driver_sql(sql)).scalar()


@pytest.fixture
async def stores(sqlite_url: str, clock: FakeClock) -> AsyncIterator[dict[bool, SQLAlchemyStore]]:
    """One SQLite file, opened with sqlite-vec (True) and without it (False)."""
    opened = {on: SQLAlchemyStore(sqlite_url, clock=clock, sqlite_vec=on) for on in (True, False)}
    for store in opened.values():
        await store.initialize()
    yield opened
    for store in opened.values():
        await store.close()


async def test_installed_means_pysqlite3_with_the_extension_loaded(sqlite_url: str) -> None:
    store = SQLAlchemyStore(sqlite_url)  # the default: on when installed
    await store.initialize()
    try:
        assert store.engine.sqlite_vec is True  # type: ignore[union-attr]
        assert store.engine.dialect.loaded_dbapi.driver.__name__ == "pysqlite3.dbapi2"
        assert str(await _raw(store, "SELECT vec_version()")).startswith("v")
        distance = await _raw(store, "SELECT vec_distance_cosine('[1,0]', '[0,1]')")
        assert distance == pytest.approx(1.0)
    finally:
        await store.close()


async def test_opting_out(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLAlchemyStore(sqlite_url, sqlite_vec=False)  # this store: no extension
    await store.initialize()
    try:
        assert store.engine.sqlite_vec is False  # type: ignore[union-attr]
        assert store.engine.dialect.loaded_dbapi.driver.__name__ == "pysqlite3.dbapi2"
        with pytest.raises(Exception, match="no such function"):
            await _raw(store, "SELECT vec_version()")
    finally:
        await store.close()
    for word in ("0", "off"):  # the process: the stdlib sqlite3, as without the extra
        monkeypatch.setenv(SQLITE_VEC_ENV_VAR, word)
        store = SQLAlchemyStore(sqlite_url)
        await store.initialize()
        try:
            assert store.engine.dialect.loaded_dbapi.driver is sqlite3
            assert store.engine.sqlite_vec is False  # type: ignore[union-attr]
            assert await store.create_thread("t" + word, "alice", "helper")
        finally:
            await store.close()
        with pytest.raises(ValidationError, match="is off") as info:
            SQLAlchemyStore(sqlite_url, sqlite_vec=True)
        assert SQLITE_VEC_ENV_VAR in info.value.suggestion


async def test_bad_choices_are_refused(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="sqlite_vec must be") as info:
        SQLAlchemyStore(sqlite_url, sqlite_vec="yes")
    assert "None" in info.value.suggestion
    monkeypatch.setenv(SQLITE_VEC_ENV_VAR, "maybe")
    with pytest.raises(ValidationError, match=SQLITE_VEC_ENV_VAR) as info:
        SQLAlchemyStore(sqlite_url)
    assert "auto" in info.value.suggestion
    monkeypatch.delenv(SQLITE_VEC_ENV_VAR)
    with pytest.raises(ValidationError, match="sqlite_vec must be"):
        SQLAlchemyStore("postgresql+asyncpg://u@localhost/db", sqlite_vec="on")
    memory = create_store("memory://", sqlite_vec=True)  # the same code runs on every URL
    assert memory.backend_name == "memory"
    with pytest.raises(ValidationError, match="sqlite_vec must be"):
        create_store("memory://", sqlite_vec=1)


async def test_errors_translate_the_same_under_pysqlite3(sqlite_url: str) -> None:
    store = SQLAlchemyStore(sqlite_url, pool_size=1, max_overflow=0, sqlite_vec=True)

    @event.listens_for(store.engine.sync_engine, "connect")
    def short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200")  # after threadstore's own 30 s
        cursor.close()

    await store.initialize()
    try:
        await store.create_thread("t1", "alice", "helper")
        with pytest.raises(DuplicateRecordError) as duplicate:
            await store.create_thread("t1", "alice", "helper")
        assert type(duplicate.value.__cause__.orig).__module__ == "pysqlite3.dbapi2"  # type: ignore[union-attr]
        with pytest.raises(ThreadNotFoundError):
            await store.add_messages("missing", [{"role": "user", "content": "x"}])
        path = make_url(sqlite_url).database
        assert path is not None
        with another_writer(path), pytest.raises(QueryTimeoutError) as busy:
            await store.add_message("t1", "user", "blocked")
        assert "locked by another writer" in busy.value.message
        assert busy.value.retryable is True
        await store.add_message("t1", "user", "after")
        assert [m["content"] for m in await store.get_messages("t1")] == ["after"]
    finally:
        await store.close()


async def test_an_online_backup_uses_the_stores_sqlite(sqlite_url: str, tmp_path: Any) -> None:
    from threadstore.transfer.backup import backup_database

    store = SQLAlchemyStore(sqlite_url)
    await store.initialize()
    try:
        await store.create_thread("t1", "alice", "helper")
        async with store.engine.begin() as conn:  # a write transaction is open meanwhile
            await conn.exec_driver_sql("UPDATE threadstore_threads SET title = 'x'")
            summary = await backup_database(sqlite_url, tmp_path / "copy.db")
        assert summary.size > 0
        copy = sqlite3.connect(tmp_path / "copy.db")
        assert copy.execute("SELECT title FROM threadstore_threads").fetchall() == [(None,)]
        copy.close()
    finally:
        await store.close()


async def test_sql_ranking_has_no_candidate_bound(
    stores: dict[bool, SQLAlchemyStore], clock: FakeClock
) -> None:
    vectors = {f"t{i}": [1.0, i / 10, 0.0] for i in range(40)} | {"q": [1.0, 0.0, 0.0]}
    index: Any = {"embed": lookup(vectors), "dims": 3, "fields": ["text"]}
    ranked = ThreadstoreLongTermStore(stores[True], index=index, max_candidates=5)
    fallback = ThreadstoreLongTermStore(stores[False], index=index, max_candidates=5)
    for i in range(40):  # the nearest items are the oldest
        await ranked.aput(("docs",), f"k{i}", {"text": f"t{i}"})
        clock.advance(1)
    truth = sorted(range(40), key=lambda i: -cosine(vectors["q"], vectors[f"t{i}"]))[:3]
    hits = await ranked.asearch(("docs",), query="q", limit=3)
    assert [hit.key for hit in hits] == [f"k{i}" for i in truth] == ["k0", "k1", "k2"]
    assert [hit.score for hit in hits] == [cosine(vectors["q"], vectors[f"t{i}"]) for i in truth]
    bounded = await fallback.asearch(("docs",), query="q", limit=3)
    assert [hit.key for hit in bounded] == ["k35", "k36", "k37"]  # only the newest 5 ranked


async def test_float32_order_is_corrected_at_the_page_edge(
    stores: dict[bool, SQLAlchemyStore], clock: FakeClock
) -> None:
    """sqlite-vec puts ``a`` first, float64 cosine (the fallback's) ``b``."""
    vectors = {
        "q": [0.3040210690253411, 0.2869321605396833, 0.881469044498],
        "a": [-0.21904289772215368, -0.3864314102969728, -0.3455171706257336],
        "b": [-0.21904293437512432, -0.3864313408700196, -0.3455170919256845],
    }
    assert cosine(vectors["q"], vectors["b"]) > cosine(vectors["q"], vectors["a"])
    index: Any = {"embed": lookup(vectors), "fields": ["text"]}
    ranked = ThreadstoreLongTermStore(stores[True], index=index)
    for key in ("b", "a"):
        await ranked.aput(("edge",), key, {"text": key})
        clock.advance(1)
    hits = await ranked.asearch(("edge",), query="q", limit=1)
    assert [(hit.key, hit.score) for hit in hits] == [("b", cosine(vectors["q"], vectors["b"]))]


async def test_ties_keep_the_fallbacks_newest_first_order(
    stores: dict[bool, SQLAlchemyStore], clock: FakeClock
) -> None:
    """A zero vector (scored 0.0 in Python, not by sqlite-vec) ties an orthogonal one."""
    vectors = {"q": [1.0, 0.0], "zero": [0.0, 0.0], "side": [0.0, 1.0], "near": [1.0, 1.0]}
    index: Any = {"embed": lookup(vectors), "fields": ["text"]}
    ranked = ThreadstoreLongTermStore(stores[True], index=index)
    fallback = ThreadstoreLongTermStore(stores[False], index=index)
    for key in ("zero", "near", "side", "near2"):  # oldest first
        await ranked.aput(("ties",), key, {"text": key.rstrip("2")})
        clock.advance(1)
    got = [(h.key, h.score) for h in await ranked.asearch(("ties",), query="q")]
    assert got == [(h.key, h.score) for h in await fallback.asearch(("ties",), query="q")]
    assert [key for key, _ in got] == ["near2", "near", "side", "zero"]


def test_tolerance_bounds_sqlite_vec_float32_cosine() -> None:
    import sqlite_vec
    from pysqlite3 import dbapi2

    conn = dbapi2.connect(":memory:")
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    rng = random.Random(14)
    for dims in (2, 64, 1536):
        for _ in range(50):
            a = [rng.gauss(0, 1) for _ in range(dims)]
            near = rng.random() < 0.5
            b = [x + rng.gauss(0, 1e-3) if near else rng.gauss(0, 1) for x in a]
            (distance,) = conn.execute(
                "SELECT vec_distance_cosine(?, ?)", (str(a), str(b))
            ).fetchone()
            assert abs((1 - distance) - cosine(a, b)) <= tolerance(dims)
    conn.close()


# -- the differential test: SQL ranking equals the Python fallback ------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pool=pool_vectors, odd=odd_vectors, written=items, asked=searches, query=pool_vectors)
async def test_sql_ranking_equals_the_fallback(
    stores: dict[bool, SQLAlchemyStore],
    clock: FakeClock,
    pool: list[list[float]],
    odd: list[float],
    written: list[Any],
    asked: list[Any],
    query: list[list[float]],
) -> None:
    await same_pages(
        lambda index: ThreadstoreLongTermStore(stores[True], index=index),
        lambda index: ThreadstoreLongTermStore(stores[False], index=index),
        clock,
        (pool, odd, written, asked, query),
        shared=True,
    )


async def test_non_finite_embeddings_are_refused(stores: dict[bool, SQLAlchemyStore]) -> None:
    vectors = {"nan": [math.nan, 1.0], "inf": [math.inf, 1.0]}
    index: Any = {"embed": lookup(vectors), "dims": 2, "fields": ["text"]}
    lt = ThreadstoreLongTermStore(stores[True], index=index)
    for text in vectors:
        with pytest.raises(ValidationError, match="NaN or infinity"):
            await lt.aput(("bad",), text, {"text": text})
    assert await lt.asearch(("bad",)) == []  # nothing was written
