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

__all__ = ["keyset"]


def keyset(
    columns: Sequence[ColumnElement[Any]], page: KeysetPage
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    """The WHERE conditions and ORDER BY clauses reading ``page`` of ``columns``' order."""
    order: list[ColumnElement[Any]] = [
        column.desc() if page.descending else column.asc() for column in columns
    ]
    if page.after is None:
        return [], order
    mine = tuple_(*columns)
    theirs = tuple_(
        *(literal(value, column.type) for column, value in zip(columns, page.after, strict=True))
    )
    return [mine < theirs if page.descending else mine > theirs], order
