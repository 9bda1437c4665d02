"""What a backend supplies: a unit of work holding one repository per entity.

:class:`~threadstore.store.base.BaseStore` validates every argument, then calls
these methods inside a :class:`Unit`; repositories receive checked values and
only store and fetch. A unit is one call's storage context, or a whole
``store.transaction()`` block: its writes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    InvocationLogRecord,
    LogAnalysisRecord,
    MessageRecord,
    OptimizationRunRecord,
    SuspendedStateRecord,
    ThreadRecord,
    ToolCallRecord,
)
from threadstore.store.aggregates import StatsGroups
from threadstore.store.checkpoint_rows import CheckpointRows
from threadstore.store.context_inputs import ContextItemInput
from threadstore.store.inputs import (
    FeedbackInput,
    MessageInput,
    MessagePage,
    SuspendedInput,
    ThreadInput,
    ThreadUpdate,
)
from threadstore.store.paging import KeysetPage, ThreadSort
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
    "AgentRepository",
    "ApprovalRepository",
    "CheckpointRepository",
    "ContextRepository",
    "Counts",
    "FeedbackRepository",
    "MaintenanceRepository",
    "MessageRepository",
    "NamespaceKey",
    "RunRepository",
    "StatsRepository",
    "ThreadRepository",
    "ToolCallRepository",
    "Unit",
]

Counts = dict[str, int]
"""Rows per entity: threads, messages, feedback, suspended_states, checkpoints, context_items."""

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
ERASED_KINDS = (*THREAD_KINDS, "runs", "context_items", "topics", "permissions")
"""What erasing a user counts (``topics``: subscription rows; ``permissions``: agents).

``runs`` are the user's invocation logs; ``tool_calls`` also counts the user's
tool calls of no thread.
"""
PRUNED_KINDS = ("checkpoints", "checkpoint_writes")
"""What pruning checkpoints counts."""
EXPIRED_KINDS = ("suspended_states", "context_items")
"""What purging expired records counts."""


class ThreadRepository(Protocol):
    """Threads, their forks and lineage."""

    async def create(self, args: ThreadInput) -> ThreadRecord:
        """Insert a thread; DuplicateRecordError if the id exists."""

    async def get(self, thread_id: str) -> ThreadRecord | None:
        """Return the thread or None."""

    async def exists(self, thread_id: str) -> bool:
        """Whether the thread exists."""

    async def find(
        self, agent_name: str | None, user_id: str | None, limit: int, offset: int
    ) -> list[ThreadRecord]:
        """Threads by updated_at then id, both descending."""

    async def page(
        self, agent_name: str | None, user_id: str | None, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """A keyset page of threads by ``(sort, id)``; ``sort`` is created_at or updated_at."""

    async def update(self, thread_id: str, change: ThreadUpdate) -> ThreadRecord | None:
        """Apply the change and bump updated_at; None if missing."""

    async def delete(self, thread_id: str) -> bool:
        """Delete the thread with its children, checkpoints and tool calls; detach its forks."""

    async def fork(
        self, parent_thread_id: str, index: int, new_thread_id: str, title: str | None
    ) -> ThreadRecord | None:
        """Copy messages 0..index of the parent into a new thread; None if out of range."""

    async def lineage(self, thread_id: str) -> tuple[list[ThreadRecord], list[ThreadRecord]]:
        """Ancestors (root first) and direct children (oldest first)."""

    async def counts(self) -> Counts:
        """Rows per entity."""


class MessageRepository(Protocol):
    """Messages, appended under a per-thread, gap-free ``seq``."""

    async def append(self, thread_id: str, batch: Sequence[MessageInput]) -> list[MessageRecord]:
        """Append a non-empty batch atomically; ThreadNotFoundError if the thread is missing."""

    async def page(self, thread_id: str, page: MessagePage) -> list[MessageRecord]:
        """A keyset/offset page in seq order."""


class FeedbackRepository(Protocol):
    """Feedback on threads and messages."""

    async def add(self, args: FeedbackInput) -> FeedbackRecord:
        """Insert feedback; ThreadNotFoundError if the thread is missing."""

    async def find(
        self,
        agent_name: str | None,
        user_id: str | None,
        thread_id: str | None,
        page: KeysetPage,
    ) -> list[FeedbackRecord]:
        """A keyset page of feedback by ``(created_at, id)``, newest first."""


class ApprovalRepository(Protocol):
    """Suspended (human-approval) states."""

    async def save(self, args: SuspendedInput) -> SuspendedStateRecord:
        """Insert or replace; ThreadNotFoundError if the thread is missing."""

    async def get(self, approval_id: str) -> SuspendedStateRecord | None:
        """The unexpired state or None."""

    async def find(
        self, thread_id: str | None, agent_name: str | None, page: KeysetPage
    ) -> list[SuspendedStateRecord]:
        """A keyset page of unexpired states by ``(created_at, id)``, oldest first."""

    async def delete(self, approval_id: str) -> bool:
        """Delete; whether it existed."""

    async def cleanup(self) -> int:
        """Delete expired states; how many."""


class CheckpointRepository(Protocol):
    """Checkpoints as plain records (the saver's binary parts are not read)."""

    async def save(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """Insert or replace (dropping any saver payload)."""

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """One checkpoint; an empty id means the latest."""

    async def find(
        self, thread_id: str, checkpoint_ns: str, before: str | None, limit: int | None
    ) -> list[CheckpointRecord]:
        """Newest id first."""


class ContextRepository(Protocol):
    """Context items of one scope, with their routes."""

    async def save(self, args: ContextItemInput) -> ContextItemRecord:
        """Insert or replace the item and its routes."""

    async def get(self, scope: str, key: str, agent: str | None) -> ContextItemRecord | None:
        """The unexpired item routed to ``agent`` (any agent if None)."""

    async def delete(self, scope: str, key: str) -> bool:
        """Delete; whether an unexpired item was deleted."""

    async def all(self, scope: str, agent: str | None, page: KeysetPage) -> list[ContextItemRecord]:
        """A keyset page of the unexpired items routed to ``agent``, by key."""

    async def cleanup(self) -> int:
        """Delete expired items of every scope; how many."""

    async def clear(self, scope: str) -> int:
        """Delete every item of the scope; how many unexpired ones."""


class AgentRepository(Protocol):
    """Agents' topic subscriptions and posting permissions per scope."""

    async def save_topics(self, scope: str, agent: str, topics: list[str]) -> None:
        """Replace the agent's topics (empty: remove)."""

    async def topics(self, scope: str, agent: str) -> list[str]:
        """The agent's topics in saved order."""

    async def all_topics(self, scope: str) -> dict[str, list[str]]:
        """Every subscribed agent with its topics, by agent name."""

    async def remove_topics(self, scope: str, agent: str) -> bool:
        """Remove; whether the agent had any."""

    async def save_permissions(self, scope: str, agent: str, allowed: list[str]) -> None:
        """Insert or replace the agent's allowed topics."""

    async def permissions(self, scope: str, agent: str) -> list[str] | None:
        """The allowed topics, or None when unrestricted."""

    async def all_permissions(self, scope: str) -> dict[str, list[str]]:
        """Every restricted agent with its allowed topics, by agent name."""

    async def remove_permissions(self, scope: str, agent: str) -> bool:
        """Remove; whether the agent had a restriction."""


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


class Unit(Protocol):
    """One storage context: a call's own transaction or a ``transaction()`` block."""

    owner: str | None
    """The user a ``for_user`` view limits the current call to; None: unscoped."""

    @property
    def threads(self) -> ThreadRepository:
        """Threads, forks and lineage."""

    @property
    def messages(self) -> MessageRepository:
        """Messages."""

    @property
    def feedback(self) -> FeedbackRepository:
        """Feedback."""

    @property
    def approvals(self) -> ApprovalRepository:
        """Suspended states."""

    @property
    def checkpoints(self) -> CheckpointRepository:
        """Checkpoint records."""

    @property
    def checkpoint_rows(self) -> CheckpointRows:
        """The LangGraph saver's rows (checkpoints with payloads and pending writes)."""

    @property
    def context(self) -> ContextRepository:
        """Context items."""

    @property
    def agents(self) -> AgentRepository:
        """Agent topics and permissions."""

    @property
    def runs(self) -> RunRepository:
        """Invocation logs, log analyses and optimization runs."""

    @property
    def tool_calls(self) -> ToolCallRepository:
        """Tool calls."""

    @property
    def stats(self) -> StatsRepository:
        """Aggregates."""

    @property
    def maintenance(self) -> MaintenanceRepository:
        """Erasure and retention."""

    def savepoint(self) -> object:
        """Open a nested frame; return a token for :meth:`end_savepoint`."""

    async def end_savepoint(self, token: object, *, commit: bool) -> None:
        """Release the frame (commit) or roll its writes back."""
