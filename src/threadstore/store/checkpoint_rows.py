"""Storage rows of the LangGraph saver and the repository each backend implements.

Nothing here imports LangGraph: a backend stores and returns rows whose
binary parts were produced by LangGraph's serializer in
:mod:`threadstore.langgraph.saver`, which owns every LangGraph rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DELTA_METADATA_KEY",
    "CheckpointKey",
    "CheckpointRow",
    "CheckpointRows",
    "Found",
    "ListCursor",
    "ListQuery",
    "WriteRow",
]

DELTA_METADATA_KEY = "counters_since_delta_snapshot"
"""The metadata key of checkpoints of a graph with a DeltaChannel (history in older ones)."""

CheckpointKey = tuple[str, str, str]
"""(thread_id, checkpoint_ns, checkpoint_id)."""


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """One checkpoint: a JSON header and metadata plus the serialised rest."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    checkpoint: dict[str, Any]
    metadata: dict[str, Any]
    payload_type: str | None
    payload: bytes | None

    @property
    def key(self) -> CheckpointKey:
        """The row's primary key."""
        return (self.thread_id, self.checkpoint_ns, self.checkpoint_id)


@dataclass(frozen=True, slots=True)
class WriteRow:
    """One pending write of a task; ``value`` is serialised."""

    task_id: str
    idx: int
    channel: str
    value_type: str
    value: bytes
    task_path: str


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What ``alist`` selects; None means "any"."""

    thread_id: str | None = None
    checkpoint_ns: str | None = None
    checkpoint_id: str | None = None
    before: str | None = None
    metadata: dict[str, str | int] = field(default_factory=dict)
    """Exact-match metadata filters the backend applies itself (str and int values)."""


ListCursor = tuple[str, str, str]
"""(checkpoint_id, thread_id, checkpoint_ns) of the last row of a page."""

Found = tuple[CheckpointRow, list[WriteRow]]


class CheckpointRows(Protocol):
    """The saver's repository in a backend's unit of work."""

    async def put_checkpoint(self, row: CheckpointRow) -> None:
        """Insert or replace a checkpoint."""

    async def put_writes(
        self, key: CheckpointKey, writes: Sequence[WriteRow], *, replace: bool
    ) -> None:
        """Insert writes; existing (task_id, idx) are kept, or replaced if ``replace``."""

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Found | None:
        """Return one checkpoint (the latest of the namespace if no id) with its writes."""

    async def page(self, query: ListQuery, after: ListCursor | None, size: int) -> list[Found]:
        """Return up to ``size`` checkpoints after ``after``, newest id first, with writes."""

    async def delete_threads(self, thread_ids: Sequence[str]) -> None:
        """Delete every checkpoint and write of the threads."""

    async def copy_thread(self, source: str, target: str) -> None:
        """Copy every checkpoint and write of ``source`` to ``target``."""

    async def keep_latest(self, thread_ids: Sequence[str]) -> None:
        """Keep only the latest checkpoint per namespace (and its writes) of the threads."""

    async def delete_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints whose metadata ``run_id`` is listed, with their writes."""

    async def threads_with_metadata_key(self, thread_ids: Sequence[str], key: str) -> list[str]:
        """Return the threads among ``thread_ids`` having a checkpoint with metadata ``key``."""
