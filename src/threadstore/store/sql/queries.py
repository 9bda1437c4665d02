"""Filtered queries over threads and messages in SQL: one indexed SELECT each.

Threads read a keyset range of ``(updated_at|created_at, id)``, through the
``(user_id, ...)`` or ``(agent_name, ...)`` index when one of those is given.
Messages read ``(timestamp, thread_id, seq)``: within one thread a range of
``(thread_id, timestamp, seq)``; per agent or user the message rows of that
user's or agent's threads (an ``IN`` over the threads' index). Metadata
containment is a condition of the same statement (see :mod:`.containment`).
Both are built once per shape (:mod:`.query_shapes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from threadstore.records import InvocationLogRecord, MessageRecord, ThreadRecord, ToolCallRecord
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery
from threadstore.store.run_inputs import LogFilter
from threadstore.store.sql.direct import RecordShape
from threadstore.store.sql.keyset import keyset
from threadstore.store.sql.query_shapes import message_statement, thread_statement
from threadstore.store.sql.run_tables import (
    invocation_logs,
    log_record,
    tool_call_record,
    tool_calls,
)
from threadstore.store.sql.runs import log_conditions
from threadstore.store.sql.tables import MESSAGE_RECORD, THREAD_RECORD
from threadstore.store.sql.tool_calls import tool_call_conditions
from threadstore.store.tool_inputs import ToolCallQuery

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlQueries"]


_TOOL_CALL = RecordShape(None, tool_call_record)
_LOG = RecordShape(None, log_record)


class SqlQueries:
    """See :class:`~threadstore.store.ports_query.QueryRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def threads(
        self, query: ThreadQuery, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """See :meth:`QueryRepository.threads`."""
        unit = self._unit
        shaped = thread_statement(unit.ctx.dialect, query, sort, page, unit.owner)
        return await unit.fetch_records(
            shaped.statement, shaped.params, THREAD_RECORD, per_call=shaped.per_call
        )

    async def messages(self, query: MessageQuery, page: KeysetPage) -> list[MessageRecord]:
        """See :meth:`QueryRepository.messages`."""
        unit = self._unit
        shaped = message_statement(unit.ctx.dialect, query, page, unit.owner)
        return await unit.fetch_records(
            shaped.statement, shaped.params, MESSAGE_RECORD, per_call=shaped.per_call
        )

    async def tool_calls(self, query: ToolCallQuery, page: KeysetPage) -> list[ToolCallRecord]:
        """See :meth:`QueryRepository.tool_calls`; a range of ``(filter, created_at, id)``."""
        where, order = keyset([tool_calls.c.created_at, tool_calls.c.id], page)
        conditions = tool_call_conditions(query, self._unit.owner)
        statement = select(tool_calls).where(*conditions, *where).order_by(*order).limit(page.limit)
        return await self._unit.fetch_records(statement, None, _TOOL_CALL, per_call=True)

    async def invocation_logs(
        self, where: LogFilter, page: KeysetPage
    ) -> list[InvocationLogRecord]:
        """See :meth:`QueryRepository.invocation_logs`; a range of ``(filter, timestamp, id)``."""
        table = invocation_logs
        after, order = keyset([table.c.timestamp, table.c.id], page)
        conditions = log_conditions(where, self._unit.owner)
        statement = select(table).where(*conditions, *after).order_by(*order).limit(page.limit)
        return await self._unit.fetch_records(statement, None, _LOG, per_call=True)
