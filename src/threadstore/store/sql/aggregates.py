"""aggregate_stats in SQL: five GROUP BY statements, one per entity, over indexed ranges.

The only dialect difference is how a timestamp becomes its day or hour:
:func:`bucket_start` (``strftime`` on SQLite, ``date_trunc`` at UTC on
PostgreSQL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, literal_column, select

from threadstore.store.aggregates import StatsGroups, bucket_label
from threadstore.store.sql.run_tables import invocation_logs, tool_calls
from threadstore.store.sql.tables import feedback, messages, threads
from threadstore.store.tool_inputs import StatsQuery

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlStats", "bucket_start"]

_SQLITE_FORMATS = {"day": "'%Y-%m-%d 00:00:00'", "hour": "'%Y-%m-%d %H:00:00'"}


def bucket_start(dialect: str, column: Any, bucket: str) -> ColumnElement[Any]:
    """The start of the day or hour (UTC) holding ``column``'s timestamp.

    Constants are inlined (``bucket`` is checked to be ``day`` or ``hour``), so
    the expression is textually the same in SELECT and GROUP BY.
    """
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), column)
        return func.date_trunc(literal_column(f"'{bucket}'"), utc)
    return func.strftime(literal_column(_SQLITE_FORMATS[bucket]), column)


def _in_range(column: Any, query: StatsQuery) -> list[ColumnElement[bool]]:
    found = []
    if query.since is not None:
        found.append(column >= query.since)
    if query.until is not None:
        found.append(column < query.until)
    return found


def _total(column: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column), 0)


class SqlStats:
    """See :class:`~threadstore.store.ports.StatsRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    def _thread_conditions(self, query: StatsQuery) -> list[ColumnElement[bool]]:
        found = [
            threads.c[name] == value
            for name, value in (
                ("agent_name", query.agent_name),
                ("user_id", query.user_id),
                ("user_id", self._unit.owner),
            )
            if value is not None
        ]
        return found

    def _owned(self, column: Any, query: StatsQuery) -> list[ColumnElement[bool]]:
        """Rows of the runs/tool-calls tables: their own agent and owner columns."""
        table = column.table
        return [
            table.c[name] == value
            for name, value in (
                ("agent_name", query.agent_name),
                ("user_id", query.user_id),
                ("user_id", self._unit.owner),
            )
            if value is not None
        ]

    async def _grouped(
        self, query: StatsQuery, time: Any, columns: list[Any], keys: list[Any], where: list[Any]
    ) -> list[tuple[Any, ...]]:
        """Run one GROUP BY ``keys`` (and the bucket); rows start with the bucket label."""
        if query.bucket is not None:
            bucket = bucket_start(self._unit.ctx.dialect, time, query.bucket).label("bucket")
            keys = [bucket, *keys]
        statement = (
            select(*keys, *columns).select_from(time.table).where(*where, *_in_range(time, query))
        )
        if keys:
            statement = statement.group_by(*keys)
        rows = [tuple(row.values()) for row in await self._unit.fetch(statement, per_call=True)]
        if query.bucket is None:
            return [(None, *row) for row in rows]
        return [(bucket_label(row[0]), *row[1:]) for row in rows]

    async def groups(self, query: StatsQuery) -> StatsGroups:
        """See :meth:`StatsRepository.groups`."""
        found = StatsGroups()
        thread_where = self._thread_conditions(query)
        of_threads = select(threads.c.id).where(*thread_where)
        rows = await self._grouped(query, threads.c.created_at, [func.count()], [], thread_where)
        found.threads = [(label, int(count)) for label, count in rows if count]
        message_where = [messages.c.thread_id.in_(of_threads)] if thread_where else []
        rows = await self._grouped(
            query, messages.c.timestamp, [func.count()], [messages.c.role], message_where
        )
        found.messages = [(label, role, int(count)) for label, role, count in rows]
        owners = [threads.c.user_id == v for v in (query.user_id, self._unit.owner) if v]
        feedback_where: list[ColumnElement[bool]] = []
        if owners:
            feedback_where.append(feedback.c.thread_id.in_(select(threads.c.id).where(*owners)))
        if query.agent_name is not None:
            feedback_where.append(feedback.c.agent_name == query.agent_name)
        rows = await self._grouped(
            query,
            feedback.c.created_at,
            [func.count(), func.count(feedback.c.rating), _total(feedback.c.rating)],
            [],
            feedback_where,
        )
        found.feedback = [(row[0], int(row[1]), int(row[2]), int(row[3])) for row in rows if row[1]]
        logs = invocation_logs.c
        rows = await self._grouped(
            query,
            logs.timestamp,
            [
                func.count(),
                _total(logs.input_tokens),
                _total(logs.output_tokens),
                _total(logs.cost),
            ],
            [logs.status],
            self._owned(logs.id, query),
        )
        found.runs = [
            (label, status, int(count), int(tokens_in), int(tokens_out), float(cost))
            for label, status, count, tokens_in, tokens_out, cost in rows
        ]
        calls = tool_calls.c
        rows = await self._grouped(
            query,
            calls.created_at,
            [func.count()],
            [calls.tool_name, calls.is_error],
            self._owned(calls.id, query),
        )
        found.tool_calls = [
            (label, tool, bool(is_error), int(count)) for label, tool, is_error, count in rows
        ]
        return found
