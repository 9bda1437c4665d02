"""ThreadstoreSessionService against ADK's session-service contract, on every backend.

ADK's own session-service tests are not shipped in its published sdist or
wheel (google-adk 2.13.0 carries no ``tests/``), so these cases restate
theirs in our words: create/get/list/delete, the state scopes, partial
events, ``GetSessionConfig``, the errors, and event round trips.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytest.importorskip("google.adk.sessions")

from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.session import Session
from google.genai import types

from tests.adk.helpers import event, texts
from threadstore import BaseStore, ValidationError
from threadstore.adk import ThreadstoreSessionService


@pytest.fixture
def service(store: BaseStore) -> ThreadstoreSessionService:
    return ThreadstoreSessionService(store)


async def _get(service: ThreadstoreSessionService, session: Session, **config: object) -> Session:
    got = await service.get_session(
        app_name=session.app_name,
        user_id=session.user_id,
        session_id=session.id,
        config=GetSessionConfig(**config) if config else None,  # type: ignore[arg-type]
    )
    assert got is not None
    return got


async def test_create_get_and_missing(service: ThreadstoreSessionService) -> None:
    created = await service.create_session(app_name="app", user_id="u", state={"k": "v"})
    assert created.id
    assert created.state == {"k": "v"}
    assert created.events == []
    got = await _get(service, created)
    assert (got.id, got.app_name, got.user_id, got.state) == (created.id, "app", "u", {"k": "v"})
    missing = (("other", "u", created.id), ("app", "x", created.id), ("app", "u", "no"))
    for app, user, sid in missing:
        assert await service.get_session(app_name=app, user_id=user, session_id=sid) is None


async def test_a_given_id_is_kept_and_a_duplicate_refused(
    service: ThreadstoreSessionService,
) -> None:
    await service.create_session(app_name="app", user_id="u", session_id="s1")
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name="app", user_id="u", session_id="s1")
    # The same id under another user or app is another session, as in ADK.
    other = await service.create_session(app_name="app", user_id="v", session_id="s1")
    again = await service.create_session(app_name="app2", user_id="u", session_id="s1")
    assert (other.id, other.user_id, again.app_name) == ("s1", "v", "app2")


async def test_list_sessions_per_user_and_for_all(service: ThreadstoreSessionService) -> None:
    for user, sid in (("u1", "a"), ("u1", "b"), ("u2", "c")):
        s = await service.create_session(app_name="app", user_id=user, session_id=sid)
        await service.append_event(s, event("x", delta={"n": sid}))
    await service.create_session(app_name="elsewhere", user_id="u1", session_id="z")
    mine = (await service.list_sessions(app_name="app", user_id="u1")).sessions
    assert sorted(s.id for s in mine) == ["a", "b"]
    assert all(s.events == [] for s in mine)
    assert {s.id: s.state for s in mine} == {"a": {"n": "a"}, "b": {"n": "b"}}
    everyone = (await service.list_sessions(app_name="app")).sessions
    assert sorted((s.user_id, s.id) for s in everyone) == [("u1", "a"), ("u1", "b"), ("u2", "c")]
    assert (await service.list_sessions(app_name="app", user_id="nobody")).sessions == []


async def test_list_order_is_oldest_update_first(
    service: ThreadstoreSessionService, clock: object
) -> None:
    a = await service.create_session(app_name="app", user_id="u", session_id="a")
    clock.advance()  # type: ignore[attr-defined]
    await service.create_session(app_name="app", user_id="u", session_id="b")
    clock.advance()  # type: ignore[attr-defined]
    await service.append_event(a, event("newest"))
    listed = (await service.list_sessions(app_name="app", user_id="u")).sessions
    assert [s.id for s in listed] == ["b", "a"]
    assert listed[0].last_update_time < listed[1].last_update_time


async def test_delete_session(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(app_name="app", user_id="u", session_id="s")
    await service.append_event(s, event())
    await service.delete_session(app_name="app", user_id="u", session_id="s")
    assert await service.get_session(app_name="app", user_id="u", session_id="s") is None
    await service.delete_session(app_name="app", user_id="u", session_id="s")  # no error
    with pytest.raises(SessionNotFoundError):
        await service.append_event(s, event())


async def test_scoped_state_is_shared_and_temp_never_kept(
    service: ThreadstoreSessionService,
) -> None:
    s1 = await service.create_session(
        app_name="app", user_id="u1", state={"app:a": 1, "user:b": 2, "s": 3, "temp:t": 4}
    )
    assert s1.state == {"app:a": 1, "user:b": 2, "s": 3}
    await service.append_event(
        s1, event(delta={"app:a": 10, "user:b": 20, "s": 30, "temp:t": 40, "temp:u": 5})
    )
    assert s1.state["temp:u"] == 5  # visible in memory for the invocation
    assert s1.events[-1].actions.state_delta == {"app:a": 10, "user:b": 20, "s": 30}
    s2 = await service.create_session(app_name="app", user_id="u1")
    assert s2.state == {"app:a": 10, "user:b": 20}  # app and user state, not session state
    s3 = await service.create_session(app_name="app", user_id="u2")
    assert s3.state == {"app:a": 10}  # app state only
    other_app = await service.create_session(app_name="app2", user_id="u1")
    assert other_app.state == {}
    stored = await _get(service, s1)
    assert stored.state == {"app:a": 10, "user:b": 20, "s": 30}
    assert stored.events[0].actions.state_delta == {"app:a": 10, "user:b": 20, "s": 30}
    assert await service.get_user_state(app_name="app", user_id="u1") == {"b": 20}
    assert await service.get_user_state(app_name="app", user_id="u2") == {}


async def test_state_values_are_replaced_not_merged(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(
        app_name="app", user_id="u", state={"d": {"x": 1, "y": 2}, "user:d": {"x": 1}, "keep": 1}
    )
    await service.append_event(s, event(delta={"d": {"z": 3}, "user:d": {"z": 3}, "n": None}))
    stored = await _get(service, s)
    assert stored.state == {"d": {"z": 3}, "user:d": {"z": 3}, "keep": 1, "n": None}
    assert stored.state == s.state


async def test_partial_events_are_not_stored(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(app_name="app", user_id="u")
    partial = event("chunk", delta={"k": 1}, partial=True)
    assert await service.append_event(s, partial) is partial
    stored = await _get(service, s)
    assert stored.events == []
    assert stored.state == {}
    assert s.events == []


async def test_events_round_trip_exactly(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(app_name="app", user_id="u")
    rich = [
        event("hello"),
        Event(
            author="agent",
            invocation_id="inv",
            content=types.Content(
                role="model",
                parts=[
                    types.Part(function_call=types.FunctionCall(name="f", args={"a": [1, 2]})),
                    types.Part(inline_data=types.Blob(mime_type="b/x", data=bytes(range(256)))),
                ],
            ),
            branch="root.agent",
            turn_complete=True,
        ),
        event(None, author="agent", delta={"s": "é✓"}),
    ]
    for e in rich:
        await service.append_event(s, e)
    stored = await _get(service, s)
    assert stored.events == rich == s.events


async def test_get_session_config(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(app_name="app", user_id="u")
    for i in range(7):
        await service.append_event(s, event(f"e{i}", timestamp=1000.0 + i))
    assert texts((await _get(service, s, num_recent_events=3)).events) == ["e4", "e5", "e6"]
    assert (await _get(service, s, num_recent_events=0)).events == []
    assert len((await _get(service, s, num_recent_events=50)).events) == 7
    assert texts((await _get(service, s, after_timestamp=1004.0)).events) == ["e4", "e5", "e6"]
    assert texts((await _get(service, s, after_timestamp=1003.5)).events) == ["e4", "e5", "e6"]
    assert (await _get(service, s, after_timestamp=2000.0)).events == []
    both = await _get(service, s, num_recent_events=2, after_timestamp=1000.0)
    assert texts(both.events) == ["e5", "e6"]
    narrow = await _get(service, s, num_recent_events=5, after_timestamp=1005.0)
    assert texts(narrow.events) == ["e5", "e6"]
    with pytest.raises(ValueError, match="num_recent_events"):
        GetSessionConfig(num_recent_events=-1)


async def test_append_to_a_missing_session(service: ThreadstoreSessionService) -> None:
    ghost = Session(id="ghost", app_name="app", user_id="u")
    with pytest.raises(SessionNotFoundError):
        await service.append_event(ghost, event())


async def test_a_session_built_by_hand_is_accepted_when_current(
    service: ThreadstoreSessionService,
) -> None:
    """A marker-less session (built by hand) may append when its last event is the stored one."""
    s = await service.create_session(app_name="app", user_id="u", session_id="s")
    first = await service.append_event(s, event("one"))
    by_hand = Session(id="s", app_name="app", user_id="u", events=[first])
    await service.append_event(by_hand, event("two"))
    assert texts((await _get(service, s)).events) == ["one", "two"]


async def test_session_ids_are_stripped(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(app_name="app", user_id="u", session_id="  s1 ")
    assert s.id == "s1"
    assert await service.get_session(app_name="app", user_id="u", session_id=" s1") is not None


async def test_a_refused_append_writes_nothing(service: ThreadstoreSessionService) -> None:
    s = await service.create_session(app_name="app", user_id="u", state={"k": 0})
    too_long = "user:" + "x" * 300
    with pytest.raises(ValidationError):
        await service.append_event(s, event("refused", delta={"k": 1, too_long: 1}))
    stored = await _get(service, s)
    assert stored.events == []
    assert stored.state == {"k": 0}
    await service.append_event(s, event("accepted", delta={"k": 2}))  # the copy is still current
    assert texts((await _get(service, s)).events) == ["accepted"]


async def test_state_values_become_json_as_in_adk(service: ThreadstoreSessionService) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    s = await service.create_session(app_name="app", user_id="u", state={"when": when})
    await service.append_event(s, event(delta={"user:tags": ("a", "b")}))
    stored = await _get(service, s)
    assert stored.state == {"when": "2026-01-02T03:04:05Z", "user:tags": ["a", "b"]}
