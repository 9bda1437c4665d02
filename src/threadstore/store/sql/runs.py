"""Invocation logs, log analyses and optimization runs in SQL."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, func, insert, select

from threadstore.records import InvocationLogRecord, LogAnalysisRecord, OptimizationRunRecord
from threadstore.store.run_inputs import (
    AnalysisInput,
    InvocationInput,
    LogFilter,
    OptimizationInput,
)
from threadstore.store.scoping import refuse_agent_records
from threadstore.store.sql.run_tables import (
    analysis_record,
    invocation_logs,
    log_analyses,
    log_record,
    optimization_record,
    optimization_runs,
)

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlRuns", "log_conditions"]


def log_conditions(where: LogFilter, owner: str | None) -> list[ColumnElement[bool]]:
    """The WHERE of list/count_invocation_logs (and the view's owner)."""
    table = invocation_logs
    conditions = [
        table.c[name] == value
        for name, value in (
            ("agent_name", where.agent_name),
            ("resource_type", where.resource_type),
            ("thread_id", where.thread_id),
            ("status", where.status),
            ("endpoint", where.endpoint),
            ("user_id", where.user_id),
            ("user_id", owner),
        )
        if value is not None
    ]
    return conditions


def _newest(table: Table, time: str, conditions: list[ColumnElement[bool]]) -> Any:
    return select(table).where(*conditions).order_by(table.c[time].desc(), table.c.id.desc())


class SqlRuns:
    """See :class:`~threadstore.store.ports.RunRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def _insert(self, table: Table, values: dict[str, Any], what: str) -> None:
        await self._unit.execute(insert(table), values, write=True, duplicate=what)

    async def create_log(self, args: InvocationInput, user_id: str | None) -> InvocationLogRecord:
        """See :meth:`RunRepository.create_log`."""
        values = args.row(user_id, self._unit.ctx.clock())
        await self._insert(invocation_logs, values, f"invocation log {args.log_id!r}")
        return log_record(values)

    async def get_log(self, log_id: str) -> InvocationLogRecord | None:
        """See :meth:`RunRepository.get_log`."""
        owned = [] if self._unit.owner is None else [invocation_logs.c.user_id == self._unit.owner]
        query = select(invocation_logs).where(invocation_logs.c.id == log_id, *owned)
        row = (await self._unit.execute(query)).mappings().first()
        return None if row is None else log_record(row)

    async def find_logs(
        self, where: LogFilter, limit: int, offset: int
    ) -> list[InvocationLogRecord]:
        """See :meth:`RunRepository.find_logs`."""
        conditions = log_conditions(where, self._unit.owner)
        query = _newest(invocation_logs, "timestamp", conditions).limit(limit).offset(offset)
        rows = (await self._unit.execute(query)).mappings().all()
        return [log_record(row) for row in rows]

    async def count_logs(self, where: LogFilter) -> int:
        """See :meth:`RunRepository.count_logs`."""
        conditions = log_conditions(where, self._unit.owner)
        query = select(func.count()).select_from(invocation_logs).where(*conditions)
        return int((await self._unit.execute(query)).scalar_one())

    async def save_analysis(self, args: AnalysisInput) -> LogAnalysisRecord:
        """See :meth:`RunRepository.save_analysis`."""
        refuse_agent_records(self._unit.owner, "log analyses")
        values = asdict(args)
        values["id"] = values.pop("analysis_id")
        values["created_at"] = self._unit.ctx.clock()
        await self._insert(log_analyses, values, f"log analysis {args.analysis_id!r}")
        return analysis_record(values)

    async def find_analyses(
        self, agent_name: str | None, resource_type: str | None, limit: int, offset: int
    ) -> list[LogAnalysisRecord]:
        """See :meth:`RunRepository.find_analyses`."""
        if self._unit.owner is not None:
            return []
        conditions = [
            log_analyses.c[name] == value
            for name, value in (("agent_name", agent_name), ("resource_type", resource_type))
            if value is not None
        ]
        query = _newest(log_analyses, "created_at", conditions).limit(limit).offset(offset)
        rows = (await self._unit.execute(query)).mappings().all()
        return [analysis_record(row) for row in rows]

    async def create_optimization(self, args: OptimizationInput) -> OptimizationRunRecord:
        """See :meth:`RunRepository.create_optimization`."""
        refuse_agent_records(self._unit.owner, "optimization runs")
        values = asdict(args)
        values["id"] = values.pop("run_id")
        values["created_at"] = self._unit.ctx.clock()
        await self._insert(optimization_runs, values, f"optimization run {args.run_id!r}")
        return optimization_record(values)

    async def get_optimization(self, run_id: str) -> OptimizationRunRecord | None:
        """See :meth:`RunRepository.get_optimization`."""
        if self._unit.owner is not None:
            return None
        query = select(optimization_runs).where(optimization_runs.c.id == run_id)
        row = (await self._unit.execute(query)).mappings().first()
        return None if row is None else optimization_record(row)

    async def find_optimizations(
        self, agent_name: str | None, experiment_id: str | None, limit: int, offset: int
    ) -> list[OptimizationRunRecord]:
        """See :meth:`RunRepository.find_optimizations`."""
        if self._unit.owner is not None:
            return []
        conditions = [
            optimization_runs.c[name] == value
            for name, value in (("agent_name", agent_name), ("experiment_id", experiment_id))
            if value is not None
        ]
        query = _newest(optimization_runs, "created_at", conditions).limit(limit).offset(offset)
        rows = (await self._unit.execute(query)).mappings().all()
        return [optimization_record(row) for row in rows]
