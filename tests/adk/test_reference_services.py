"""Where ADK's own services accept a stale session and ours refuses it.

ADK's ``DatabaseSessionService`` marks a session's revision by its update
time, and sets that time to the appended event's timestamp; when two
revisions carry the same timestamp (events stamped in the same microsecond,
or by a caller, adk-python#3717) a copy read before the other append passes
the check and writes over what it never saw. ``InMemorySessionService``
does not check at all. ``ThreadstoreSessionService`` compares the thread's
version, so the same sequence raises ``StaleSessionError`` on every backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("google.adk.sessions")

from google.adk.errors._stale_session_error import StaleSessionError
from google.adk.platform import time as platform_time
from google.adk.sessions.base_session_service import BaseSessionService
from google.adk.sessions.database_session_service import DatabaseSessionService
from google.adk.sessions.in_memory_session_service import InMemorySessionService

from tests.adk.helpers import event, texts
from threadstore import BaseStore
from threadstore.adk import ThreadstoreSessionService

WHEN = 1_767_225_600.25
"""ADK's clock during the sequence: a time that converts to a datetime and back exactly."""


async def _stale_write(service: BaseSessionService) -> list[str | None]:
    """Append through a copy read before another append with the same timestamp."""
    platform_time.set_time_provider(lambda: WHEN)
    try:
        return await _stale_sequence(service)
    finally:
        platform_time.reset_time_provider()


async def _stale_sequence(service: BaseSessionService) -> list[str | None]:
    session = await service.create_session(app_name="app", user_id="u", session_id="s")
    stale = await service.get_session(app_name="app", user_id="u", session_id="s")
    assert stale is not None
    when = WHEN
    await service.append_event(session, event("seen by nobody else", timestamp=when))
    await service.append_event(stale, event("written blind", timestamp=when, delta={"k": 1}))
    stored = await service.get_session(app_name="app", user_id="u", session_id="s")
    assert stored is not None
    return sorted(str(t) for t in texts(stored.events))


BOTH = ["seen by nobody else", "written blind"]
"""Both appends stored (ADK's services order the tied events by their random ids)."""


@pytest.fixture(params=["database-sqlite", "in-memory"])
async def reference(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BaseSessionService]:
    if request.param == "in-memory":
        yield InMemorySessionService()
        return
    service = DatabaseSessionService(f"sqlite+aiosqlite:///{tmp_path / 'adk.db'}")
    yield service
    await service.close()


async def test_adk_reference_services_accept_a_stale_session(
    reference: BaseSessionService,
) -> None:
    assert await _stale_write(reference) == BOTH


async def test_adk_database_service_on_postgresql(postgres_url_fresh: str) -> None:
    service = DatabaseSessionService(postgres_url_fresh)  # its own tables, in a fresh database
    try:
        assert await _stale_write(service) == BOTH
    finally:
        await service.close()


async def test_threadstore_refuses_the_same_stale_session(store: BaseStore) -> None:
    service = ThreadstoreSessionService(store)
    with pytest.raises(StaleSessionError):
        await _stale_write(service)
    stored = await service.get_session(app_name="app", user_id="u", session_id="s")
    assert stored is not None
    assert texts(stored.events) == ["seen by nobody else"]  # the blind write was refused
    assert stored.state == {}
