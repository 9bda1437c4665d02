"""Checkpoint metadata as JSON every backend stores, and the filters SQL can apply."""

from __future__ import annotations

import math
from typing import Any

from threadstore.errors import ValidationError

__all__ = ["json_safe", "pushdown"]


def json_safe(value: Any, name: str = "metadata") -> Any:
    """Return ``value`` as JSON every backend stores: tuples become lists, NULs go.

    Keys become strings. Plain ``str`` and ``int`` items and None in a
    dict or list are handled in its loop: a checkpoint's header holds dozens
    of channel versions, and a call per item was most of a put's checks.

    Raises:
        ValidationError: a value JSON cannot hold (an object, NaN, infinity).
    """
    kind = type(value)
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str or "\x00" in key:
                key = json_safe(str(key), name)
            item_kind = type(item)
            if (item_kind is str and "\x00" not in item) or item_kind is int or item is None:
                copied[key] = item
            else:
                copied[key] = json_safe(item, name)
        return copied
    if kind is list or kind is tuple:
        return [
            item
            if (type(item) is str and "\x00" not in item) or type(item) is int or item is None
            else json_safe(item, name)
            for item in value
        ]
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
    elif isinstance(value, dict):
        return {json_safe(str(k), name): json_safe(v, name) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        return [json_safe(v, name) for v in value]
    raise ValidationError(
        f"checkpoint {name} holds {value!r} ({type(value).__name__}), which JSON cannot store",
        suggestion="Keep checkpoint metadata to str, int, finite float, bool, None, "
        "lists and dicts; put other values in the graph state.",
    )


def pushdown(filter: dict[str, Any]) -> dict[str, str | int]:
    """The filters the database can apply exactly: str and int (not bool) values."""
    return {
        k: v
        for k, v in filter.items()
        if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
    }
