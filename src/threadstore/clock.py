"""Time: the injectable clock and the one ISO-8601 format every backend returns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from threadstore.errors import ValidationError

__all__ = ["Clock", "check_clock", "isoformat", "parse_iso", "stamp", "utcnow"]

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware datetime."""


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def isoformat(value: datetime) -> str:
    """Render an aware datetime as ISO-8601 in UTC with microseconds and ``+00:00``."""
    if value.tzinfo is UTC:
        return value.isoformat(timespec="microseconds")
    if value.tzinfo is None:
        raise ValueError("naive datetime; threadstore only handles aware UTC times")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def stamp(value: datetime | str) -> str:
    """A record's timestamp: :func:`isoformat` of a datetime; text already in that form as is.

    Reads straight on the driver give the text (see ``UTCDateTime.iso_processor``).
    """
    return value if isinstance(value, str) else isoformat(value)


def parse_iso(value: str) -> datetime:
    """Parse a timestamp produced by :func:`isoformat`."""
    return datetime.fromisoformat(value)


def check_clock(clock: Clock | None) -> Clock:
    """Return ``clock`` (None: :func:`utcnow`) after checking that it gives aware datetimes.

    The clock is called once, so a store built with a wrong one fails at
    construction rather than on its first write.

    Raises:
        ValidationError: the clock is not callable or returns a naive or non-datetime value.
    """
    if clock is None:
        return utcnow
    if not callable(clock):
        raise ValidationError(
            f"clock must be a callable returning a datetime, got {type(clock).__name__}",
            suggestion="Pass e.g. clock=lambda: datetime.now(UTC).",
        )
    sample = clock()
    if not isinstance(sample, datetime):
        raise ValidationError(
            f"clock returned a {type(sample).__name__}, not a datetime",
            suggestion="Return an aware datetime, e.g. datetime.now(UTC).",
        )
    if sample.tzinfo is None or sample.utcoffset() is None:
        raise ValidationError(
            "clock returned a naive datetime; threadstore stores aware UTC times only",
            suggestion="Return datetime.now(UTC) (or attach tzinfo=UTC) instead of datetime.now().",
        )
    return clock
