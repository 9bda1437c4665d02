"""What a backend supplies: a unit of work holding one repository per entity.

:class:`~threadstore.store.base.BaseStore` validates every argument, then calls
these methods inside a :class:`Unit`; repositories receive checked values and
only store and fetch. A unit is one call's storage context, or a whole
``store.transaction()`` block: its writes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    MessageRecord,
    SuspendedStateRecord,
    ThreadRecord,
)
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
from threadstore.store.memory_item_rows import MemoryItemRows
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.ports_ops import (
    ERASED_KINDS,
    EXPIRED_KINDS,
    PRUNED_KINDS,
    THREAD_KINDS,
    Counts,
    MaintenanceRepository,
    NamespaceKey,
    RunRepository,
    StatsRepository,
    ToolCallRepository,
)
from threadstore.store.ports_query import QueryRepository
from threadstore.store.ports_search import SearchRepository

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
    "QueryRepository",
    "RunRepository",
    "SearchRepository",
    "StatsRepository",
    "ThreadRepository",
    "ToolCallRepository",
    "Unit",
]


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

    async def pop(self, thread_id: str) -> MessageRecord | None:
        """Delete and return the highest-seq message atomically; None if none (or no thread)."""

    async def clear(self, thread_id: str) -> int:
        """Delete every message of the thread (count reset to 0); return how many."""


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
    def queries(self) -> QueryRepository:
        """Filtered queries over threads and messages."""

    @property
    def stats(self) -> StatsRepository:
        """Aggregates."""

    @property
    def maintenance(self) -> MaintenanceRepository:
        """Erasure and retention."""

    @property
    def search(self) -> SearchRepository:
        """Full-text search."""

    @property
    def memory_items(self) -> MemoryItemRows:
        """LangGraph long-term memory rows."""

    def savepoint(self) -> object:
        """Open a nested frame; return a token for :meth:`end_savepoint`."""

    async def end_savepoint(self, token: object, *, commit: bool) -> None:
        """Release the frame (commit) or roll its writes back."""
