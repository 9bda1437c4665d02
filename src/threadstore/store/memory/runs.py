"""Invocation logs, tool calls, log analyses and optimization runs in a MemoryStore."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar, cast

from threadstore.clock import isoformat
from threadstore.errors import DuplicateRecordError
from threadstore.records import (
    InvocationLogRecord,
    LogAnalysisRecord,
    OptimizationRunRecord,
    ToolCallRecord,
)
from threadstore.store.memory.state import copied
from threadstore.store.run_inputs import (
    AnalysisInput,
    InvocationInput,
    LogFilter,
    OptimizationInput,
)
from threadstore.store.scoping import refuse_agent_records
from threadstore.store.tool_inputs import ToolCallInput, ToolCallQuery

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryRuns", "MemoryToolCalls", "log_matches", "tool_call_matches"]

_R = TypeVar("_R")


def _newest(records: Iterable[_R], time: str, limit: int, offset: int) -> list[_R]:
    """Newest first by (time, id), then the page, as copies."""
    ordered = sorted(records, key=lambda r: (cast(Any, r)[time], cast(Any, r)["id"]), reverse=True)
    return copied(ordered[offset : offset + limit])


def log_matches(where: LogFilter, owner: str | None) -> Callable[[InvocationLogRecord], bool]:
    """Whether a run passes list/count_invocation_logs' filters (and the view's owner)."""
    wanted = [
        (key, value)
        for key, value in (
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
    return lambda record: all(cast(Any, record)[key] == value for key, value in wanted)


def tool_call_matches(query: ToolCallQuery, owner: str | None) -> Callable[[ToolCallRecord], bool]:
    """Whether a tool call passes query_tool_calls' filters (and the view's owner)."""
    wanted = [
        (key, value)
        for key, value in (
            ("agent_name", query.agent_name),
            ("tool_name", query.tool_name),
            ("thread_id", query.thread_id),
            ("run_id", query.run_id),
            ("user_id", query.user_id),
            ("user_id", owner),
            ("approval", query.approval),
            ("is_error", query.is_error),
        )
        if value is not None
    ]
    after = None if query.created_after is None else isoformat(query.created_after)
    before = None if query.created_before is None else isoformat(query.created_before)

    def matches(record: ToolCallRecord) -> bool:
        if not all(cast(Any, record)[key] == value for key, value in wanted):
            return False
        if query.has_approval is not None and (record["approval"] is None) == query.has_approval:
            return False
        if after is not None and not record["created_at"] > after:
            return False
        return before is None or record["created_at"] < before

    return matches


class MemoryRuns:
    """See :class:`~threadstore.store.ports.RunRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._state = unit.state

    def _put(self, table: dict[str, Any], record: dict[str, Any], what: str) -> None:
        if record["id"] in table:
            raise DuplicateRecordError(f"{what} {record['id']!r} already exists")
        self._unit.journal.put(table, record["id"], record)

    async def create_log(self, args: InvocationInput, user_id: str | None) -> InvocationLogRecord:
        """See :meth:`RunRepository.create_log`."""
        row = args.row(user_id, self._unit.stamp())
        record = cast(InvocationLogRecord, {**row, "resource_name": args.agent_name})
        self._put(cast(Any, self._state.invocation_logs), cast(Any, record), "invocation log")
        return copied(record)

    async def get_log(self, log_id: str) -> InvocationLogRecord | None:
        """See :meth:`RunRepository.get_log`."""
        record = self._state.invocation_logs.get(log_id)
        owner = self._unit.owner
        if record is None or (owner is not None and record["user_id"] != owner):
            return None
        return copied(record)

    def _logs(self, where: LogFilter) -> list[InvocationLogRecord]:
        matches = log_matches(where, self._unit.owner)
        return [r for r in self._state.invocation_logs.values() if matches(r)]

    async def find_logs(
        self, where: LogFilter, limit: int, offset: int
    ) -> list[InvocationLogRecord]:
        """See :meth:`RunRepository.find_logs`."""
        return _newest(self._logs(where), "timestamp", limit, offset)

    async def count_logs(self, where: LogFilter) -> int:
        """See :meth:`RunRepository.count_logs`."""
        return len(self._logs(where))

    async def save_analysis(self, args: AnalysisInput) -> LogAnalysisRecord:
        """See :meth:`RunRepository.save_analysis`."""
        refuse_agent_records(self._unit.owner, "log analyses")
        fields = asdict(args)
        fields["id"] = fields.pop("analysis_id")
        record = cast(
            LogAnalysisRecord,
            {**fields, "resource_name": args.agent_name, "created_at": self._unit.stamp()},
        )
        self._put(cast(Any, self._state.log_analyses), cast(Any, record), "log analysis")
        return copied(record)

    async def find_analyses(
        self, agent_name: str | None, resource_type: str | None, limit: int, offset: int
    ) -> list[LogAnalysisRecord]:
        """See :meth:`RunRepository.find_analyses`."""
        if self._unit.owner is not None:
            return []
        records = [
            r
            for r in self._state.log_analyses.values()
            if (agent_name is None or r["agent_name"] == agent_name)
            and (resource_type is None or r["resource_type"] == resource_type)
        ]
        return _newest(records, "created_at", limit, offset)

    async def create_optimization(self, args: OptimizationInput) -> OptimizationRunRecord:
        """See :meth:`RunRepository.create_optimization`."""
        refuse_agent_records(self._unit.owner, "optimization runs")
        fields = asdict(args)
        fields["id"] = fields.pop("run_id")
        record = cast(OptimizationRunRecord, {**fields, "created_at": self._unit.stamp()})
        self._put(cast(Any, self._state.optimization_runs), cast(Any, record), "optimization run")
        return copied(record)

    async def get_optimization(self, run_id: str) -> OptimizationRunRecord | None:
        """See :meth:`RunRepository.get_optimization`."""
        record = self._state.optimization_runs.get(run_id)
        return None if record is None or self._unit.owner is not None else copied(record)

    async def find_optimizations(
        self, agent_name: str | None, experiment_id: str | None, limit: int, offset: int
    ) -> list[OptimizationRunRecord]:
        """See :meth:`RunRepository.find_optimizations`."""
        if self._unit.owner is not None:
            return []
        records = [
            r
            for r in self._state.optimization_runs.values()
            if (agent_name is None or r["agent_name"] == agent_name)
            and (experiment_id is None or r["experiment_id"] == experiment_id)
        ]
        return _newest(records, "created_at", limit, offset)


class MemoryToolCalls:
    """See :class:`~threadstore.store.ports.ToolCallRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit

    async def record(self, args: ToolCallInput, user_id: str | None) -> ToolCallRecord:
        """See :meth:`ToolCallRepository.record`."""
        state = self._unit.state
        if args.tool_call_id in state.tool_calls:
            raise DuplicateRecordError(f"tool call {args.tool_call_id!r} already exists")
        record = cast(ToolCallRecord, args.row(user_id, self._unit.stamp()))
        self._unit.journal.put(state.tool_calls, args.tool_call_id, record)
        return copied(record)

    async def query(self, query: ToolCallQuery) -> list[ToolCallRecord]:
        """See :meth:`ToolCallRepository.query`."""
        matches = tool_call_matches(query, self._unit.owner)
        records = [r for r in self._unit.state.tool_calls.values() if matches(r)]
        return _newest(records, "created_at", query.limit, query.offset)
