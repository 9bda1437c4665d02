"""JSON text read from the database, decoded by the C scanner in one call.

``json.loads`` wraps the scanner in type checks and two whitespace regex
matches, about 1 µs a value: more than the scan itself for the small
documents (metadata, checkpoint metadata) every row of a page holds. Text as
databases return it (``json.dumps`` output on SQLite, JSONB's output on
PostgreSQL) has no surrounding whitespace, so :func:`loads` scans it
directly; any other text, and every malformed one, goes through
``json.loads``, which gives the same value or the same error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["bind_processor", "loads", "result_processor"]

_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_encode = json.JSONEncoder().encode  # json.dumps's own encoder, without its keyword checks


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads(text)``, in one scanner call when ``text`` is plain JSON text."""
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except (StopIteration, ValueError):
            return json.loads(text)
        if end == len(text):
            return value
    return json.loads(text)


def result_processor(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's result processor: :func:`loads` for text, ``fallback`` for the rest.

    ``fallback`` is SQLAlchemy's own processor (it handles NULL, numbers a
    SQLite JSON column may hold, and custom string types).
    """
    scan = _scan

    def process(value: Any) -> Any:
        if type(value) is str:
            try:
                found, end = scan(value, 0)
            except (StopIteration, ValueError):
                return fallback(value)
            if end == len(value):
                return found
        return fallback(value)

    return process


def bind_processor(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's bind processor: a dict or list as ``json.dumps`` text, else ``fallback``.

    ``fallback`` is SQLAlchemy's own processor (it maps ``JSON.NULL``, SQL
    NULL and None as the column says).
    """
    encode = _encode

    def process(value: Any) -> Any:
        if type(value) is dict or type(value) is list:
            return encode(value)
        return fallback(value)

    return process
