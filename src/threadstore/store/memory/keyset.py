"""A keyset page over a MemoryStore's records, in the order SQL reads them.

Records hold timestamps as fixed-width ISO-8601 text and ids as str or int,
so comparing ``(timestamp, id)`` tuples orders them exactly as SQL orders
``(timestamp, id)`` (identifiers compare byte-wise there: "C" collation on
PostgreSQL, BINARY on SQLite, i.e. by code point as Python does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from threadstore.clock import isoformat
from threadstore.store.paging import KeysetPage

__all__ = ["keyset"]

_R = TypeVar("_R")


def keyset(rows: Iterable[_R], key: Callable[[_R], tuple[Any, ...]], page: KeysetPage) -> list[_R]:
    """The rows of ``page``: after its position in ``key`` order, at most its limit."""
    ordered = sorted(rows, key=key, reverse=page.descending)
    if page.after is not None:
        after = tuple(isoformat(v) if isinstance(v, datetime) else v for v in page.after)
        ordered = [
            row for row in ordered if (key(row) < after if page.descending else key(row) > after)
        ]
    return ordered if page.limit is None else ordered[: page.limit]
