"""A keyset page as SQL: one row-value comparison and the matching ORDER BY.

``(a, b) > (:a, :b)`` is a range of an index on ``(..., a, b)`` on SQLite
and PostgreSQL alike, so a page costs the rows it returns, however deep in
the listing it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal, tuple_

from threadstore.store.paging import KeysetPage

__all__ = ["keyset", "keyset_bound"]


def keyset(
    columns: Sequence[ColumnElement[Any]], page: KeysetPage
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    """The WHERE conditions and ORDER BY clauses reading ``page`` of ``columns``' order."""
    after = None
    if page.after is not None:
        after = [literal(v, c.type) for c, v in zip(columns, page.after, strict=True)]
    return keyset_bound(columns, page.descending, after)


def keyset_bound(
    columns: Sequence[ColumnElement[Any]],
    descending: bool,
    after: Sequence[ColumnElement[Any]] | None,
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    """:func:`keyset` with the cursor's values given as SQL (literals, or parameters)."""
    order: list[ColumnElement[Any]] = [
        column.desc() if descending else column.asc() for column in columns
    ]
    if after is None:
        return [], order
    mine, theirs = tuple_(*columns), tuple_(*after)
    return [mine < theirs if descending else mine > theirs], order
