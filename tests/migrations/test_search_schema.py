"""Revision 0008: the search index's objects, its language setting and the FTS5 requirement."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from tests.migrations.support import on_connection
from threadstore import MigrationError, SQLAlchemyStore
from threadstore.migrations import downgrade, upgrade
from threadstore.search_schema import (
    SEARCH_LANGUAGE_ENV_VAR,
    require_sqlite_module,
    search_language,
)


def _search_objects(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE name LIKE 'threadstore_search_%'"
    else:
        query = (
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_threadstore_%_search'"
            " UNION ALL SELECT proname FROM pg_proc WHERE proname = 'threadstore_search_config'"
        )
    return {str(name) for name in conn.execute(text(query)).scalars()}


async def test_upgrade_adds_and_downgrade_drops_the_search_objects(empty_url: str) -> None:
    await upgrade(empty_url, "0006")
    assert await on_connection(empty_url, _search_objects) == set()
    await upgrade(empty_url, "0008")
    made = await on_connection(empty_url, _search_objects)
    if empty_url.startswith("sqlite"):
        tables = {"threadstore_search_messages", "threadstore_search_threads"}
        assert {*tables, "threadstore_search_thread_rows"} <= made
        for table in tables:
            assert {f"{table}_insert", f"{table}_delete", f"{table}_update"} <= made
    else:
        assert made == {
            "ix_threadstore_messages_search",
            "ix_threadstore_threads_search",
            "threadstore_search_config",
        }
    await downgrade(empty_url, "0006")
    assert await on_connection(empty_url, _search_objects) == set()


def test_a_sqlite_without_the_module_is_refused_with_advice() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        require_sqlite_module(conn, "fts5")  # this build has it: no error, no table left
        assert conn.exec_driver_sql("SELECT count(*) FROM temp.sqlite_master").scalar() == 0
        with pytest.raises(MigrationError) as caught:
            require_sqlite_module(conn, "fts_nonexistent")  # a module no build has
    assert "FTS_NONEXISTENT" in str(caught.value)
    assert "python" in caught.value.suggestion.lower()
    assert sqlite3.connect(":memory:").execute("SELECT 1").fetchone() == (1,)


def test_the_language_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SEARCH_LANGUAGE_ENV_VAR, raising=False)
    assert search_language(None) == "simple"
    assert search_language("english") == "english"
    monkeypatch.setenv(SEARCH_LANGUAGE_ENV_VAR, "pg_catalog.german")
    assert search_language(None) == "pg_catalog.german"
    for bad in ["simple; DROP TABLE x", "'simple'", "a b"]:
        with pytest.raises(MigrationError) as caught:
            search_language(bad)
        assert "pg_ts_config" in caught.value.suggestion


async def test_an_unknown_language_is_refused_by_postgresql(
    empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SEARCH_LANGUAGE_ENV_VAR, "klingon")
    with pytest.raises(MigrationError, match="klingon"):
        await upgrade(empty_postgres_url)


async def test_a_configured_language_stems_words(
    empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SEARCH_LANGUAGE_ENV_VAR, "english")
    await upgrade(empty_postgres_url)
    async with SQLAlchemyStore(empty_postgres_url) as store:
        await store.create_thread("t", "u", "bot")
        await store.add_message("t", "user", "She runs to the stations daily")
        hits = (await store.search_messages("running station"))["items"]
        assert [hit["seq"] for hit in hits] == [0]
        assert "[runs]" in hits[0]["snippet"]
