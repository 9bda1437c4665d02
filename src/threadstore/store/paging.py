"""Keyset pages, written once: checking a page request and building the page from rows.

A listing method turns its arguments into a :class:`PageRequest`: the
:class:`~threadstore.store.cursors.CursorScope` of the call, the checked
limit and the :class:`KeysetPage` a repository reads (one row more than the
limit, so that the last page needs no extra round trip to know it is the
last). Repositories only read "the rows after this position in this order";
the page and its ``next_cursor`` are made here from the records, which are
identical on every backend, so every backend returns the same pages and the
same cursors by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from threadstore.clock import isoformat, parse_iso
from threadstore.errors import ValidationError
from threadstore.records import Page
from threadstore.store.cursors import CursorScope, Scalar
from threadstore.validation import INT64_MAX, check_id, check_int

__all__ = [
    "THREAD_ORDERS",
    "KeysetPage",
    "Kind",
    "PageRequest",
    "ThreadOrder",
    "ThreadSort",
    "page_limit",
    "page_request",
    "thread_sort",
]

_R = TypeVar("_R")

Kind = Literal["time", "id", "int"]
"""What a position value is: a timestamp, an identifier or a 64-bit integer."""

_JSON_TYPE: dict[Kind, type] = {"time": str, "id": str, "int": int}

ThreadOrder = Literal["created", "updated"]
"""How ``list_threads_page`` orders threads: by creation (stable) or by last update."""
ThreadSort = Literal["created_at", "updated_at"]
"""The thread field a :data:`ThreadOrder` sorts by."""
THREAD_ORDERS: dict[str, ThreadSort] = {"created": "created_at", "updated": "updated_at"}


@dataclass(frozen=True)
class KeysetPage:
    """What a repository reads: rows strictly after ``after`` in the listing's order.

    ``after`` holds the sort values of the previous page's last row
    (datetimes for timestamps), None for the first page; ``limit`` None
    means no limit.
    """

    limit: int | None
    descending: bool
    after: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class PageRequest:
    """A checked page request: the cursor's scope, the page size and what to read."""

    scope: CursorScope
    limit: int
    read: KeysetPage

    def page(self, rows: list[_R], key: Callable[[_R], Sequence[str | int]]) -> Page[_R]:
        """The page of ``rows`` (read with ``self.read``); ``key`` gives a row's position."""
        items = rows[: self.limit]
        more = len(rows) > self.limit
        return {"items": items, "next_cursor": self.scope.encode(key(items[-1])) if more else None}


def page_limit(limit: object) -> int:
    """Check a page size: at least 1 (a page of nothing has no next page)."""
    return check_int("limit", limit, minimum=1, maximum=INT64_MAX - 1)


def _value(scope: CursorScope, kind: Kind, value: str | int) -> Any:
    try:
        if kind == "time":
            assert isinstance(value, str)
            moment = parse_iso(value)
            if isoformat(moment) != value:  # only the exact form records carry
                raise ValueError(value)
            return moment
        if kind == "id":
            return check_id("cursor position", value)
        return check_int("cursor position", value)
    except ValueError as exc:  # ValidationError is a ValueError too
        raise scope.bad_position() from exc


def page_request(
    method: str,
    order: str,
    filters: Mapping[str, Scalar],
    *,
    limit: object,
    cursor: object,
    kinds: Sequence[Kind],
    descending: bool,
) -> PageRequest:
    """Check a listing's limit and cursor and say what to read.

    Args:
        method: The public method; a cursor works only with the method that made it.
        order: The listing's order (part of what the cursor is made for).
        filters: Every filter of the call, None included, and the view's user.
        limit: The page size.
        cursor: The previous page's ``next_cursor``, or None for the first page.
        kinds: What each value of the listing's sort key is.
        descending: Whether the listing reads its key from high to low.

    Raises:
        ValidationError: a bad limit, or a cursor that is malformed or was
            made for another method, order or filters.
    """
    size = page_limit(limit)
    scope = CursorScope(method, order, filters)
    # a first page decodes nothing
    position = None if cursor is None else scope.decode(cursor, [_JSON_TYPE[k] for k in kinds])
    after = (
        None
        if position is None
        else tuple(_value(scope, kind, value) for kind, value in zip(kinds, position, strict=True))
    )
    return PageRequest(scope, size, KeysetPage(size + 1, descending, after))


def thread_sort(order: object) -> ThreadSort:
    """Check ``list_threads_page``'s ``order``; return the field it sorts by."""
    if not isinstance(order, str) or order not in THREAD_ORDERS:
        raise ValidationError(
            f"order must be 'created' or 'updated', got {order!r}",
            suggestion="Use order='created' (stable under updates: a walk never skips or "
            "repeats a thread) or order='updated' (most recently active first).",
        )
    return THREAD_ORDERS[order]
