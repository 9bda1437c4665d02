"""DSN-to-DSN copy: SQLite -> PostgreSQL -> SQLite, resumable, verified, fresh ids after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.transfer.support import dump_rows, populate
from threadstore import SQLAlchemyStore, ValidationError
from threadstore.transfer import copy_database, verify_databases

pytest.importorskip("langgraph.checkpoint.base")

NewDB = Callable[[], str]


async def test_sqlite_to_postgres_and_back_keeps_every_row(
    sqlite_url: str, postgres_url_fresh: str, new_sqlite: NewDB, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(sqlite_url, clock)
    original = await dump_rows(sqlite_url)
    state = tmp_path / "state.json"
    there = await copy_database(sqlite_url, postgres_url_fresh, batch_size=3, state_file=state)
    assert there.verification is not None
    assert there.verification.ok
    assert there.rows["threadstore_messages"] == 7
    assert "threadstore_messages.id" in there.sequences
    assert not state.exists()
    back = new_sqlite()
    await copy_database(postgres_url_fresh, back, batch_size=4, state_file=state)
    assert await dump_rows(postgres_url_fresh) == original
    assert await dump_rows(back) == original
    report = await verify_databases(sqlite_url, back)
    assert report.ok
    assert report.source["threadstore_checkpoint_writes"].rows == 2


async def test_new_writes_after_a_copy_get_fresh_ids(
    sqlite_url: str, postgres_url_fresh: str, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(sqlite_url, clock)
    await copy_database(sqlite_url, postgres_url_fresh, state_file=tmp_path / "s.json")
    async with SQLAlchemyStore(postgres_url_fresh) as store:
        ids = [m["id"] for t in ("t1", "t2", "a-fork") for m in await store.get_messages(t)]
        message = await store.add_message("t2", "user", "after the copy")
        feedback = await store.add_feedback("t2", "bob", "helper", rating=5)
    assert message["id"] == max(ids) + 1
    assert feedback["id"] == 3


class Boom(Exception):
    pass


async def test_an_aborted_copy_resumes_without_duplicates(
    db_url: str, new_sqlite: NewDB, clock: FakeClock, tmp_path: Path
) -> None:
    source = new_sqlite()
    await populate(source, clock)
    state = tmp_path / "state.json"

    def fail_after_third(table: str, batch: int) -> None:
        if batch == 3:
            raise Boom(table)

    with pytest.raises(Boom):
        await copy_database(
            source, db_url, batch_size=2, state_file=state, after_batch=fail_after_third
        )
    assert state.exists()
    partial = await dump_rows(db_url)
    assert 0 < sum(map(len, partial.values())) < sum(map(len, (await dump_rows(source)).values()))
    # without the state file the partly filled target is refused
    with pytest.raises(ValidationError, match="already holds rows"):
        await copy_database(source, db_url, state_file=tmp_path / "other.json")
    summary = await copy_database(source, db_url, batch_size=2, state_file=state)
    assert summary.resumed
    assert summary.verification is not None
    assert summary.verification.ok
    assert await dump_rows(db_url) == await dump_rows(source)
    assert not state.exists()


async def test_merge_skips_existing_records(
    sqlite_url: str, new_sqlite: NewDB, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(sqlite_url, clock)
    target = new_sqlite()
    async with SQLAlchemyStore(target) as store:
        await store.create_thread("t2", "bob", "other-agent")
    summary = await copy_database(sqlite_url, target, merge=True, state_file=tmp_path / "s.json")
    assert summary.verification is not None
    assert "threadstore_threads" in summary.verification.mismatched
    async with SQLAlchemyStore(target) as store:
        kept = await store.get_thread("t2")
        assert kept is not None
        assert kept["agent_name"] == "other-agent"
        assert (await store.get_thread("a-fork") or {})["parent_thread_id"] == "t1"


async def test_refuses_the_same_database(sqlite_url: str) -> None:
    with pytest.raises(ValidationError, match="same database"):
        await copy_database(sqlite_url, sqlite_url)


async def test_refuses_a_foreign_state_file(
    sqlite_url: str, new_sqlite: NewDB, tmp_path: Path
) -> None:
    state = tmp_path / "s.json"
    state.write_text('{"version": 1, "copy": {"source": "elsewhere"}}')
    with pytest.raises(ValidationError, match="belongs to another copy"):
        await copy_database(sqlite_url, new_sqlite(), state_file=state)


async def test_same_kind_copy_keeps_every_row(
    db_url: str, other_db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(db_url, clock)
    summary = await copy_database(db_url, other_db_url, batch_size=5, state_file=tmp_path / "s")
    assert summary.verification is not None
    assert summary.verification.ok
    assert await dump_rows(other_db_url) == await dump_rows(db_url)
