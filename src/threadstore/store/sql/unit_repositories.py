"""The repositories of a unit of work: each a thin view over the unit's connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from threadstore.store.sql.agents import SqlAgents
from threadstore.store.sql.aggregates import SqlStats
from threadstore.store.sql.approvals import SqlApprovals
from threadstore.store.sql.checkpoint_rows import SqlCheckpointRows
from threadstore.store.sql.checkpoints import SqlCheckpoints
from threadstore.store.sql.context import SqlContextItems
from threadstore.store.sql.feedback import SqlFeedback
from threadstore.store.sql.maintenance import SqlMaintenance
from threadstore.store.sql.memory_items import SqlMemoryItems
from threadstore.store.sql.messages import SqlMessages
from threadstore.store.sql.queries import SqlQueries
from threadstore.store.sql.runs import SqlRuns
from threadstore.store.sql.search import SqlSearch
from threadstore.store.sql.threads import SqlThreads
from threadstore.store.sql.tool_calls import SqlToolCalls

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["UnitRepositories"]


class UnitRepositories:
    """The repositories :class:`~threadstore.store.sql.unit.SqlUnit` offers, built per use."""

    @property
    def threads(self) -> SqlThreads:
        """Threads, forks and lineage."""
        return SqlThreads(self._as_unit())

    @property
    def messages(self) -> SqlMessages:
        """Messages."""
        return SqlMessages(self._as_unit())

    @property
    def feedback(self) -> SqlFeedback:
        """Feedback."""
        return SqlFeedback(self._as_unit())

    @property
    def approvals(self) -> SqlApprovals:
        """Suspended states."""
        return SqlApprovals(self._as_unit())

    @property
    def checkpoints(self) -> SqlCheckpoints:
        """Checkpoint records."""
        return SqlCheckpoints(self._as_unit())

    @property
    def checkpoint_rows(self) -> SqlCheckpointRows:
        """The LangGraph saver's rows."""
        return SqlCheckpointRows(self._as_unit())

    @property
    def context(self) -> SqlContextItems:
        """Context items."""
        return SqlContextItems(self._as_unit())

    @property
    def agents(self) -> SqlAgents:
        """Agent topics and permissions."""
        return SqlAgents(self._as_unit())

    @property
    def runs(self) -> SqlRuns:
        """Invocation logs, log analyses and optimization runs."""
        return SqlRuns(self._as_unit())

    @property
    def tool_calls(self) -> SqlToolCalls:
        """Tool calls."""
        return SqlToolCalls(self._as_unit())

    @property
    def queries(self) -> SqlQueries:
        """Filtered queries over threads and messages."""
        return SqlQueries(self._as_unit())

    @property
    def stats(self) -> SqlStats:
        """Aggregates."""
        return SqlStats(self._as_unit())

    @property
    def maintenance(self) -> SqlMaintenance:
        """Erasure and retention."""
        return SqlMaintenance(self._as_unit())

    @property
    def search(self) -> SqlSearch:
        """Full-text search."""
        return SqlSearch(self._as_unit())

    @property
    def memory_items(self) -> SqlMemoryItems:
        """LangGraph long-term memory rows."""
        return SqlMemoryItems(self._as_unit())

    def _as_unit(self) -> SqlUnit:
        return cast("SqlUnit", self)  # SqlUnit is the one class built on this
