"""Export -> import -> export: every row survives, the files are identical byte for byte."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.transfer.support import dump_rows, populate
from threadstore import MigrationError, SQLAlchemyStore, ValidationError
from threadstore.errors import DatabaseFileError, RecordNotFoundError
from threadstore.transfer import copy_database, export_database, import_database

pytest.importorskip("langgraph.checkpoint.base")

NewDB = Callable[[], str]


@pytest.mark.parametrize("name", ["dump.jsonl", "dump.jsonl.gz"])
async def test_round_trip_is_exact(
    db_url: str, other_db_url: str, clock: FakeClock, tmp_path: Path, name: str
) -> None:
    await populate(db_url, clock)
    first, second = tmp_path / f"1-{name}", tmp_path / f"2-{name}"
    summary = await export_database(db_url, first)
    assert summary.rows["threadstore_messages"] == 7
    assert summary.rows["threadstore_invocation_logs"] == 3
    assert summary.rows["threadstore_tool_calls"] == 2
    assert summary.rows["threadstore_log_analyses"] == 1
    assert summary.rows["threadstore_optimization_runs"] == 1
    target = other_db_url
    imported = await import_database(target, first)
    assert imported.inserted == summary.rows
    await export_database(target, second)
    assert first.read_bytes() == second.read_bytes()
    assert await dump_rows(target) == await dump_rows(db_url)
    if name.endswith(".gz"):
        assert gzip.decompress(first.read_bytes()).startswith(b'{"format":"threadstore-export"')


async def test_imported_data_reads_back_through_the_store(
    sqlite_url: str, postgres_url_fresh: str, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(sqlite_url, clock)
    path = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, path)
    await import_database(postgres_url_fresh, path)
    assert await dump_rows(postgres_url_fresh) == await dump_rows(sqlite_url)
    async with SQLAlchemyStore(sqlite_url) as source, SQLAlchemyStore(postgres_url_fresh) as target:
        for thread_id in ("t1", "t2", "a-fork"):
            assert await target.get_thread(thread_id) == await source.get_thread(thread_id)
            assert await target.get_messages(thread_id) == await source.get_messages(thread_id)
        assert (await target.get_thread("a-fork") or {})["parent_thread_id"] == "t1"
        assert await target.get_feedback(thread_id="t1") == await source.get_feedback(
            thread_id="t1"
        )
        assert await target.get_suspended_state("ap1") == await source.get_suspended_state("ap1")
        for user in (None, "alice", "bob"):
            assert await target.get_all_context_items(
                user_id=user, agent_name="reader"
            ) == await source.get_all_context_items(user_id=user, agent_name="reader")
            assert await target.get_agent_permissions("poster", user_id=user) == ["news"]
        assert await target.list_invocation_logs() == await source.list_invocation_logs()
        assert await target.query_tool_calls() == await source.query_tool_calls()
        assert await target.list_log_analyses() == await source.list_log_analyses()
        assert await target.list_optimization_runs() == await source.list_optimization_runs()
        assert await target.aggregate_stats(bucket="hour") == await source.aggregate_stats(
            bucket="hour"
        )
        # new writes get fresh ids after the copied ones
        added = await target.add_message("t2", "user", "new")
        assert added["id"] > max(m["id"] for m in await source.get_messages("t1"))


async def test_export_of_one_user(db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    await populate(db_url, clock)
    path = tmp_path / "alice.jsonl"
    summary = await export_database(db_url, path, user_id="alice")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["selection"] == {"thread": None, "user": "alice"}
    rows = [line for line in lines[1:-1]]
    threads = {r["row"][0] for r in rows if r["table"] == "threadstore_threads"}
    assert threads == {"t1", "a-fork"}
    scopes = {
        r["row"][0]
        for r in rows
        if r["table"].startswith(("threadstore_context", "threadstore_agent"))
    }
    assert scopes == {"alice"}
    assert summary.rows["threadstore_feedback"] == 1
    assert summary.rows["threadstore_checkpoints"] == 2  # t1's; the saver's thread has no owner
    runs = {r["row"][0] for r in rows if r["table"] == "threadstore_invocation_logs"}
    calls = {r["row"][0] for r in rows if r["table"] == "threadstore_tool_calls"}
    assert (runs, calls) == ({"run-1"}, {"call-1"})  # alice's (by t1); bob's and nobody's stay
    assert summary.rows.get("threadstore_log_analyses", 0) == 0  # per agent, not per user


async def test_a_users_export_takes_their_thread_less_runs(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(db_url, clock)
    path = tmp_path / "bob.jsonl"
    await export_database(db_url, path, user_id="bob")
    rows = [json.loads(line) for line in path.read_text().splitlines()[1:-1]]
    runs = {r["row"][0] for r in rows if r["table"] == "threadstore_invocation_logs"}
    calls = {r["row"][0] for r in rows if r["table"] == "threadstore_tool_calls"}
    assert (runs, calls) == ({"run-2"}, {"call-2"})


async def test_export_of_one_thread_into_another_database(
    db_url: str, sqlite_url: str, clock: FakeClock, tmp_path: Path, new_sqlite: NewDB
) -> None:
    await populate(db_url, clock)
    path = tmp_path / "fork.jsonl"
    await export_database(db_url, path, thread_id="a-fork")
    target = new_sqlite()
    summary = await import_database(target, path)
    assert summary.inserted["threadstore_threads"] == 1
    async with SQLAlchemyStore(target) as store:
        thread = await store.get_thread("a-fork")
        assert thread is not None
        assert thread["parent_thread_id"] is None  # the parent was not exported
        assert [m["content"] for m in await store.get_messages("a-fork")] == [
            "hello \u00e9\u4e16",
            "hi",
            "forked",
        ]


async def test_refuses_non_empty_target_unless_merge(
    sqlite_url: str, clock: FakeClock, tmp_path: Path, new_sqlite: NewDB
) -> None:
    await populate(sqlite_url, clock)
    path = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, path)
    before = await dump_rows(sqlite_url)
    with pytest.raises(ValidationError, match="already holds rows") as caught:
        await import_database(sqlite_url, path)
    assert "merge" in caught.value.suggestion
    merged = await import_database(sqlite_url, path, merge=True)
    assert merged.skipped == sum(merged.read.values())
    assert await dump_rows(sqlite_url) == before


async def test_merge_adds_missing_records(
    sqlite_url: str, clock: FakeClock, tmp_path: Path, new_sqlite: NewDB
) -> None:
    await populate(sqlite_url, clock)
    path = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, path)
    target = new_sqlite()
    async with SQLAlchemyStore(target) as store:
        await store.create_thread("t2", "bob", "helper")
    summary = await import_database(target, path, merge=True)
    assert summary.inserted["threadstore_threads"] == 2  # t1 and a-fork; t2 existed
    async with SQLAlchemyStore(target) as store:
        assert (await store.get_thread("a-fork") or {})["parent_thread_id"] == "t1"


def _rewrite_header(path: Path, **changes: object) -> None:
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header.update(changes)
    path.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))


async def test_refuses_unknown_format_version(
    sqlite_url: str, tmp_path: Path, new_sqlite: NewDB
) -> None:
    path = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, path)
    _rewrite_header(path, format_version=99)
    with pytest.raises(ValidationError, match="format version 99"):
        await import_database(new_sqlite(), path)


async def test_refuses_other_schema_revision(
    sqlite_url: str, tmp_path: Path, new_sqlite: NewDB
) -> None:
    path = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, path)
    _rewrite_header(path, schema_revision="0001")
    with pytest.raises(MigrationError, match="revision 0001") as caught:
        await import_database(new_sqlite(), path)
    assert "threadstore db upgrade" in caught.value.suggestion


async def test_truncated_file_changes_nothing(
    sqlite_url: str, clock: FakeClock, tmp_path: Path, new_sqlite: NewDB
) -> None:
    await populate(sqlite_url, clock)
    path = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-3]))
    target = new_sqlite()
    empty = await dump_rows(target)
    with pytest.raises(ValidationError, match="truncated"):
        await import_database(target, path)
    assert await dump_rows(target) == empty


async def test_not_an_export(sqlite_url: str, tmp_path: Path, new_sqlite: NewDB) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(ValidationError, match="not a threadstore export"):
        await import_database(sqlite_url, path)


async def test_a_missing_sqlite_file_is_refused_and_not_created(
    sqlite_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(DatabaseFileError, match="does not exist"):
        await export_database(f"sqlite+aiosqlite:///{missing}", tmp_path / "out.jsonl")
    with pytest.raises(DatabaseFileError, match="db upgrade"):
        await copy_database(sqlite_url, f"sqlite+aiosqlite:///{missing}")
    assert not missing.exists()
    assert not (tmp_path / "out.jsonl").exists()


async def test_exporting_an_unknown_thread_or_user_fails(sqlite_url: str, tmp_path: Path) -> None:
    out = tmp_path / "nothing.jsonl"
    with pytest.raises(RecordNotFoundError, match="thread 'nope'"):
        await export_database(sqlite_url, out, thread_id="nope")
    with pytest.raises(RecordNotFoundError, match="user 'nobody'"):
        await export_database(sqlite_url, out, user_id="nobody")
    assert not out.exists()
    assert not (tmp_path / "nothing.jsonl.partial").exists()
