"""What a backend supplies for the filtered queries over threads and messages."""

from __future__ import annotations

from typing import Protocol

from threadstore.records import InvocationLogRecord, MessageRecord, ThreadRecord, ToolCallRecord
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery
from threadstore.store.run_inputs import LogFilter
from threadstore.store.tool_inputs import ToolCallQuery

__all__ = ["QueryRepository"]


class QueryRepository(Protocol):
    """Filtered, keyset-paged reads of threads, messages, tool calls and runs (owner-scoped)."""

    async def threads(
        self, query: ThreadQuery, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """A keyset page of the matching threads by ``(sort, id)``."""

    async def messages(self, query: MessageQuery, page: KeysetPage) -> list[MessageRecord]:
        """A keyset page of the matching messages by ``(timestamp, thread_id, seq)``."""

    async def tool_calls(self, query: ToolCallQuery, page: KeysetPage) -> list[ToolCallRecord]:
        """A keyset page of query_tool_calls' rows by ``(created_at, id)``."""

    async def invocation_logs(
        self, where: LogFilter, page: KeysetPage
    ) -> list[InvocationLogRecord]:
        """A keyset page of list_invocation_logs' rows by ``(timestamp, id)``."""
