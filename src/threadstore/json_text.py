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


def _dumps() -> Callable[[Any], str]:
    """``json.dumps`` for a dict or list, its C encoder made once.

    ``json.dumps`` makes its encoder anew on every call (half of the time
    it takes for a small document). This one keeps no circular-reference
    markers, so it may serve every thread at once: values reach it checked
    (:func:`threadstore.validation.json_copy` copies them as trees), and a
    cycle would end in ``RecursionError``, not in text.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return json.JSONEncoder().encode
    default = json.JSONEncoder().default  # raises TypeError, as json.dumps does
    chunks = make(
        None, default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return lambda value: "".join(chunks(value, 0))


_encode = _dumps()


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
