"""The ADK service inside transactions and user views; its rows under erasure, retention, export."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("google.adk.sessions")

from google.adk.sessions.session import Session

from tests.adk.helpers import event, texts
from tests.conftest import FakeClock
from threadstore import BaseStore, PermissionDeniedError, SQLAlchemyStore
from threadstore.adk import ThreadstoreSessionService
from threadstore.transfer import export_database, import_database


async def _session(service: ThreadstoreSessionService, user: str, sid: str) -> Session | None:
    return await service.get_session(app_name="app", user_id=user, session_id=sid)


async def _populate(service: ThreadstoreSessionService) -> None:
    for user in ("alice", "bob"):
        s = await service.create_session(
            app_name="app", user_id=user, session_id="s", state={f"user:{user}": 1}
        )
        await service.append_event(s, event(f"{user} says hi", delta={"app:shared": user}))


async def test_the_service_joins_a_transaction(store: BaseStore) -> None:
    async with store.transaction() as tx:
        inside = ThreadstoreSessionService(tx)
        s = await inside.create_session(app_name="app", user_id="alice", session_id="kept")
        await inside.append_event(s, event("committed", delta={"app:x": 1}))

    async def failing_turn() -> None:
        async with store.transaction() as tx:
            inside = ThreadstoreSessionService(tx)
            s = await inside.create_session(app_name="app", user_id="alice", session_id="lost")
            await inside.append_event(s, event("rolled back", delta={"app:x": 2}))
            raise RuntimeError("the model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        await failing_turn()
    service = ThreadstoreSessionService(store)
    kept = await _session(service, "alice", "kept")
    assert kept is not None
    assert texts(kept.events) == ["committed"]
    assert kept.state == {"app:x": 1}
    assert await _session(service, "alice", "lost") is None


async def test_a_service_on_a_user_view_serves_that_user_only(store: BaseStore) -> None:
    service = ThreadstoreSessionService(store.for_user("alice"))
    s = await service.create_session(app_name="app", user_id="alice", session_id="s")
    await service.append_event(s, event("mine"))
    with pytest.raises(PermissionDeniedError):
        await service.create_session(app_name="app", user_id="bob", session_id="s")
    assert await _session(service, "bob", "s") is None
    assert await service.get_user_state(app_name="app", user_id="bob") == {}
    assert (await service.list_sessions(app_name="app", user_id="bob")).sessions == []
    await service.delete_session(app_name="app", user_id="bob", session_id="s")
    everyone = await service.list_sessions(app_name="app")
    assert [x.user_id for x in everyone.sessions] == ["alice"]


async def test_erasing_a_user_removes_their_sessions_and_state(store: BaseStore) -> None:
    service = ThreadstoreSessionService(store)
    await _populate(service)
    counts = await store.erase_user("alice")
    assert counts["threads"] == 1
    assert counts["messages"] == 1
    assert counts["context_items"] == 1  # alice's user: state
    assert await _session(service, "alice", "s") is None
    assert await service.get_user_state(app_name="app", user_id="alice") == {}
    bob = await _session(service, "bob", "s")
    assert bob is not None
    assert texts(bob.events) == ["bob says hi"]
    assert bob.state == {"user:bob": 1, "app:shared": "bob"}  # app state is nobody's to erase


async def test_idle_sessions_are_retired(store: BaseStore, clock: FakeClock) -> None:
    service = ThreadstoreSessionService(store)
    old = await service.create_session(app_name="app", user_id="u", session_id="old")
    await service.append_event(old, event())
    clock.advance(3600 * 24 * 40)
    await service.create_session(app_name="app", user_id="u", session_id="new")
    counts = await store.delete_idle_threads(timedelta(days=30))
    assert counts["threads"] == 1
    assert [s.id for s in (await service.list_sessions(app_name="app")).sessions] == ["new"]


async def test_sessions_survive_export_and_import(
    sqlite_url: str, sqlite_template: Path, tmp_path: Path, clock: FakeClock
) -> None:
    async with SQLAlchemyStore(sqlite_url, clock=clock) as source:
        await _populate(ThreadstoreSessionService(source))
    dump = tmp_path / "dump.jsonl"
    await export_database(sqlite_url, dump)
    target_path = tmp_path / "target.db"
    shutil.copyfile(sqlite_template, target_path)
    target_url = f"sqlite+aiosqlite:///{target_path}"
    await import_database(target_url, dump)
    async with SQLAlchemyStore(target_url, clock=clock) as target:
        service = ThreadstoreSessionService(target)
        alice = await _session(service, "alice", "s")
        assert alice is not None
        assert texts(alice.events) == ["alice says hi"]
        assert alice.state == {"user:alice": 1, "app:shared": "bob"}
        await service.append_event(alice, event("after the move"))  # its version came along
