"""Export, import and copy move messages, never the search index, and the target finds them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import FakeClock
from tests.transfer.support import populate
from threadstore import SQLAlchemyStore
from threadstore.transfer import copy_database, export_database, import_database

NewDB = Callable[[], str]


async def _found(url: str) -> dict[str, list[tuple[str, int]]]:
    async with SQLAlchemyStore(url) as store:
        return {
            word: [(h["thread_id"], h["seq"]) for h in (await store.search_messages(word))["items"]]
            for word in ("bob", "forked", "more", "hello")
        }


_EXPECTED = {
    "bob": [("t2", 0)],
    "forked": [("a-fork", 2)],
    "hello": [("t1", 0), ("a-fork", 0)],
}


def _check(found: dict[str, list[tuple[str, int]]]) -> None:
    assert found["bob"] == _EXPECTED["bob"]
    assert found["forked"] == _EXPECTED["forked"]
    assert sorted(found["hello"]) == sorted(_EXPECTED["hello"])
    assert sorted(found["more"]) == [("t1", 2)]


async def test_an_import_is_searchable_and_the_export_holds_no_index(
    db_url: str, other_db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(db_url, clock)
    _check(await _found(db_url))
    path = tmp_path / "export.jsonl"
    summary = await export_database(db_url, path)
    assert not any("search" in table for table in summary.rows)
    assert "threadstore_search_" not in path.read_text()
    await import_database(other_db_url, path)
    _check(await _found(other_db_url))


async def test_a_copy_both_ways_is_searchable(
    sqlite_url: str, postgres_url_fresh: str, new_sqlite: NewDB, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(sqlite_url, clock)
    state = tmp_path / "state.json"
    copied = await copy_database(sqlite_url, postgres_url_fresh, batch_size=2, state_file=state)
    assert not any("search" in table for table in copied.rows)
    _check(await _found(postgres_url_fresh))
    back = new_sqlite()
    await copy_database(postgres_url_fresh, back, batch_size=3, state_file=state)
    _check(await _found(back))
