"""SQLite group commit: queued one-call writers share a commit, yet each call stands alone.

Every test runs on a real SQLite file. Commits are counted with a SQLAlchemy
``commit`` event on the store's engine; durability at return is checked from a
separate ``sqlite3`` connection, which sees only committed data.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import make_url

from threadstore import (
    DuplicateRecordError,
    SQLAlchemyStore,
    ThreadNotFoundError,
    ValidationError,
)
from threadstore.sqlite_vector import sqlite_driver


@pytest.fixture
async def store(sqlite_url: str) -> Any:
    instance = SQLAlchemyStore(sqlite_url)
    await instance.initialize()
    yield instance
    await instance.close()


async def _count_commits(store: SQLAlchemyStore) -> list[int]:
    """COMMITs SQLite runs from now on, whichever path sent them (SQLAlchemy or the driver)."""
    commits = [0]

    def on_statement(sql: str) -> None:
        if sql.lstrip().upper().startswith("COMMIT"):
            commits[0] += 1

    @event.listens_for(store.engine.sync_engine, "connect")  # not a statement listener
    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(on_statement)

    await store.engine.dispose()  # every connection from now on is traced
    return commits


def _committed_contents(sqlite_url: str, thread_id: str) -> list[str]:
    path = make_url(sqlite_url).database
    assert path is not None
    with sqlite_driver().connect(path) as raw:  # the store's SQLite library
        rows = raw.execute(
            "SELECT content FROM threadstore_messages WHERE thread_id = ? ORDER BY seq",
            (thread_id,),
        ).fetchall()
    return [row[0] for row in rows]


async def test_queued_writers_share_commits(store: SQLAlchemyStore) -> None:
    await store.create_thread("t", "u", "a")
    commits = await _count_commits(store)
    await asyncio.gather(*(store.add_message("t", "user", f"m{i}") for i in range(40)))
    messages = await store.get_messages("t", limit=100)
    assert sorted(m["content"] for m in messages) == sorted(f"m{i}" for i in range(40))
    assert [m["seq"] for m in messages] == list(range(40))
    assert 1 <= commits[0] < 40


async def test_a_lone_writer_commits_each_call(store: SQLAlchemyStore) -> None:
    await store.create_thread("t", "u", "a")
    commits = await _count_commits(store)
    for i in range(5):
        await store.add_message("t", "user", f"m{i}")
    assert commits[0] == 5


async def test_a_failing_call_rolls_back_alone(store: SQLAlchemyStore) -> None:
    await store.create_thread("t", "u", "a")
    await store.create_thread("taken", "u", "a")
    calls = [
        store.add_message("missing", "user", "first call fails"),
        *(store.add_message("t", "user", f"m{i}") for i in range(10)),
        store.create_thread("taken", "u", "a"),
        *(store.add_message("t", "user", f"n{i}") for i in range(10)),
        store.add_messages("t", [{"role": "user", "content": "ok"}, {"role": "", "content": "x"}]),
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[0], ThreadNotFoundError)
    assert isinstance(results[11], DuplicateRecordError)
    assert isinstance(results[-1], ValidationError)
    good = [r for i, r in enumerate(results) if i not in (0, 11, len(results) - 1)]
    assert not any(isinstance(r, BaseException) for r in good)
    contents = [m["content"] for m in await store.get_messages("t", limit=100)]
    assert sorted(contents) == sorted([f"m{i}" for i in range(10)] + [f"n{i}" for i in range(10)])
    assert (await store.get_thread("t"))["message_count"] == 20  # type: ignore[index]


async def test_a_failing_call_inside_a_group_keeps_the_others(store: SQLAlchemyStore) -> None:
    """A call that fails after others joined the group rolls back to its own savepoint."""
    await store.create_thread("t", "u", "a")
    await store.add_message("t", "user", "keyed", idempotency_key="k")
    calls = [
        *(store.add_message("t", "user", f"m{i}") for i in range(5)),
        store.add_message("t", "user", "other content", idempotency_key="k"),
        *(store.add_message("t", "user", f"n{i}") for i in range(5)),
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[5], DuplicateRecordError)
    assert sum(isinstance(r, BaseException) for r in results) == 1
    messages = await store.get_messages("t", limit=100)
    assert [m["seq"] for m in messages] == list(range(11))


_CALLS = st.lists(st.sampled_from(["add", "checkpoint", "missing", "duplicate", "invalid"]))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kinds=_CALLS.filter(lambda kinds: len(kinds) <= 30))
def test_concurrent_calls_keep_exactly_the_good_ones(
    sqlite_template: Path, tmp_path: Path, kinds: list[str]
) -> None:
    """Any mix of good and failing concurrent writes: each good one stored once, no bad one.

    The calls queue on one loop, so they share commits; each failure must roll
    back its own savepoint only, whichever place in the group it takes.
    """
    path = tmp_path / f"{next(_EXAMPLES)}.db"
    shutil.copyfile(sqlite_template, path)

    async def run() -> None:
        store = SQLAlchemyStore(f"sqlite+aiosqlite:///{path}")
        try:
            await store.create_thread("t", "u", "a")
            await store.add_message("t", "user", "keyed", idempotency_key="k")
            calls = []
            for n, kind in enumerate(kinds):
                if kind == "add":
                    calls.append(store.add_message("t", "user", f"m{n}"))
                elif kind == "checkpoint":
                    calls.append(store.save_checkpoint("t", "", f"c{n:03d}", None, {"n": n}, {}))
                elif kind == "missing":
                    calls.append(store.add_message("gone", "user", f"m{n}"))
                elif kind == "duplicate":  # a batch reusing a stored key for other content
                    batch = [{"role": "user", "content": f"m{n}"}]
                    batch.append({"role": "user", "content": "other", "idempotency_key": "k"})
                    calls.append(store.add_messages("t", batch))
                else:
                    calls.append(store.add_messages("t", [{"role": "", "content": f"m{n}"}]))
            results = await asyncio.gather(*calls, return_exceptions=True)
            failed = [isinstance(r, BaseException) for r in results]
            assert failed == [kind not in ("add", "checkpoint") for kind in kinds]
            contents = [m["content"] for m in await store.get_messages("t", limit=1_000)]
            added = [f"m{n}" for n, kind in enumerate(kinds) if kind == "add"]
            assert sorted(contents[1:]) == sorted(added)
            saved = [c["checkpoint_id"] for c in await store.list_checkpoints("t", "")]
            assert sorted(saved) == [f"c{n:03d}" for n, k in enumerate(kinds) if k == "checkpoint"]
            assert (await store.get_thread("t"))["message_count"] == 1 + len(added)  # type: ignore[index]
        finally:
            await store.close()

    asyncio.run(run())


_EXAMPLES = itertools.count()


async def test_every_call_returns_after_its_commit(store: SQLAlchemyStore, sqlite_url: str) -> None:
    await store.create_thread("t", "u", "a")
    seen_at_return: list[bool] = []

    async def write(i: int) -> None:
        await store.add_message("t", "user", f"m{i}")
        seen_at_return.append(f"m{i}" in _committed_contents(sqlite_url, "t"))

    await asyncio.gather(*(write(i) for i in range(20)))
    assert seen_at_return == [True] * 20


async def test_a_cancelled_queued_writer_does_not_stall_the_group(store: SQLAlchemyStore) -> None:
    await store.create_thread("t", "u", "a")
    tasks = [asyncio.create_task(store.add_message("t", "user", f"m{i}")) for i in range(10)]
    await asyncio.sleep(0)
    tasks[-1].cancel()  # the last in the queue: the one expected to commit for the others
    _, pending = await asyncio.wait(tasks, timeout=60)
    assert not pending, "writers still waiting for a commit nobody will make"
    stored = {m["content"] for m in await store.get_messages("t", limit=100)}
    assert {f"m{i}" for i in range(9)} <= stored
    assert len(stored) in (9, 10)


@pytest.mark.parametrize("last_fails", [False, True], ids=["last-writes", "last-fails"])
async def test_a_cancelled_committer_neither_strands_nor_misinforms_its_group(
    store: SQLAlchemyStore, sqlite_url: str, last_fails: bool
) -> None:
    """The last writer of a queue, the one to commit for all, is cancelled at each point in turn.

    The points are counted in event-loop steps from its first statement, so
    they fall on its write, its savepoint and the commit. Whatever it was
    doing, every other call ends, and one that returns has its message
    committed.
    """
    await store.create_thread("t", "u", "a")
    await store.add_message("t", "user", "keyed", idempotency_key="last-key")
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def spot(_conn: Any, _cursor: Any, _sql: str, parameters: Any, *_rest: Any) -> None:
        if "last" in repr(parameters):  # the last call's content or key; on a worker thread
            loop.call_soon_threadsafe(started.set)

    for point in range(30):
        thread_id = f"t{point}"
        await store.create_thread(thread_id, "u", "a")
        started.clear()
        writes = [store.add_message(thread_id, "user", f"m{i}") for i in range(5)]
        last = (
            store.add_message("t", "user", "other", idempotency_key="last-key")
            if last_fails
            else store.add_message(thread_id, "user", "last")
        )
        tasks = [asyncio.create_task(call) for call in [*writes, last]]
        await asyncio.wait_for(started.wait(), 30)
        for _ in range(point):
            await asyncio.sleep(0)
        tasks[-1].cancel()
        _, pending = await asyncio.wait(tasks, timeout=30)
        assert not pending, f"cancelled at point {point}: calls wait for a commit nobody runs"
        committed = _committed_contents(sqlite_url, thread_id)
        for i, task in enumerate(tasks[:5]):
            if not task.cancelled() and task.exception() is None:
                assert f"m{i}" in committed, f"cancelled at point {point}: m{i} returned unstored"
    await store.add_message("t", "user", "after")  # the store is still usable
    assert "after" in _committed_contents(sqlite_url, "t")


async def test_transaction_blocks_wait_for_the_group(store: SQLAlchemyStore) -> None:
    await store.create_thread("t", "u", "a")

    async def block() -> None:
        async with store.transaction() as tx:
            await tx.add_message("t", "user", "in block 1")
            await tx.add_message("t", "user", "in block 2")

    await asyncio.gather(
        *(store.add_message("t", "user", f"m{i}") for i in range(5)),
        block(),
        *(store.add_message("t", "user", f"n{i}") for i in range(5)),
    )
    messages = await store.get_messages("t", limit=100)
    contents = [m["content"] for m in messages]
    assert len(contents) == 12
    assert [m["seq"] for m in messages] == list(range(12))
    first = contents.index("in block 1")
    assert contents[first + 1] == "in block 2"


async def test_group_commit_can_be_turned_off(sqlite_url: str) -> None:
    store = SQLAlchemyStore(sqlite_url, group_commit=False)
    await store.initialize()
    try:
        await store.create_thread("t", "u", "a")
        commits = await _count_commits(store)
        await asyncio.gather(*(store.add_message("t", "user", f"m{i}") for i in range(10)))
        assert commits[0] == 10
    finally:
        await store.close()


async def test_sixty_tasks_share_a_two_connection_pool(db_url: str) -> None:
    """Callers queue in front of the pool (see tests/unit/test_locks.py for the order)."""
    store = SQLAlchemyStore(db_url, pool_size=1, max_overflow=1, pool_timeout=60)
    await store.initialize()
    try:
        await store.create_thread("t", "u", "a")
        order: list[int] = []

        async def read(i: int) -> None:
            await store.get_thread("t")
            order.append(i)

        await asyncio.gather(*(read(i) for i in range(60)))
        assert sorted(order) == list(range(60))
    finally:
        await store.close()


def test_event_loops_that_wrote_together_are_not_kept_alive(sqlite_url: str) -> None:
    """The writers' turn of each loop, and an idle worker thread, hold no loop once it is done."""
    home = asyncio.new_event_loop()
    store = SQLAlchemyStore(sqlite_url)
    home.run_until_complete(store.initialize())
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []
    try:
        for n in range(4):
            loop = asyncio.new_event_loop()
            writes = (store.create_thread(f"t-{n}-{i}", "u", "a") for i in range(6))
            loop.run_until_complete(_gather(writes))  # queued writers: the turn was waited on
            loops.append(weakref.ref(loop))
            loop.close()
            del loop
        gc.collect()
        assert [ref() for ref in loops] == [None] * 4
        threads = home.run_until_complete(store.list_threads(limit=100))
        assert len(threads) == 24
    finally:
        home.run_until_complete(store.close())
        home.close()


async def _gather(writes: Any) -> None:
    await asyncio.gather(*writes)
