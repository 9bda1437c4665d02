"""Filtered queries over threads and messages in SQL: one indexed SELECT each.

Threads read a keyset range of ``(updated_at|created_at, id)``, through the
``(user_id, ...)`` or ``(agent_name, ...)`` index when one of those is given.
Messages read ``(timestamp, thread_id, seq)``: within one thread a range of
``(thread_id, timestamp, seq)``; per agent or user the message rows of that
user's or agent's threads (an ``IN`` over the threads' index). Metadata
containment is a condition of the same statement (see :mod:`.containment`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, select

from threadstore.records import InvocationLogRecord, MessageRecord, ThreadRecord, ToolCallRecord
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery
from threadstore.store.run_inputs import LogFilter
from threadstore.store.sql.containment import metadata_contains
from threadstore.store.sql.keyset import keyset
from threadstore.store.sql.run_tables import (
    invocation_logs,
    log_record,
    tool_call_record,
    tool_calls,
)
from threadstore.store.sql.runs import log_conditions
from threadstore.store.sql.scoping import threads_owned
from threadstore.store.sql.tables import message_record, messages, thread_record, threads
from threadstore.store.sql.tool_calls import tool_call_conditions
from threadstore.store.tool_inputs import ToolCallQuery

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlQueries"]


def _between(
    column: Any, after: datetime | None, before: datetime | None
) -> list[ColumnElement[bool]]:
    """Exclusive time bounds on ``column``."""
    bounds: list[ColumnElement[bool]] = []
    if after is not None:
        bounds.append(column > after)
    if before is not None:
        bounds.append(column < before)
    return bounds


def _equal(*pairs: tuple[Any, str | None]) -> list[ColumnElement[bool]]:
    return [column == value for column, value in pairs if value is not None]


class SqlQueries:
    """See :class:`~threadstore.store.ports_query.QueryRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    def _contains(self, column: Any, needle: dict[str, Any] | None) -> list[ColumnElement[bool]]:
        if needle is None:
            return []
        return [metadata_contains(self._unit.ctx.dialect, column, needle)]

    async def threads(
        self, query: ThreadQuery, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """See :meth:`QueryRepository.threads`."""
        c = threads.c
        where, order = keyset([c[sort], c.id], page)
        statement = (
            select(threads)
            .where(
                *threads_owned(self._unit.owner),
                *_equal((c.user_id, query.user_id), (c.agent_name, query.agent_name)),
                *_between(c.created_at, query.created_after, query.created_before),
                *_between(c.updated_at, query.updated_after, query.updated_before),
                *self._contains(c.metadata, query.metadata_contains),
                *where,
            )
            .order_by(*order)
            .limit(page.limit)
        )
        rows = await self._unit.fetch(statement, per_call=True)
        return [thread_record(row) for row in rows]

    async def messages(self, query: MessageQuery, page: KeysetPage) -> list[MessageRecord]:
        """See :meth:`QueryRepository.messages`."""
        c = messages.c
        if query.thread_id is not None:
            # One thread: a range of (thread_id, timestamp, seq); its id is fixed.
            after = None if page.after is None else (page.after[0], page.after[2])
            within = KeysetPage(page.limit, page.descending, after)
            where, order = keyset([c.timestamp, c.seq], within)
        else:
            where, order = keyset([c.timestamp, c.thread_id, c.seq], page)
        owners = [
            *threads_owned(self._unit.owner),
            *_equal((threads.c.user_id, query.user_id), (threads.c.agent_name, query.agent_name)),
        ]
        statement = (
            select(messages)
            .where(
                *_equal((c.thread_id, query.thread_id), (c.role, query.role)),
                *([c.thread_id.in_(select(threads.c.id).where(*owners))] if owners else []),
                *_between(c.timestamp, query.created_after, query.created_before),
                *self._contains(c.metadata, query.metadata_contains),
                *where,
            )
            .order_by(*order)
            .limit(page.limit)
        )
        rows = await self._unit.fetch(statement, per_call=True)
        return [message_record(row) for row in rows]

    async def tool_calls(self, query: ToolCallQuery, page: KeysetPage) -> list[ToolCallRecord]:
        """See :meth:`QueryRepository.tool_calls`; a range of ``(filter, created_at, id)``."""
        where, order = keyset([tool_calls.c.created_at, tool_calls.c.id], page)
        conditions = tool_call_conditions(query, self._unit.owner)
        statement = select(tool_calls).where(*conditions, *where).order_by(*order).limit(page.limit)
        rows = await self._unit.fetch(statement, per_call=True)
        return [tool_call_record(row) for row in rows]

    async def invocation_logs(
        self, where: LogFilter, page: KeysetPage
    ) -> list[InvocationLogRecord]:
        """See :meth:`QueryRepository.invocation_logs`; a range of ``(filter, timestamp, id)``."""
        table = invocation_logs
        after, order = keyset([table.c.timestamp, table.c.id], page)
        conditions = log_conditions(where, self._unit.owner)
        statement = select(table).where(*conditions, *after).order_by(*order).limit(page.limit)
        rows = await self._unit.fetch(statement, per_call=True)
        return [log_record(row) for row in rows]
