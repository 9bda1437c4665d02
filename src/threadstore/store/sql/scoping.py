"""Where a user-scoped view's owner becomes SQL: the predicates every repository applies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, String, bindparam, select

from threadstore.errors import ThreadNotFoundError
from threadstore.store.sql.tables import threads

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = [
    "OWNER",
    "owned_by_param",
    "owned_thread_ids",
    "require_owned_thread",
    "thread_owned",
    "threads_owned",
]


def owned_thread_ids(owner: str) -> Select[Any]:
    """The ids of the owner's threads (an index range of ``user_id``)."""
    return select(threads.c.id).where(threads.c.user_id == owner)


async def require_owned_thread(unit: SqlUnit, thread_id: str) -> None:
    """ThreadNotFoundError unless the unit is unscoped or the thread is its owner's."""
    if unit.owner is None:
        return
    query = select(threads.c.id).where(threads.c.id == thread_id, threads.c.user_id == unit.owner)
    if (await unit.execute(query)).first() is None:
        raise ThreadNotFoundError(thread_id)


def thread_owned(column: Any, owner: str | None) -> list[ColumnElement[bool]]:
    """Conditions keeping rows whose thread id ``column`` is the owner's (none if unscoped)."""
    if owner is None:
        return []
    return [column.in_(owned_thread_ids(owner))]


OWNER = bindparam("owner", type_=String())
"""The owner as a parameter, in statements built once per shape (see :func:`owned_by_param`)."""


def owned_by_param(column: Any) -> ColumnElement[bool]:
    """Rows whose thread id ``column`` is a thread of the ``owner`` parameter."""
    condition: ColumnElement[bool] = column.in_(
        select(threads.c.id).where(threads.c.user_id == OWNER)
    )
    return condition


def threads_owned(owner: str | None) -> list[ColumnElement[bool]]:
    """Conditions keeping thread rows of the owner (none if unscoped)."""
    return [] if owner is None else [threads.c.user_id == owner]
