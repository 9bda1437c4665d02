"""Concurrent appends and stale sessions, on memory, SQLite and PostgreSQL.

Staleness is a compare-and-set on the thread's version: it holds when every
timestamp involved is equal (the test clock is frozen, and the events below
share one timestamp), the case adk-python#3717 is about.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("google.adk.sessions")

from google.adk.errors._stale_session_error import StaleSessionError
from google.adk.sessions.session import Session

from tests.adk.helpers import event, texts
from tests.conftest import StoreFactory
from threadstore import BaseStore
from threadstore.adk import ThreadstoreSessionService
from threadstore.adk.mapping import thread_id

APPENDS = 20


@pytest.fixture
def service(store: BaseStore) -> ThreadstoreSessionService:
    return ThreadstoreSessionService(store)


async def _reload(service: ThreadstoreSessionService, session: Session) -> Session:
    got = await service.get_session(
        app_name=session.app_name, user_id=session.user_id, session_id=session.id
    )
    assert got is not None
    return got


async def _check_gap_free(store: BaseStore, session: Session, count: int) -> None:
    tid = thread_id(session.app_name, session.user_id, session.id)
    messages = await store.get_messages(tid, limit=1000)
    assert [m["seq"] for m in messages] == list(range(count))
    thread = await store.get_thread(tid)
    assert thread is not None
    assert thread["message_count"] == count


async def test_concurrent_appends_through_one_session_lose_nothing(
    store: BaseStore, service: ThreadstoreSessionService
) -> None:
    """As ADK's parallel agents do: one session object, appends from many tasks."""
    session = await service.create_session(app_name="app", user_id="u")
    await asyncio.gather(
        *(
            service.append_event(session, event(f"e{i}", delta={f"k{i}": i, "user:n": i}))
            for i in range(APPENDS)
        )
    )
    stored = await _reload(service, session)
    assert sorted(texts(stored.events), key=lambda t: int(str(t)[1:])) == [
        f"e{i}" for i in range(APPENDS)
    ]
    assert stored.events == session.events  # same order in memory and in storage
    assert {k: v for k, v in stored.state.items() if k.startswith("k")} == {
        f"k{i}": i for i in range(APPENDS)
    }
    await _check_gap_free(store, session, APPENDS)
    await service.append_event(session, event("after"))  # the object is still current


async def test_racing_stale_copies_write_once_and_the_rest_are_refused(
    store: BaseStore, service: ThreadstoreSessionService
) -> None:
    session = await service.create_session(app_name="app", user_id="u", session_id="s")
    copies = [await _reload(service, session) for _ in range(APPENDS)]
    results = await asyncio.gather(
        *(service.append_event(c, event(f"e{i}", delta={"who": i})) for i, c in enumerate(copies)),
        return_exceptions=True,
    )
    won = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
    assert len(won) == 1
    assert all(isinstance(r, StaleSessionError) for r in results if isinstance(r, BaseException))
    stored = await _reload(service, session)
    assert texts(stored.events) == [f"e{won[0]}"]
    assert stored.state == {"who": won[0]}  # a refused append wrote nothing


async def test_writers_that_reload_on_stale_lose_no_event(
    store_factory: StoreFactory, backend: str
) -> None:
    """Two services on two stores (as two processes would be), retrying on StaleSessionError.

    A MemoryStore lives in one process, so there both services share one store.
    """
    first = store_factory()
    second = first if backend == "memory" else store_factory()
    await first.initialize()
    await second.initialize()
    try:
        services = [ThreadstoreSessionService(first), ThreadstoreSessionService(second)]
        session = await services[0].create_session(app_name="app", user_id="u", session_id="s")
        conflicts = 0

        async def write(n: int) -> None:
            nonlocal conflicts
            service = services[n % 2]
            while True:
                current = await _reload(service, session)
                try:
                    await service.append_event(current, event(f"e{n}"))
                    return
                except StaleSessionError:
                    conflicts += 1

        await asyncio.gather(*(write(n) for n in range(APPENDS)))
        stored = await _reload(services[0], session)
        assert sorted(texts(stored.events)) == sorted(f"e{n}" for n in range(APPENDS))
        await _check_gap_free(first, session, APPENDS)
    finally:
        await first.close()
        if second is not first:
            await second.close()


async def test_stale_copy_is_refused_although_every_timestamp_is_equal(
    service: ThreadstoreSessionService,
) -> None:
    session = await service.create_session(app_name="app", user_id="u", session_id="s")
    stale = await _reload(service, session)
    when = session.last_update_time
    await service.append_event(session, event("first", timestamp=when))
    assert session.last_update_time == stale.last_update_time  # the clock is frozen
    with pytest.raises(StaleSessionError):
        await service.append_event(stale, event("lost?", timestamp=when, delta={"x": 1}))
    stored = await _reload(service, session)
    assert texts(stored.events) == ["first"]
    assert "x" not in stored.state
    fresh = await _reload(service, session)
    await service.append_event(fresh, event("second", timestamp=when))
    assert texts((await _reload(service, session)).events) == ["first", "second"]


async def test_a_deleted_and_recreated_session_makes_old_copies_stale(
    service: ThreadstoreSessionService,
) -> None:
    old = await service.create_session(app_name="app", user_id="u", session_id="s")
    await service.append_event(old, event("one"))
    await service.delete_session(app_name="app", user_id="u", session_id="s")
    new = await service.create_session(app_name="app", user_id="u", session_id="s")
    await service.append_event(new, event("two"))
    with pytest.raises(StaleSessionError):
        await service.append_event(old, event("from the old copy"))
