"""Tool calls in SQL: one INSERT per call, one indexed SELECT per query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, insert, select

from threadstore.records import ToolCallRecord
from threadstore.store.sql.run_tables import tool_call_record, tool_calls
from threadstore.store.tool_inputs import ToolCallInput, ToolCallQuery

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlToolCalls", "tool_call_conditions"]


def tool_call_conditions(query: ToolCallQuery, owner: str | None) -> list[ColumnElement[bool]]:
    """The WHERE of query_tool_calls (and the view's owner)."""
    c = tool_calls.c
    conditions = [
        c[name] == value
        for name, value in (
            ("agent_name", query.agent_name),
            ("tool_name", query.tool_name),
            ("thread_id", query.thread_id),
            ("run_id", query.run_id),
            ("user_id", query.user_id),
            ("user_id", owner),
            ("approval", query.approval),
        )
        if value is not None
    ]
    if query.is_error is not None:
        conditions.append(c.is_error.is_(query.is_error))
    if query.has_approval is not None:
        conditions.append(c.approval.is_not(None) if query.has_approval else c.approval.is_(None))
    if query.created_after is not None:
        conditions.append(c.created_at > query.created_after)
    if query.created_before is not None:
        conditions.append(c.created_at < query.created_before)
    return conditions


class SqlToolCalls:
    """See :class:`~threadstore.store.ports.ToolCallRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def record(self, args: ToolCallInput, user_id: str | None) -> ToolCallRecord:
        """See :meth:`ToolCallRepository.record`."""
        values = args.row(user_id, self._unit.ctx.clock())
        duplicate = f"tool call {args.tool_call_id!r}"
        await self._unit.execute(insert(tool_calls), values, write=True, duplicate=duplicate)
        return tool_call_record(values)

    async def query(self, query: ToolCallQuery) -> list[ToolCallRecord]:
        """See :meth:`ToolCallRepository.query`; newest first by (created_at, id)."""
        statement = (
            select(tool_calls)
            .where(*tool_call_conditions(query, self._unit.owner))
            .order_by(tool_calls.c.created_at.desc(), tool_calls.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        rows = (await self._unit.execute(statement)).mappings().all()
        return [tool_call_record(row) for row in rows]
