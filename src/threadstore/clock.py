"""Time: the injectable clock and the one ISO-8601 format every backend returns."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from threadstore.errors import ValidationError

__all__ = [
    "Clock",
    "check_clock",
    "isoformat",
    "isoformat_utc_many",
    "parse_iso",
    "stamp",
    "utcnow",
]

_ISO_LENGTH = len("2026-01-02T03:04:05.000006+00:00")


def _orjson_render() -> Callable[[Sequence[Any]], list[Any]] | None:
    """A list rendered as JSON and read back by ``orjson`` (None without the postgres extra)."""
    try:
        import orjson
    except ImportError:
        return None
    dumps, loads = orjson.dumps, orjson.loads
    return lambda values: loads(dumps(values))


_render = _orjson_render()

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


def isoformat_utc_many(values: Sequence[Any]) -> list[str | None]:
    """:func:`isoformat` of each aware UTC datetime (``tzinfo is UTC``) of ``values``, else None.

    ``orjson`` (in the ``postgres`` extra, for asyncpg's datetimes) renders
    the whole list in one C call, several times faster than ``isoformat`` per
    value (0.7 us each on the development machine); what it renders otherwise
    (no microseconds) or refuses, and everything without it, takes ``isoformat``.
    """
    texts: list[Any] | None = None
    if _render is not None:
        with contextlib.suppress(TypeError):  # a value orjson does not render (a subclass)
            texts = _render(values)
    if texts is None:
        texts = [None] * len(values)
    return [
        (
            text
            if type(text) is str and len(text) == _ISO_LENGTH  # no microseconds: shorter
            else value.isoformat("T", "microseconds")
        )
        if type(value) is datetime and value.tzinfo is UTC
        else None
        for value, text in zip(values, texts, strict=True)
    ]


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
