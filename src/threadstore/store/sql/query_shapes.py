"""query_threads / query_messages statements built once per shape, every value a parameter.

A shape is which filters a call gives, its order and whether it starts after
a cursor: a handful per listing, so each statement is built (and compiled for
the driver, :mod:`.direct`) once, and a call only binds its values. The SQL
is what :mod:`.queries` builds per call for the same filters. Metadata
containment is a parameter on PostgreSQL (JSONB ``@>``); on SQLite its
document shapes the SQL (:mod:`.containment`), so it is added to the shape's
statement per call, and :class:`Shaped` says so (the statement is then found
by its cache key).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery
from threadstore.store.sql.containment import metadata_contains
from threadstore.store.sql.keyset import keyset_bound
from threadstore.store.sql.scoping import OWNER
from threadstore.store.sql.tables import messages, threads

__all__ = ["Shaped", "message_statement", "thread_statement"]


@dataclass(frozen=True, slots=True)
class Shaped:
    """A page's statement and parameters."""

    statement: Select[Any]
    params: dict[str, Any]
    per_call: bool
    """The statement was extended for this call (SQLite containment): no identity cache."""


_Compare = Callable[[Any, Any], ColumnElement[bool]]
_THREAD_BOUNDS: tuple[tuple[str, str, _Compare], ...] = (
    ("created_after", "created_at", operator.gt),
    ("created_before", "created_at", operator.lt),
    ("updated_after", "updated_at", operator.gt),
    ("updated_before", "updated_at", operator.lt),
)
_MESSAGE_BOUNDS: tuple[tuple[str, str, _Compare], ...] = (
    ("created_after", "timestamp", operator.gt),
    ("created_before", "timestamp", operator.lt),
)
_LIMIT = bindparam("limit", type_=BigInteger())


def _keyset(columns: list[Any], descending: bool, after: bool) -> tuple[list[Any], list[Any]]:
    """The keyset page with the cursor's values as ``after_0``, ``after_1``, ..."""
    values = [bindparam(f"after_{n}", type_=c.type) for n, c in enumerate(columns)]
    return keyset_bound(columns, descending, values if after else None)


def _given(query: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(query, name) for name in names if getattr(query, name) is not None}


def _common(owner: str | None, page: KeysetPage) -> dict[str, Any]:
    """The parameters every shape may bind: owner and limit."""
    params: dict[str, Any] = {"limit": page.limit}
    if owner is not None:
        params["owner"] = owner
    return params


def _finish(
    dialect: str,
    table: Any,
    build: Callable[[frozenset[str]], Select[Any]],
    query: Any,
    params: dict[str, Any],
) -> Shaped:
    """The shape's statement; metadata containment bound (PostgreSQL) or added (SQLite)."""
    needle = query.metadata_contains
    if needle is None or dialect != "postgresql":
        statement = build(frozenset(params))
        if needle is None:
            return Shaped(statement, params, per_call=False)
        condition = metadata_contains(dialect, table.c.metadata, needle)
        return Shaped(statement.where(condition), params, per_call=True)
    params["metadata_contains"] = dict(needle)
    return Shaped(build(frozenset(params)), params, per_call=False)


def _equal(table: Any, names: tuple[str, ...], shape: frozenset[str]) -> list[Any]:
    """``column = :name`` for each of ``names`` the shape binds."""
    return [table.c[n] == bindparam(n, type_=table.c[n].type) for n in names if n in shape]


def _bounds(
    table: Any, bounds: tuple[tuple[str, str, _Compare], ...], shape: frozenset[str]
) -> list[Any]:
    """The exclusive time bounds the shape binds (``created_at > :created_after``, ...)."""
    return [
        compare(table.c[column], bindparam(name, type_=table.c[column].type))
        for name, column, compare in bounds
        if name in shape
    ]


def _contains(column: Any) -> ColumnElement[bool]:
    return type_coerce(column, JSONB).contains(bindparam("metadata_contains", type_=JSONB))


def thread_statement(
    dialect: str, query: ThreadQuery, sort: ThreadSort, page: KeysetPage, owner: str | None
) -> Shaped:
    """The statement and parameters of a query_threads page."""
    names = ("user_id", "agent_name", *(name for name, _, _ in _THREAD_BOUNDS))
    params = _common(owner, page) | _given(query, names)
    if page.after is not None:
        params |= {f"after_{n}": value for n, value in enumerate(page.after)}
    return _finish(
        dialect, threads, lambda shape: _threads(sort, page.descending, shape), query, params
    )


@functools.cache
def _threads(sort: ThreadSort, descending: bool, shape: frozenset[str]) -> Select[Any]:
    c = threads.c
    where: list[Any] = [c.user_id == OWNER] if "owner" in shape else []
    where += _equal(threads, ("user_id", "agent_name"), shape)
    where += _bounds(threads, _THREAD_BOUNDS, shape)
    if "metadata_contains" in shape:
        where.append(_contains(c.metadata))
    bound, order = _keyset([c[sort], c.id], descending, "after_0" in shape)
    return select(threads).where(*where, *bound).order_by(*order).limit(_LIMIT)


def message_statement(
    dialect: str, query: MessageQuery, page: KeysetPage, owner: str | None
) -> Shaped:
    """The statement and parameters of a query_messages page."""
    names = ("thread_id", "role", "user_id", "agent_name", "created_after", "created_before")
    params = _common(owner, page) | _given(query, names)
    if page.after is not None:
        # within one thread the key is (timestamp, seq): its thread id is fixed
        after = page.after if query.thread_id is None else (page.after[0], page.after[2])
        params |= {f"after_{n}": value for n, value in enumerate(after)}
    return _finish(
        dialect, messages, lambda shape: _messages(page.descending, shape), query, params
    )


@functools.cache
def _messages(descending: bool, shape: frozenset[str]) -> Select[Any]:
    c, t = messages.c, threads.c
    where = _equal(messages, ("thread_id", "role"), shape)
    owners: list[Any] = [t.user_id == OWNER] if "owner" in shape else []
    owners += _equal(threads, ("user_id", "agent_name"), shape)
    if owners:
        where.append(c.thread_id.in_(select(t.id).where(*owners)))
    where += _bounds(messages, _MESSAGE_BOUNDS, shape)
    if "metadata_contains" in shape:
        where.append(_contains(c.metadata))
    keys = [c.timestamp, c.seq] if "thread_id" in shape else [c.timestamp, c.thread_id, c.seq]
    bound, order = _keyset(keys, descending, "after_0" in shape)
    return select(messages).where(*where, *bound).order_by(*order).limit(_LIMIT)
