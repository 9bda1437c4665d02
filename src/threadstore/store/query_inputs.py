"""Validated filters of query_threads and query_messages.

Every check runs before the store is touched, and every backend receives the
same values. :func:`cursor_scope` gives the filters (of these queries, of
tool calls and of runs) a keyset cursor is bound to, so a cursor reused with other filters is
a :class:`~threadstore.errors.ValidationError`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from threadstore.clock import isoformat
from threadstore.errors import ValidationError
from threadstore.store.cursors import Scalar
from threadstore.store.run_inputs import check_time
from threadstore.validation import INT64_MAX, check_json_object, check_optional_id

__all__ = ["MessageQuery", "ThreadQuery", "check_needle", "cursor_scope"]


def _int64_only(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValidationError(
            f"metadata_contains holds the integer {value}, outside the 64-bit range",
            suggestion="Compare such numbers as strings, or store them as strings.",
        )
    if isinstance(value, Mapping):
        for item in value.values():
            _int64_only(item)
    elif isinstance(value, list):
        for item in value:
            _int64_only(item)


def check_needle(value: object) -> dict[str, Any] | None:
    """Check ``metadata_contains``: None (no filter) or a JSON object."""
    if value is None:
        return None
    needle = check_json_object("metadata_contains", value, allow_none=False)
    _int64_only(needle)
    return needle


def _scalar(value: Any) -> Scalar:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, dict):  # a metadata_contains document, in one canonical text
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value  # type: ignore[no-any-return]


def cursor_scope(filters: Any, view: str | None) -> dict[str, Scalar]:
    """The filters (a dataclass of them) a cursor is bound to, the view's user included.

    ``limit`` and ``offset`` are paging, not filters: left out.
    """
    scope = {name: _scalar(getattr(filters, name)) for name in _filter_names(filters.__class__)}
    scope["view"] = view
    return scope


@functools.cache
def _filter_names(kind: Any) -> tuple[str, ...]:
    """The fields of a filters dataclass that a cursor is bound to (paging left out)."""
    return tuple(field.name for field in fields(kind) if field.name not in ("limit", "offset"))


@dataclass(frozen=True, slots=True)
class ThreadQuery:
    """Filters of query_threads; time bounds are exclusive."""

    agent_name: str | None
    user_id: str | None
    created_after: datetime | None
    created_before: datetime | None
    updated_after: datetime | None
    updated_before: datetime | None
    metadata_contains: dict[str, Any] | None

    @classmethod
    def check(cls, **values: Any) -> ThreadQuery:
        """Check every filter."""
        return cls(
            agent_name=check_optional_id("agent_name", values["agent_name"]),
            user_id=check_optional_id("user_id", values["user_id"]),
            created_after=check_time("created_after", values["created_after"]),
            created_before=check_time("created_before", values["created_before"]),
            updated_after=check_time("updated_after", values["updated_after"]),
            updated_before=check_time("updated_before", values["updated_before"]),
            metadata_contains=check_needle(values["metadata_contains"]),
        )


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters of query_messages; ``created_*`` bound the message timestamp, exclusive."""

    thread_id: str | None
    agent_name: str | None
    user_id: str | None
    role: str | None
    created_after: datetime | None
    created_before: datetime | None
    metadata_contains: dict[str, Any] | None

    @classmethod
    def check(cls, **values: Any) -> MessageQuery:
        """Check every filter."""
        return cls(
            thread_id=check_optional_id("thread_id", values["thread_id"]),
            agent_name=check_optional_id("agent_name", values["agent_name"]),
            user_id=check_optional_id("user_id", values["user_id"]),
            role=check_optional_id("role", values["role"]),
            created_after=check_time("created_after", values["created_after"]),
            created_before=check_time("created_before", values["created_before"]),
            metadata_contains=check_needle(values["metadata_contains"]),
        )
