"""MemoryStore's data in one place, and the undo journal that makes its units atomic.

Every change a repository makes goes through a :class:`Journal`, which
remembers how to undo it; a unit that fails (or a savepoint rolled back)
replays the journal backwards, leaving the state exactly as it was.
Records are stored as private copies and only their top-level fields are
changed in place, so undoing a field restores the old value object itself.
Messages are stored by column, one :class:`MessageLog` per thread.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    InvocationLogRecord,
    LogAnalysisRecord,
    OptimizationRunRecord,
    SuspendedStateRecord,
    ThreadRecord,
    ToolCallRecord,
)
from threadstore.store.checkpoint_rows import CheckpointKey
from threadstore.store.locks import LoopLock
from threadstore.store.memory.message_log import MessageLog
from threadstore.store.memory_item_rows import ItemKey, MemoryItemRow

__all__ = ["Journal", "MemoryState", "copied"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_MISSING: Any = object()
_T = TypeVar("_T")

PendingWrites = dict[tuple[str, int], tuple[str, str, bytes, str]]
"""A checkpoint's pending writes: (task_id, idx) -> (channel, type tag, bytes, task_path)."""


@dataclass
class MemoryState:
    """Everything a MemoryStore holds, plus the lock its units take."""

    max_threads: int | None = None
    threads: dict[str, ThreadRecord] = field(default_factory=dict)
    messages: dict[str, MessageLog] = field(default_factory=dict)
    message_keys: dict[tuple[str, str], int] = field(default_factory=dict)
    """(thread_id, idempotency key) -> the seq of the message stored under it."""
    feedback: dict[int, FeedbackRecord] = field(default_factory=dict)
    suspended: dict[str, SuspendedStateRecord] = field(default_factory=dict)
    checkpoints: dict[tuple[str, str], dict[str, CheckpointRecord]] = field(default_factory=dict)
    checkpoint_payloads: dict[CheckpointKey, tuple[str, bytes]] = field(default_factory=dict)
    """The LangGraph saver's serialised channel values (type tag, bytes) per checkpoint."""
    checkpoint_writes: dict[CheckpointKey, PendingWrites] = field(default_factory=dict)
    context: dict[tuple[str, str], ContextItemRecord] = field(default_factory=dict)
    agent_topics: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    agent_permissions: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    invocation_logs: dict[str, InvocationLogRecord] = field(default_factory=dict)
    tool_calls: dict[str, ToolCallRecord] = field(default_factory=dict)
    log_analyses: dict[str, LogAnalysisRecord] = field(default_factory=dict)
    optimization_runs: dict[str, OptimizationRunRecord] = field(default_factory=dict)
    memory_items: dict[str, dict[ItemKey, MemoryItemRow]] = field(default_factory=dict)
    """LangGraph long-term memory rows per scope."""
    memory_vectors: dict[tuple[str, tuple[str, ...], str], dict[str, list[float]]] = field(
        default_factory=dict
    )
    """(scope, namespace, key) -> the item's embeddings per field path."""
    next_ids: dict[str, int] = field(default_factory=lambda: {"message": 1, "feedback": 1})
    lock: LoopLock = field(default_factory=LoopLock)


class Journal:
    """Changes applied to a :class:`MemoryState`, each with its undo step."""

    __slots__ = ("_undo",)

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def mark(self) -> int:
        """A position to roll back to."""
        return len(self._undo)

    def undo_to(self, mark: int) -> None:
        """Undo every change made after ``mark``, newest first."""
        while len(self._undo) > mark:
            self._undo.pop()()

    def put(self, mapping: MutableMapping[_K, _V], key: _K, value: _V) -> None:
        """``mapping[key] = value``."""
        old = mapping.get(key, _MISSING)
        self._undo.append(lambda: _restore(mapping, key, old))
        mapping[key] = value

    def pop(self, mapping: MutableMapping[_K, _V], key: _K) -> _V | None:
        """Remove ``key``; return its value (None if absent)."""
        if key not in mapping:
            return None
        old = mapping.pop(key)
        self._undo.append(lambda: mapping.__setitem__(key, old))
        return old

    def set_fields(self, record: Any, **fields: Any) -> None:
        """Change top-level fields of a stored record (a dict) in place."""
        old = {name: record[name] for name in fields}
        self._undo.append(lambda: record.update(old))
        record.update(fields)

    def extend(self, items: MessageLog, more: list[Any]) -> None:
        """Append to a stored log."""
        size = len(items)
        self._undo.append(lambda: items.__delitem__(slice(size, None)))
        items.extend(more)

    def truncate(self, items: MessageLog, size: int) -> None:
        """Cut a stored log down to its first ``size`` items."""
        removed = items[size:]
        self._undo.append(lambda: items.extend(removed))
        del items[size:]

    def take_ids(self, state: MemoryState, name: str, count: int) -> int:
        """Reserve ``count`` consecutive ids of the sequence ``name``; return the first."""
        first = state.next_ids[name]
        self._undo.append(lambda: state.next_ids.__setitem__(name, first))
        state.next_ids[name] = first + count
        return first


def _restore(mapping: MutableMapping[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        mapping.pop(key, None)
    else:
        mapping[key] = old


def copied(value: _T) -> _T:
    """A deep copy: records never share objects with the store."""
    return copy.deepcopy(value)
