"""JSON containment with PostgreSQL JSONB ``@>`` semantics, as one pure function.

``contains(document, needle)`` is what ``metadata_contains=`` means on every
backend: PostgreSQL evaluates ``metadata @> needle`` itself, SQLite runs the
same rules as SQL (:mod:`threadstore.store.sql.containment`), and MemoryStore
calls this function. The rules, applied recursively:

* an object contains an object when every key of the needle is present and its
  value contains the needle's value;
* an array contains an array when every element of the needle is contained in
  some element of the array (order and repetition do not matter);
* scalars contain an equal scalar of the same JSON type: numbers compare as
  numbers (``1`` equals ``1.0``), booleans are not numbers (``true`` is not
  ``1``), ``null`` equals only ``null``.

Different JSON types never contain each other (an array does not contain a
bare scalar below the top level, as in JSONB).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["contains", "json_kind"]


def json_kind(value: object) -> str:
    """The JSON type of a checked value: object, array, string, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def contains(document: Any, needle: Any) -> bool:
    """Whether ``document`` contains ``needle`` (JSONB ``document @> needle``)."""
    kind = json_kind(needle)
    if json_kind(document) != kind:
        return False
    if kind == "object":
        return all(key in document and contains(document[key], v) for key, v in needle.items())
    if kind == "array":
        return all(any(contains(item, wanted) for item in document) for wanted in needle)
    return bool(document == needle)
