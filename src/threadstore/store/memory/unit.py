"""MemoryStore's unit of work: the state's lock held, and a journal to undo a failure.

A one-call unit holds the lock for the call only (no repository awaits, so
this costs no wait unless a ``transaction()`` block holds it); a block holds
it from start to end, so blocks are serialisable: other calls, from any task,
loop or thread, wait until the block commits or rolls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from threadstore.clock import Clock, isoformat
from threadstore.store.memory.aggregates import MemoryStats
from threadstore.store.memory.approvals import MemoryApprovals, MemoryCheckpoints
from threadstore.store.memory.checkpoint_rows import MemoryCheckpointRows
from threadstore.store.memory.context import MemoryAgents, MemoryContext
from threadstore.store.memory.maintenance import MemoryMaintenance
from threadstore.store.memory.memory_items import MemoryMemoryItems
from threadstore.store.memory.messages import MemoryFeedback, MemoryMessages
from threadstore.store.memory.queries import MemoryQueries
from threadstore.store.memory.runs import MemoryRuns, MemoryToolCalls
from threadstore.store.memory.search import MemorySearch
from threadstore.store.memory.state import Journal, MemoryState
from threadstore.store.memory.threads import MemoryThreads

__all__ = ["MemoryUnit", "open_unit"]


class MemoryUnit:
    """The repositories of one memory unit, sharing its state, journal and clock."""

    def __init__(self, state: MemoryState, clock: Clock) -> None:
        self.state = state
        self.journal = Journal()
        self.clock = clock
        self.owner: str | None = None

    def stamp(self) -> str:
        """The current time as records show it."""
        return isoformat(self.clock())

    @property
    def threads(self) -> MemoryThreads:
        """Threads, forks and lineage."""
        return MemoryThreads(self)

    @property
    def messages(self) -> MemoryMessages:
        """Messages."""
        return MemoryMessages(self)

    @property
    def feedback(self) -> MemoryFeedback:
        """Feedback."""
        return MemoryFeedback(self)

    @property
    def approvals(self) -> MemoryApprovals:
        """Suspended states."""
        return MemoryApprovals(self)

    @property
    def checkpoints(self) -> MemoryCheckpoints:
        """Checkpoint records."""
        return MemoryCheckpoints(self)

    @property
    def checkpoint_rows(self) -> MemoryCheckpointRows:
        """The LangGraph saver's rows."""
        return MemoryCheckpointRows(self)

    @property
    def context(self) -> MemoryContext:
        """Context items."""
        return MemoryContext(self)

    @property
    def agents(self) -> MemoryAgents:
        """Agent topics and permissions."""
        return MemoryAgents(self)

    @property
    def runs(self) -> MemoryRuns:
        """Invocation logs, log analyses and optimization runs."""
        return MemoryRuns(self)

    @property
    def tool_calls(self) -> MemoryToolCalls:
        """Tool calls."""
        return MemoryToolCalls(self)

    @property
    def queries(self) -> MemoryQueries:
        """Filtered queries over threads and messages."""
        return MemoryQueries(self)

    @property
    def stats(self) -> MemoryStats:
        """Aggregates."""
        return MemoryStats(self)

    @property
    def maintenance(self) -> MemoryMaintenance:
        """Erasure and retention."""
        return MemoryMaintenance(self)

    @property
    def search(self) -> MemorySearch:
        """Full-text search."""
        return MemorySearch(self)

    @property
    def memory_items(self) -> MemoryMemoryItems:
        """LangGraph long-term memory rows."""
        return MemoryMemoryItems(self)

    def savepoint(self) -> object:
        """A nested frame: the journal's current position."""
        return self.journal.mark()

    async def end_savepoint(self, token: object, *, commit: bool) -> None:
        """Keep the frame's changes (commit) or undo them."""
        if not commit:
            assert isinstance(token, int)
            self.journal.undo_to(token)


@contextlib.asynccontextmanager
async def open_unit(state: MemoryState, clock: Clock) -> AsyncIterator[MemoryUnit]:
    """Hold the state's lock for the unit; undo every change if it fails."""
    lock = state.lock
    if not lock.try_acquire():
        await lock.acquire()
    try:
        unit = MemoryUnit(state, clock)
        try:
            yield unit
        except BaseException:
            unit.journal.undo_to(0)
            raise
    finally:
        lock.release()
