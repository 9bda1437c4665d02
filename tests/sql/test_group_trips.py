"""A commit group's queued trips: the turn passes on before a write lands; calls stand alone.

Real SQLite files; statements are seen through sqlite3's trace callback, so
whichever path sent them (SQLAlchemy or the driver) is counted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from threadstore import SQLAlchemyStore, TransactionAbortedError


@pytest.fixture
async def store(sqlite_url: str) -> Any:
    instance = SQLAlchemyStore(sqlite_url)
    await instance.initialize()
    yield instance
    await instance.close()


async def _trace(store: SQLAlchemyStore) -> list[str]:
    statements: list[str] = []

    @event.listens_for(store.engine.sync_engine, "connect")  # not a statement listener
    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    await store.engine.dispose()
    return statements


async def test_queued_writes_share_one_commit_in_savepoints_of_their_own(
    store: SQLAlchemyStore,
) -> None:
    await store.create_thread("t", "u", "a")
    statements = await _trace(store)
    records = await asyncio.gather(*(store.add_message("t", "user", f"m{i}") for i in range(20)))
    assert sorted(r["seq"] for r in records) == list(range(20))
    queued = [s for s in statements if s.startswith("SAVEPOINT threadstore_call_")]
    commits = [s for s in statements if s.upper().startswith("COMMIT")]
    assert len(queued) >= 15  # all but the lone first writer and any that found no group
    assert len(commits) <= 3
    stored = [m["content"] for m in await store.get_messages("t", limit=100)]
    assert sorted(stored) == sorted(f"m{i}" for i in range(20))


async def test_a_failing_queued_write_rolls_back_alone(store: SQLAlchemyStore) -> None:
    await store.create_thread("t0", "u", "a")
    calls = [store.create_thread(f"t{i}", "u", "a") for i in range(10)]  # t0 exists
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == [
        "DuplicateRecordError"
    ]
    assert {t["id"] for t in await store.list_threads(limit=50)} == {f"t{i}" for i in range(10)}


async def test_a_call_failing_after_its_queued_write_takes_its_group_down(
    store: SQLAlchemyStore,
) -> None:
    """Its rows are in the shared transaction already: nothing of the group may commit."""

    async def save(i: int) -> None:
        async with store.unit(write=True) as unit:
            await unit.checkpoints.save("t", "", f"c{i:02d}", None, {"i": i}, {})
            if i == 5:
                raise ValueError("the call fails after its write")

    results = await asyncio.gather(*(save(i) for i in range(12)), return_exceptions=True)
    assert isinstance(results[5], ValueError)
    stored = {c["checkpoint_id"] for c in await store.list_checkpoints("t", "", limit=100)}
    assert "c05" not in stored
    for i, result in enumerate(results):
        if result is None:
            assert f"c{i:02d}" in stored  # what returned is stored
        else:
            assert f"c{i:02d}" not in stored  # what raised is not
            assert i == 5 or isinstance(result, TransactionAbortedError)
    assert any(isinstance(r, TransactionAbortedError) for r in results)
