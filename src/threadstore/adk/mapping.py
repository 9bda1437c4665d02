"""How ADK sessions, events and scoped state map onto threadstore records.

A session is a thread (``agent_name`` = app name, ``user_id`` = the ADK user,
``title`` = the session id, ``metadata`` = the session-scoped state); each
event is a message whose metadata holds the event's full JSON under
``adk_event`` and whose content is the event's text (so search sees it).
``app:`` state is one context item per key in the global scope, ``user:``
state one per key in the user's scope.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import quote

from google.adk.events.event import Event
from google.adk.sessions.session import Session
from google.adk.sessions.state import State

from threadstore.records import ContextItemRecord, MessageRecord, ThreadRecord

__all__ = [
    "EVENT_KEY",
    "INCARNATION_KEY",
    "THREAD_PREFIX",
    "app_state_prefix",
    "event_message",
    "merged_state",
    "message_event",
    "scoped_state",
    "session_of",
    "session_state",
    "thread_id",
    "timestamp",
    "user_state_prefix",
    "version_marker",
    "version_of",
]

EVENT_KEY = "adk_event"
THREAD_PREFIX = "adk:"
INCARNATION_KEY = "__threadstore_adk_incarnation__"
"""Thread metadata key of a random id made when the session is created (never in ADK state).

A session deleted and created again restarts its version; the incarnation
tells a copy of the old one from the new one at the same version.
"""
_MARKER_PREFIX = "threadstore:"


def thread_id(app_name: str, user_id: str, session_id: str) -> str:
    """The thread id of a session: unique per (app, user, session), like ADK's key."""
    digest = hashlib.sha256("\x1f".join((app_name, user_id, session_id)).encode()).hexdigest()
    return THREAD_PREFIX + digest


def app_state_prefix(app_name: str) -> str:
    """The key prefix of an app's ``app:`` state items (global scope)."""
    return f"adk/app/{quote(app_name, safe='')}/"


def user_state_prefix(app_name: str) -> str:
    """The key prefix of a user's ``user:`` state items of an app (the user's scope)."""
    return f"adk/user/{quote(app_name, safe='')}/"


def scoped_state(items: list[ContextItemRecord], prefix: str) -> dict[str, Any]:
    """The raw (un-prefixed) state held by the context items under ``prefix``."""
    return {i["key"][len(prefix) :]: i["value"] for i in items if i["key"].startswith(prefix)}


def merged_state(
    session_state: dict[str, Any], app_state: dict[str, Any], user_state: dict[str, Any]
) -> dict[str, Any]:
    """Session state with ``app:`` and ``user:`` state merged in, as ADK returns it."""
    state = dict(session_state)
    state.update({State.APP_PREFIX + k: v for k, v in app_state.items()})
    state.update({State.USER_PREFIX + k: v for k, v in user_state.items()})
    return state


def session_state(thread: ThreadRecord) -> dict[str, Any]:
    """The session-scoped state a thread holds (its metadata without the incarnation)."""
    return {k: v for k, v in thread["metadata"].items() if k != INCARNATION_KEY}


def version_marker(thread: ThreadRecord) -> str:
    """The storage marker a returned session carries: the thread's incarnation and version."""
    return f"{_MARKER_PREFIX}{thread['metadata'].get(INCARNATION_KEY)}:{thread['version']}"


def version_of(session: Session) -> tuple[str, int] | None:
    """The (incarnation, version) a session was read at, or None without a marker of ours."""
    marker = session._storage_update_marker
    if marker is None or not marker.startswith(_MARKER_PREFIX):
        return None
    incarnation, _, version = marker[len(_MARKER_PREFIX) :].rpartition(":")
    return incarnation, int(version)


def timestamp(iso: str) -> float:
    """An ISO-8601 record timestamp as ADK's float seconds."""
    return datetime.fromisoformat(iso).timestamp()


def session_of(
    thread: ThreadRecord, state: dict[str, Any], events: list[Event] | None = None
) -> Session:
    """An ADK session from its thread, merged state and (optionally) events."""
    session = Session(
        id=thread["title"] or "",
        app_name=thread["agent_name"],
        user_id=thread["user_id"],
        state=state,
        events=events or [],
        last_update_time=timestamp(thread["updated_at"]),
    )
    session._storage_update_marker = version_marker(thread)
    return session


def event_message(event: Event) -> tuple[str, str, dict[str, Any]]:
    """The (role, content, metadata) of the message that stores ``event``."""
    role = "user" if event.author == "user" else "assistant"
    parts = event.content.parts if event.content and event.content.parts else []
    text = "\n".join(p.text for p in parts if p.text and not p.thought)
    return role, text, {EVENT_KEY: event.model_dump(mode="json", exclude_none=True)}


def message_event(message: MessageRecord) -> Event | None:
    """The event a message stores, or None for a message not written by the adapter."""
    data = (message.get("metadata") or {}).get(EVENT_KEY)
    return None if data is None else Event.model_validate(data)
