"""Small builders shared by the ADK adapter's tests."""

from __future__ import annotations

from typing import Any

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.genai import types


def event(
    text: str | None = "hi",
    *,
    author: str = "user",
    delta: dict[str, Any] | None = None,
    timestamp: float | None = None,
    partial: bool | None = None,
) -> Event:
    """An event with a text part, a state delta and the given timestamp."""
    fields: dict[str, Any] = {
        "author": author,
        "invocation_id": "inv",
        "actions": EventActions(state_delta=dict(delta or {})),
        "partial": partial,
    }
    if text is not None:
        role = "user" if author == "user" else "model"
        fields["content"] = types.Content(role=role, parts=[types.Part(text=text)])
    if timestamp is not None:
        fields["timestamp"] = timestamp
    return Event(**fields)


def texts(events: list[Event]) -> list[str | None]:
    """The first text part of each event."""
    return [e.content.parts[0].text if e.content and e.content.parts else None for e in events]
