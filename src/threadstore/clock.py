"""Time: the injectable clock and the one ISO-8601 format every backend returns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "isoformat", "parse_iso", "utcnow"]

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware datetime."""


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def isoformat(value: datetime) -> str:
    """Render an aware datetime as ISO-8601 in UTC with microseconds and ``+00:00``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime; threadstore only handles aware UTC times")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(value: str) -> datetime:
    """Parse a timestamp produced by :func:`isoformat`."""
    return datetime.fromisoformat(value)
