"""``ThreadstoreSessionService``: Google ADK sessions on threadstore's tables."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from google.adk.errors._stale_session_error import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.sessions import _session_util
from google.adk.sessions.base_session_service import (
    BaseSessionService,
    GetSessionConfig,
    ListSessionsResponse,
)
from google.adk.sessions.session import Session
from typing_extensions import override

from threadstore.adk import mapping
from threadstore.errors import DuplicateRecordError, PermissionDeniedError, ThreadNotFoundError
from threadstore.store.base import BaseStore
from threadstore.store.locks import LoopLock

__all__ = ["ThreadstoreSessionService"]

logger = logging.getLogger(__name__)

_PAGE = 500
_FIRST_PAGE = 16
"""With ``after_timestamp``, the walk back starts with pages this small and grows them 4x."""
_STALE = (
    "The session has been modified in storage since it was loaded "
    "(its thread is at version {stored}, the session was read at {held}). "
    "Reload it with get_session before appending more events."
)


class _SessionLocks:
    """One lock per session, so appends through one session object queue in this process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[LoopLock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (LoopLock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class ThreadstoreSessionService(BaseSessionService):
    """An ADK ``BaseSessionService`` whose sessions are threadstore threads.

    ``ThreadstoreSessionService(store)`` works on any store: a
    ``SQLAlchemyStore`` (SQLite, PostgreSQL), a ``MemoryStore``, a
    ``store.for_user(...)`` view or a ``store.transaction()`` block. Every
    call goes through ``for_user(user_id)`` of the ADK user and runs in one
    transaction. ``app:`` state lives in the store's global context scope,
    so build the service on the store (or a transaction of it), not on a
    user view, for it to be shared by every user. The service owns nothing:
    closing the store is the caller's.

    A session read from this service carries its thread's version; an
    ``append_event`` through a copy read before another append raises ADK's
    ``StaleSessionError`` (a compare-and-set on the version, never a
    timestamp comparison). Appends through one session object queue, so none
    is lost.
    """

    def __init__(self, store: BaseStore) -> None:
        """Serve ADK sessions from ``store``."""
        self._store = store
        self._locks = _SessionLocks()

    # -- reads ----------------------------------------------------------------

    @staticmethod
    def _mine(store: BaseStore, user_id: str) -> BaseStore | None:
        """``store.for_user(user_id)``, or None when ``store`` is a view of another user."""
        try:
            return store.for_user(user_id)
        except PermissionDeniedError:
            return None  # reads of another user's data behave as reads of missing data

    async def _scoped_states(
        self, tx: BaseStore, app_name: str, user_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        app_items = await tx.get_all_context_items(user_id=None)
        user_items = await tx.for_user(user_id).get_all_context_items(user_id=user_id)
        return (
            mapping.scoped_state(app_items, mapping.app_state_prefix(app_name)),
            mapping.scoped_state(user_items, mapping.user_state_prefix(app_name)),
        )

    async def _recent_events(
        self, store: BaseStore, thread_id: str, config: GetSessionConfig | None
    ) -> list[Event]:
        """The newest events, walking back by ``seq`` and stopping at the first too old."""
        limit = config.num_recent_events if config else None
        after = config.after_timestamp if config else None
        events: list[Event] = []
        before: int | None = None
        size = _FIRST_PAGE if after is not None else _PAGE
        while limit is None or len(events) < limit:
            size = size if limit is None else min(size, limit - len(events))
            page = await store.get_messages(
                thread_id, limit=size, newest_first=True, before_seq=before
            )
            for message in page:
                event = mapping.message_event(message)
                if event is None:
                    continue
                if after is not None and event.timestamp < after:
                    events.reverse()
                    return events
                events.append(event)
            if len(page) < size:
                break
            before = page[-1]["seq"]
            size = min(size * 4, _PAGE)
        events.reverse()
        return events

    @override
    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> Session | None:
        session_id = session_id.strip() if session_id else session_id
        thread_id = mapping.thread_id(app_name, user_id, session_id)
        async with self._store.transaction() as tx:
            mine = self._mine(tx, user_id)
            thread = None if mine is None else await mine.get_thread(thread_id)
            if mine is None or thread is None:
                return None
            events = await self._recent_events(mine, thread_id, config)
            app_state, user_state = await self._scoped_states(tx, app_name, user_id)
        state = mapping.merged_state(mapping.session_state(thread), app_state, user_state)
        return mapping.session_of(thread, state, events)

    @override
    async def list_sessions(
        self, *, app_name: str, user_id: str | None = None
    ) -> ListSessionsResponse:
        sessions: list[Session] = []
        async with self._store.transaction() as tx:
            app_items = await tx.get_all_context_items(user_id=None)
            app_state = mapping.scoped_state(app_items, mapping.app_state_prefix(app_name))
            threads = tx if user_id is None else self._mine(tx, user_id)
            if threads is None:
                return ListSessionsResponse()
            user_states: dict[str, dict[str, Any]] = {}
            cursor: str | None = None
            while True:
                page = await threads.list_threads_page(
                    agent_name=app_name, user_id=user_id, limit=_PAGE, cursor=cursor
                )
                for thread in page["items"]:
                    owner = thread["user_id"]
                    if thread["id"] != mapping.thread_id(app_name, owner, thread["title"] or ""):
                        continue  # a thread not written by this adapter
                    if owner not in user_states:
                        items = await tx.for_user(owner).get_all_context_items(user_id=owner)
                        prefix = mapping.user_state_prefix(app_name)
                        user_states[owner] = mapping.scoped_state(items, prefix)
                    state = mapping.merged_state(
                        mapping.session_state(thread), app_state, user_states[owner]
                    )
                    sessions.append(mapping.session_of(thread, state))
                cursor = page["next_cursor"]
                if cursor is None:
                    break
        sessions.sort(key=lambda s: (s.last_update_time, s.user_id, s.id))
        return ListSessionsResponse(sessions=sessions)

    @override
    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        mine = self._mine(self._store, user_id)
        if mine is None:
            return {}
        items = await mine.get_all_context_items(user_id=user_id)
        return mapping.scoped_state(items, mapping.user_state_prefix(app_name))

    # -- writes ---------------------------------------------------------------

    async def _save_scoped(
        self, tx: BaseStore, app_name: str, user_id: str, deltas: dict[str, dict[str, Any]]
    ) -> None:
        """Write ``app:`` and ``user:`` deltas, one item per key (values replaced)."""
        for key, value in deltas["app"].items():
            await tx.save_context_item(mapping.app_state_prefix(app_name) + key, value)
        for key, value in deltas["user"].items():
            await tx.for_user(user_id).save_context_item(
                mapping.user_state_prefix(app_name) + key, value, user_id=user_id
            )

    @override
    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        session_id = session_id.strip() if session_id else None
        session_id = session_id or str(uuid.uuid4())
        thread_id = mapping.thread_id(app_name, user_id, session_id)
        deltas = _session_util.extract_json_safe_state_delta(state or {})
        deltas["session"].pop(mapping.INCARNATION_KEY, None)
        try:
            async with self._store.transaction() as tx:
                metadata = {**deltas["session"], mapping.INCARNATION_KEY: uuid.uuid4().hex}
                thread = await tx.for_user(user_id).create_thread(
                    thread_id, user_id, app_name, title=session_id, metadata=metadata
                )
                await self._save_scoped(tx, app_name, user_id, deltas)
                app_state, user_state = await self._scoped_states(tx, app_name, user_id)
        except DuplicateRecordError as exc:
            raise AlreadyExistsError(f"Session with id {session_id} already exists.") from exc
        return mapping.session_of(
            thread, mapping.merged_state(deltas["session"], app_state, user_state)
        )

    @override
    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        session_id = session_id.strip() if session_id else session_id
        thread_id = mapping.thread_id(app_name, user_id, session_id)
        mine = self._mine(self._store, user_id)
        if mine is not None:
            await mine.delete_thread(thread_id)

    async def _adopt(self, mine: BaseStore, thread_id: str, session: Session) -> tuple[str, int]:
        """The (incarnation, version) of a session this service did not return.

        A session built by hand (or by another service) is accepted when its
        last event is the stored last event.
        """
        thread = await mine.get_thread(thread_id)
        if thread is None:
            raise SessionNotFoundError(f"Session {session.id} not found.")
        latest = await self._recent_events(mine, thread_id, GetSessionConfig(num_recent_events=1))
        last = session.events[-1].id if session.events else None
        if (latest[-1].id if latest else None) != last:
            raise StaleSessionError(_STALE.format(stored=thread["version"], held="unknown"))
        return str(thread["metadata"].get(mapping.INCARNATION_KEY)), thread["version"]

    @override
    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return event
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        delta = event.actions.state_delta if event.actions and event.actions.state_delta else {}
        deltas = _session_util.extract_json_safe_state_delta(delta)
        deltas["session"].pop(mapping.INCARNATION_KEY, None)
        thread_id = mapping.thread_id(session.app_name, session.user_id, session.id)
        role, content, metadata = mapping.event_message(event)
        async with self._locks.hold(thread_id):
            async with self._store.transaction() as tx:
                mine = tx.for_user(session.user_id)
                held = mapping.version_of(session) or await self._adopt(mine, thread_id, session)
                # The append locks the thread (SQLite's write lock, PostgreSQL's row
                # lock) and adds 1 to its version: any other version afterwards means
                # another append or change came after this session was read.
                try:
                    await mine.add_message(thread_id, role, content, metadata=metadata)
                except ThreadNotFoundError as exc:
                    raise SessionNotFoundError(f"Session {session.id} not found.") from exc
                thread = await mine.get_thread(thread_id)
                assert thread is not None  # locked by the append above
                incarnation = str(thread["metadata"].get(mapping.INCARNATION_KEY))
                if (incarnation, thread["version"]) != (held[0], held[1] + 1):
                    stored = thread["version"] - 1 if incarnation == held[0] else "recreated"
                    raise StaleSessionError(_STALE.format(stored=stored, held=held[1]))
                if deltas["session"]:
                    thread = await mine.update_thread(thread_id, metadata_patch=deltas["session"])
                    assert thread is not None
                await self._save_scoped(tx, session.app_name, session.user_id, deltas)
            session._storage_update_marker = mapping.version_marker(thread)
            session.last_update_time = mapping.timestamp(thread["updated_at"])
            return self._commit_event_to_session(session, event)
