"""Input checks shared by every backend, run before anything is written.

Each check raises :class:`~threadstore.errors.ValidationError` naming the
argument and what to do, so all backends reject the same input the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from threadstore.errors import ValidationError

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "MAX_ID_LENGTH",
    "MAX_TITLE_LENGTH",
    "MAX_TTL",
    "check_id",
    "check_int",
    "check_json_object",
    "check_json_value",
    "check_limit",
    "check_optional_id",
    "check_optional_text",
    "check_rating",
    "check_seq",
    "check_text",
    "check_ttl",
    "json_copy",
    "json_object_copy",
]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

INT32_MAX = 2**31 - 1
"""The largest value of a 32-bit column (``seq``, counts, ratings, positions)."""
INT64_MAX = 2**63 - 1
"""The largest value of a 64-bit column (ids) and of a LIMIT/OFFSET on every backend."""
MAX_ID_LENGTH = 255
MAX_TITLE_LENGTH = 1000
MAX_TTL = timedelta(days=100 * 365)
"""The longest time-to-live accepted (about a century)."""
_MAX_JSON_DEPTH = 200


def check_id(name: str, value: object, *, allow_empty: bool = False) -> str:
    """Check an identifier: a string of 1..255 characters without NUL."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{name} must be a str, got {type(value).__name__}",
            suggestion=f"Pass {name} as a string, e.g. str({name}).",
        )
    if not value and not allow_empty:
        raise ValidationError(f"{name} must not be empty", suggestion=f"Give a non-empty {name}.")
    if len(value) > MAX_ID_LENGTH:
        raise ValidationError(
            f"{name} is {len(value)} characters long; at most {MAX_ID_LENGTH} are allowed",
            suggestion=f"Use a shorter {name}, e.g. a UUID or a hash of the long value.",
        )
    if "\x00" in value or not value.isascii():  # the common case costs no call
        _check_storable_text(name, value)
    return value


def check_optional_id(name: str, value: object) -> str | None:
    """Check an identifier that may be None."""
    return None if value is None else check_id(name, value)


def check_text(name: str, value: object, *, max_length: int | None = None) -> str:
    """Check free text: a string without NUL characters, optionally bounded."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{name} must be a str, got {type(value).__name__}",
            suggestion=f"Pass {name} as text; serialise structured content into metadata.",
        )
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            f"{name} is {len(value)} characters long; at most {max_length} are allowed",
            suggestion=f"Shorten {name}.",
        )
    _check_storable_text(name, value)
    return value


def check_optional_text(name: str, value: object, *, max_length: int | None = None) -> str | None:
    """Check free text that may be None."""
    return None if value is None else check_text(name, value, max_length=max_length)


def check_int(
    name: str, value: object, *, minimum: int | None = None, maximum: int = INT64_MAX
) -> int:
    """Check an integer (bools are refused) within ``minimum``..``maximum``.

    The default bounds are those of a 64-bit column, so no backend ever sees a
    number its driver cannot bind (every backend refuses the same values).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{name} must be an int, got {type(value).__name__}",
            suggestion=f"Pass {name} as a whole number.",
        )
    low = -INT64_MAX - 1 if minimum is None else minimum
    if value < low:
        raise ValidationError(
            f"{name} must be >= {low}, got {value}",
            suggestion=f"Pass a {name} of at least {low}.",
        )
    if value > maximum:
        raise ValidationError(
            f"{name} must be <= {maximum}, got {value}",
            suggestion=f"Pass a {name} of at most {maximum}"
            + (" (the range of a 64-bit integer)." if maximum == INT64_MAX else "."),
        )
    return value


def check_limit(name: str, value: object) -> int:
    """Check a page size or offset: a non-negative 64-bit integer."""
    return check_int(name, value, minimum=0)


def check_seq(name: str, value: object) -> int:
    """Check a message position (``seq``, a fork's message index): a 32-bit integer."""
    return check_int(name, value, minimum=-INT32_MAX - 1, maximum=INT32_MAX)


def check_rating(value: object) -> int | None:
    """Check a feedback rating: None or an integer from 1 to 5."""
    if value is None:
        return None
    rating = check_int("rating", value)
    if not 1 <= rating <= 5:
        raise ValidationError(
            f"rating must be between 1 and 5, got {rating}",
            suggestion="Pass a rating from 1 (worst) to 5 (best), or None for no rating.",
        )
    return rating


def check_ttl(value: object, *, default: timedelta) -> timedelta:
    """Check a time-to-live given as a timedelta or seconds; None means ``default``.

    A TTL must be positive and at most :data:`MAX_TTL`, so that every expiry
    time stays representable on every backend.
    """
    if value is None:
        return default
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValidationError("ttl must be finite", suggestion="Pass a number of seconds.")
        seconds = value
    else:
        raise ValidationError(
            f"ttl must be a timedelta or a number of seconds, got {type(value).__name__}",
            suggestion="Pass e.g. ttl=timedelta(hours=1) or ttl=3600.",
        )
    if seconds > MAX_TTL.total_seconds():
        raise ValidationError(
            f"ttl must be at most {MAX_TTL.days} days, got {value!r}",
            suggestion="Pass a shorter duration, or no TTL where the method allows it.",
        )
    ttl = value if isinstance(value, timedelta) else timedelta(seconds=max(seconds, 0))
    if seconds <= 0 or ttl <= timedelta(0):
        raise ValidationError(
            f"ttl must be positive, got {value!r}",
            suggestion="Pass a positive duration (at least one microsecond).",
        )
    return ttl


def check_json_object(name: str, value: object, *, allow_none: bool = True) -> dict[str, Any]:
    """Check a JSON object (a dict with str keys) and return it; None gives ``{}``."""
    if value is None and allow_none:
        return {}
    _check_mapping(name, value)
    check_json_value(name, value)
    return dict(cast("Mapping[str, Any]", value))


def json_object_copy(name: str, value: object, *, allow_none: bool = True) -> dict[str, Any]:
    """:func:`check_json_object`, returning a deep copy of it (see :func:`json_copy`)."""
    if value is None and allow_none:
        return {}
    _check_mapping(name, value)
    return cast("dict[str, Any]", json_copy(name, value))


def _check_mapping(name: str, value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{name} must be a dict, got {type(value).__name__}",
            suggestion=f"Pass {name} as a dict of JSON values.",
        )


def json_copy(name: str, value: object) -> Any:
    """``value`` checked as :func:`check_json_value` checks it, and deep-copied, in one pass.

    The copy rebuilds every mapping as a dict and every list as a list (what
    any backend gives back); the rest are immutable and shared. The pass
    keeps no paths; only a refused value is checked again, to name where.
    """
    try:
        return _copy_json(value, 0)
    except _Refused:
        _check_json(name, value, 0)  # raises, naming the offending part
        raise ValidationError(f"{name} is not valid JSON") from None  # pragma: no cover


class _Refused(Exception):
    """Raised by :func:`_copy_json` where :func:`_check_json` raises."""


def _copy_json(value: object, depth: int) -> Any:
    if depth > _MAX_JSON_DEPTH:
        raise _Refused
    if isinstance(value, str):
        if "\x00" in value or (not value.isascii() and _LONE_SURROGATE.search(value)):
            raise _Refused
        return value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused
        return value
    if isinstance(value, Mapping):
        copied = {}
        inline = depth < _MAX_JSON_DEPTH  # items may be this deep: see _copy_list
        for key, item in value.items():
            if not isinstance(key, str) or "\x00" in key:
                raise _Refused
            if not key.isascii() and _LONE_SURROGATE.search(key):
                raise _Refused
            kind = type(item)
            if inline and (kind is int or item is None or kind is bool):
                copied[key] = item
            elif inline and kind is str:
                if "\x00" in item or (not item.isascii() and _LONE_SURROGATE.search(item)):
                    raise _Refused
                copied[key] = item
            else:
                copied[key] = _copy_json(item, depth + 1)
        return copied
    if isinstance(value, list):
        return _copy_list(value, depth)
    raise _Refused


def _copy_list(value: list[Any], depth: int) -> list[Any]:
    """A list's copy, its plain ``str``, ``int``, ``bool`` and None items checked in the loop.

    Most items of agent state are such scalars; a call of :func:`_copy_json`
    for each was most of the time a checkpoint's check and copy took.
    """
    if depth >= _MAX_JSON_DEPTH:  # the items are too deep: _copy_json refuses them
        return [_copy_json(item, depth + 1) for item in value]
    copied = []
    for item in value:
        kind = type(item)
        if kind is int or item is None or kind is bool:
            copied.append(item)
        elif kind is str:
            if "\x00" in item or (not item.isascii() and _LONE_SURROGATE.search(item)):
                raise _Refused
            copied.append(item)
        else:
            copied.append(_copy_json(item, depth + 1))
    return copied


def check_json_value(name: str, value: object) -> None:
    """Check that ``value`` round-trips through JSON unchanged on every backend.

    Allowed: dict with str keys, list, str, int, float (finite), bool, None.
    Refused: tuples and other types (they would come back changed), NaN and
    infinities, NUL characters and lone surrogates (PostgreSQL cannot store
    them, and no backend may accept what another refuses).
    """
    _check_json(name, value, 0)


def _check_json(path: str, value: object, depth: int) -> None:
    if depth > _MAX_JSON_DEPTH:
        raise ValidationError(
            f"{path} is nested more than {_MAX_JSON_DEPTH} levels deep",
            suggestion="Flatten the structure.",
        )
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        _check_storable_text(path, value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(
                f"{path} holds {value!r}, which is not valid JSON",
                suggestion="Replace NaN and infinities with None or a string.",
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"{path} has a key of type {type(key).__name__}; JSON keys are strings",
                    suggestion="Convert the keys to str before storing.",
                )
            _check_storable_text(f"{path} key", key)
            _check_json(f"{path}[{key!r}]", item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(f"{path}[{index}]", item, depth + 1)
    else:
        raise ValidationError(
            f"{path} holds a {type(value).__name__}, which is not JSON-serialisable as is",
            suggestion="Store only dict, list, str, int, float, bool and None "
            "(convert tuples to lists, datetimes to ISO strings).",
        )


def _check_storable_text(name: str, value: str) -> None:
    if "\x00" in value:
        raise ValidationError(
            f"{name} contains a NUL character (\\x00), which PostgreSQL cannot store",
            suggestion="Remove the NUL characters, or encode binary data as base64.",
        )
    if not value.isascii() and _LONE_SURROGATE.search(value):
        raise ValidationError(
            f"{name} contains a lone surrogate (\\ud800-\\udfff), which is not valid UTF-8",
            suggestion="Decode the text properly (e.g. errors='replace') before storing it.",
        )
