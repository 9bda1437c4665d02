"""Online SQLite backup while writers run; PostgreSQL URLs are refused with advice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from threadstore import SQLAlchemyStore, ValidationError
from threadstore.errors import DatabaseFileError
from threadstore.transfer import backup_database


async def test_backup_during_concurrent_writes_is_consistent(
    sqlite_url: str, tmp_path: Path
) -> None:
    threads = [f"t{i}" for i in range(4)]
    async with SQLAlchemyStore(sqlite_url) as store:
        for thread_id in threads:
            await store.create_thread(thread_id, "u", "a")
            await store.add_messages(thread_id, [{"role": "user", "content": "x"}] * 50)
        stop = asyncio.Event()
        written = 0

        async def writer(thread_id: str) -> None:
            nonlocal written
            while not stop.is_set():
                await store.add_messages(thread_id, [{"role": "user", "content": "y"}] * 5)
                written += 1

        tasks = [asyncio.create_task(writer(t)) for t in threads]
        await asyncio.sleep(0)  # the writers are running before the backup starts
        copies = []
        for n in range(3):
            copies.append((await backup_database(sqlite_url, tmp_path / f"b{n}.db")).path)
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*tasks)
        assert written > 0
    for copy in copies:
        async with SQLAlchemyStore(f"sqlite+aiosqlite:///{copy}", auto_migrate=False) as backup:
            for thread_id in threads:
                thread = await backup.get_thread(thread_id)
                assert thread is not None
                messages = await backup.get_messages(thread_id, limit=100_000)
                assert thread["message_count"] == len(messages)
                assert len(messages) >= 50
                assert [m["seq"] for m in messages] == list(range(len(messages)))


async def test_backup_refuses_postgres_with_advice(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="copies SQLite files") as caught:
        await backup_database("postgresql+asyncpg://u:secret@localhost/db", tmp_path / "b.db")
    assert "pg_dump" in caught.value.suggestion
    assert "threadstore export" in caught.value.suggestion
    assert "secret" not in str(caught.value)


async def test_backup_refuses_existing_file_and_missing_source(
    sqlite_url: str, tmp_path: Path
) -> None:
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"keep")
    with pytest.raises(ValidationError, match="already exists"):
        await backup_database(sqlite_url, existing)
    assert existing.read_bytes() == b"keep"
    with pytest.raises(DatabaseFileError, match="does not exist"):
        await backup_database(f"sqlite+aiosqlite:///{tmp_path}/missing.db", tmp_path / "b.db")
    assert not (tmp_path / "missing.db").exists()
