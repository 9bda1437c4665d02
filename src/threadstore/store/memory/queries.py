"""Filtered queries over a MemoryStore's threads and messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from threadstore.clock import isoformat
from threadstore.records import InvocationLogRecord, MessageRecord, ThreadRecord, ToolCallRecord
from threadstore.store.containment import contains
from threadstore.store.memory.keyset import keyset
from threadstore.store.memory.runs import log_matches, tool_call_matches
from threadstore.store.memory.scoping import owns
from threadstore.store.memory.state import copied
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery
from threadstore.store.run_inputs import LogFilter
from threadstore.store.tool_inputs import ToolCallQuery

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryQueries"]


def _within(stamp: str, after: datetime | None, before: datetime | None) -> bool:
    """Whether a record's timestamp lies strictly between the bounds given."""
    return (after is None or stamp > isoformat(after)) and (
        before is None or stamp < isoformat(before)
    )


class MemoryQueries:
    """See :class:`~threadstore.store.ports_query.QueryRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit

    def _thread_matches(self, thread: ThreadRecord, query: ThreadQuery) -> bool:
        return (
            owns(self._unit.state, self._unit.owner, thread["id"])
            and query.agent_name in (None, thread["agent_name"])
            and query.user_id in (None, thread["user_id"])
            and _within(thread["created_at"], query.created_after, query.created_before)
            and _within(thread["updated_at"], query.updated_after, query.updated_before)
            and (
                query.metadata_contains is None
                or contains(thread["metadata"], query.metadata_contains)
            )
        )

    async def threads(
        self, query: ThreadQuery, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """See :meth:`QueryRepository.threads`."""
        rows = [t for t in self._unit.state.threads.values() if self._thread_matches(t, query)]
        return copied(keyset(rows, lambda t: (t[sort], t["id"]), page))

    def _candidates(self, query: MessageQuery) -> Iterator[MessageRecord]:
        state = self._unit.state
        ids = state.messages.keys() if query.thread_id is None else [query.thread_id]
        for thread_id in ids:
            thread = state.threads.get(thread_id)
            if (
                thread is None
                or not owns(state, self._unit.owner, thread_id)
                or query.agent_name not in (None, thread["agent_name"])
                or query.user_id not in (None, thread["user_id"])
            ):
                continue
            yield from state.messages.get(thread_id, [])

    async def messages(self, query: MessageQuery, page: KeysetPage) -> list[MessageRecord]:
        """See :meth:`QueryRepository.messages`."""
        needle = query.metadata_contains
        rows = [
            m
            for m in self._candidates(query)
            if query.role in (None, m["role"])
            and _within(m["timestamp"], query.created_after, query.created_before)
            and (needle is None or contains(m["metadata"], needle))
        ]
        return copied(keyset(rows, lambda m: (m["timestamp"], m["thread_id"], m["seq"]), page))

    async def tool_calls(self, query: ToolCallQuery, page: KeysetPage) -> list[ToolCallRecord]:
        """See :meth:`QueryRepository.tool_calls`."""
        matches = tool_call_matches(query, self._unit.owner)
        rows = [r for r in self._unit.state.tool_calls.values() if matches(r)]
        return copied(keyset(rows, lambda r: (r["created_at"], r["id"]), page))

    async def invocation_logs(
        self, where: LogFilter, page: KeysetPage
    ) -> list[InvocationLogRecord]:
        """See :meth:`QueryRepository.invocation_logs`."""
        matches = log_matches(where, self._unit.owner)
        rows = [r for r in self._unit.state.invocation_logs.values() if matches(r)]
        return copied(keyset(rows, lambda r: (r["timestamp"], r["id"]), page))
