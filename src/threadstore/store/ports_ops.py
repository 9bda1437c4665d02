"""What a backend supplies for runs, tool calls, aggregates, erasure and retention.

The repositories of :class:`~threadstore.store.ports.Unit` that work across
entities or on agent records; split from :mod:`threadstore.store.ports` by
size only. The ``*_KINDS`` tuples name the counts the maintenance calls return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from threadstore.records import (
    InvocationLogRecord,
    LogAnalysisRecord,
    OptimizationRunRecord,
    ToolCallRecord,
)
from threadstore.store.aggregates import StatsGroups
from threadstore.store.run_inputs import (
    AnalysisInput,
    InvocationInput,
    LogFilter,
    OptimizationInput,
)
from threadstore.store.tool_inputs import StatsQuery, ToolCallInput, ToolCallQuery

__all__ = [
    "ERASED_KINDS",
    "EXPIRED_KINDS",
    "PRUNED_KINDS",
    "THREAD_KINDS",
    "Counts",
    "MaintenanceRepository",
    "NamespaceKey",
    "RunRepository",
    "StatsRepository",
    "ToolCallRepository",
]

Counts = dict[str, int]
"""Rows per kind of record."""

THREAD_KINDS = (
    "threads",
    "messages",
    "feedback",
    "suspended_states",
    "checkpoints",
    "checkpoint_writes",
    "tool_calls",
    "forks_detached",
)
"""What deleting threads counts: rows per kind, and other threads' forks detached."""
ERASED_KINDS = (
    *THREAD_KINDS,
    "runs",
    "context_items",
    "topics",
    "permissions",
    "memory_items",
)
"""What erasing a user counts (``topics``: subscription rows; ``permissions``: agents).

``runs`` are the user's invocation logs; ``tool_calls`` also counts the user's
tool calls of no thread; ``memory_items`` the LangGraph long-term memory
items of the user's scope.
"""
PRUNED_KINDS = ("checkpoints", "checkpoint_writes")
"""What pruning checkpoints counts."""
EXPIRED_KINDS = ("suspended_states", "context_items", "memory_items")
"""What purging expired records counts."""


class RunRepository(Protocol):
    """Invocation logs (runs), log analyses and optimization runs.

    Runs are scoped by their ``user_id``; analyses and optimization runs are
    per agent, so a scoped unit sees none and may write none.
    """

    async def create_log(self, args: InvocationInput, user_id: str | None) -> InvocationLogRecord:
        """Insert a run owned by ``user_id``; DuplicateRecordError if the id exists."""

    async def get_log(self, log_id: str) -> InvocationLogRecord | None:
        """The run or None."""

    async def find_logs(
        self, where: LogFilter, limit: int, offset: int
    ) -> list[InvocationLogRecord]:
        """Runs newest first (timestamp, then id, descending)."""

    async def count_logs(self, where: LogFilter) -> int:
        """How many runs match."""

    async def save_analysis(self, args: AnalysisInput) -> LogAnalysisRecord:
        """Insert an analysis; DuplicateRecordError if the id exists."""

    async def find_analyses(
        self, agent_name: str | None, resource_type: str | None, limit: int, offset: int
    ) -> list[LogAnalysisRecord]:
        """Analyses newest first (created_at, then id, descending)."""

    async def create_optimization(self, args: OptimizationInput) -> OptimizationRunRecord:
        """Insert an optimization run; DuplicateRecordError if the id exists."""

    async def get_optimization(self, run_id: str) -> OptimizationRunRecord | None:
        """The optimization run or None."""

    async def find_optimizations(
        self, agent_name: str | None, experiment_id: str | None, limit: int, offset: int
    ) -> list[OptimizationRunRecord]:
        """Optimization runs newest first (created_at, then id, descending)."""


class ToolCallRepository(Protocol):
    """Tool calls, scoped by their ``user_id``."""

    async def record(self, args: ToolCallInput, user_id: str | None) -> ToolCallRecord:
        """Insert a tool call owned by ``user_id``; DuplicateRecordError if the id exists."""

    async def query(self, query: ToolCallQuery) -> list[ToolCallRecord]:
        """Tool calls newest first (created_at, then id, descending)."""


class StatsRepository(Protocol):
    """Grouped counts and sums for aggregate_stats."""

    async def groups(self, query: StatsQuery) -> StatsGroups:
        """Counts and sums per group (and bucket), computed by the backend."""


NamespaceKey = tuple[str, str]
"""(thread_id, checkpoint_ns): where a checkpoint pruning pass has reached."""


class MaintenanceRepository(Protocol):
    """Erasure and retention: set-based deletes across every entity.

    Each call is one batch of one unit; counts are deleted rows per kind
    (plus ``forks_detached``). A scoped unit acts on its owner's data only.
    """

    def now(self) -> datetime:
        """The unit's current time (the store's clock)."""

    async def erase_user(self, user_id: str) -> Counts:
        """Delete everything the user owns and the feedback the user gave; detach forks."""

    async def delete_idle(self, before: datetime, limit: int) -> Counts:
        """Delete up to ``limit`` threads updated before ``before``, with their children."""

    async def prune_checkpoints(
        self, keep_last: int, thread_id: str | None, after: NamespaceKey | None, limit: int
    ) -> tuple[Counts, NamespaceKey | None]:
        """Delete up to ``limit`` checkpoints beyond the newest ``keep_last`` per namespace.

        Namespaces are visited in key order from ``after`` (inclusive); returns
        the counts and the namespace reached, or None when nothing is left.
        """

    async def purge_expired(self, limit: int) -> Counts:
        """Delete up to ``limit`` expired suspended states and ``limit`` expired context items."""
