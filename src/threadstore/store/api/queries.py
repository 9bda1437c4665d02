"""Filtered queries over threads and messages, written once for every backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from threadstore.records import (
    InvocationLogRecord,
    MessageRecord,
    Page,
    ThreadRecord,
    ToolCallRecord,
)
from threadstore.store.core import StoreCore
from threadstore.store.paging import ThreadOrder, page_request, thread_sort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery, cursor_scope
from threadstore.store.run_inputs import LogFilter
from threadstore.store.tool_inputs import ToolCallQuery

__all__ = ["QueryMethods"]


def _direction(newest_first: bool) -> str:
    return "desc" if newest_first else "asc"


class QueryMethods(StoreCore):
    """``query_threads``, ``query_messages`` and keyset pages of tool calls and runs."""

    async def query_threads(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        updated_after: datetime | str | None = None,
        updated_before: datetime | str | None = None,
        metadata_contains: dict[str, Any] | None = None,
        limit: int = 50,
        cursor: str | None = None,
        order: ThreadOrder = "updated",
        newest_first: bool = True,
    ) -> Page[ThreadRecord]:
        """A keyset page of the threads matching every given filter.

        Ordered as :meth:`list_threads`: most recently updated first, ties by
        id descending (``order="created"`` sorts by ``(created_at, id)``,
        ``newest_first=False`` reverses). Time bounds are exclusive, aware
        datetimes or ISO strings. ``metadata_contains`` keeps threads whose
        metadata contains the given JSON object, with PostgreSQL JSONB ``@>``
        semantics on every backend. Pass ``next_cursor`` back as ``cursor``
        with the same filters for the next page.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, or a cursor that
                is malformed or was made for other filters or another order.
        """
        query = ThreadQuery.check(
            agent_name=agent_name,
            user_id=user_id,
            created_after=created_after,
            created_before=created_before,
            updated_after=updated_after,
            updated_before=updated_before,
            metadata_contains=metadata_contains,
        )
        sort = thread_sort(order)
        request = page_request(
            "query_threads",
            f"{order}:{_direction(bool(newest_first))}",
            cursor_scope(query, self.scope_owner()),
            limit=limit,
            cursor=cursor,
            kinds=("time", "id"),
            descending=bool(newest_first),
        )
        async with self.unit(write=False) as unit:
            rows = await unit.queries.threads(query, sort, request.read)
        return request.page(rows, lambda t: (t[sort], t["id"]))

    async def query_messages(
        self,
        *,
        thread_id: str | None = None,
        agent_name: str | None = None,
        user_id: str | None = None,
        role: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        metadata_contains: dict[str, Any] | None = None,
        limit: int = 50,
        cursor: str | None = None,
        newest_first: bool = True,
    ) -> Page[MessageRecord]:
        """A keyset page of the messages matching every given filter, across threads.

        Newest first by ``(timestamp, thread_id, seq)`` (``newest_first=False``
        reverses); ``agent_name`` and ``user_id`` are those of the message's
        thread. ``created_after``/``created_before`` bound the message
        timestamp, exclusive. ``metadata_contains`` as for :meth:`query_threads`.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, or a cursor that
                is malformed or was made for other filters.
        """
        query = MessageQuery.check(
            thread_id=thread_id,
            agent_name=agent_name,
            user_id=user_id,
            role=role,
            created_after=created_after,
            created_before=created_before,
            metadata_contains=metadata_contains,
        )
        request = page_request(
            "query_messages",
            f"timestamp:{_direction(bool(newest_first))}",
            cursor_scope(query, self.scope_owner()),
            limit=limit,
            cursor=cursor,
            kinds=("time", "id", "int"),
            descending=bool(newest_first),
        )
        async with self.unit(write=False) as unit:
            rows = await unit.queries.messages(query, request.read)
        return request.page(rows, lambda m: (m["timestamp"], m["thread_id"], m["seq"]))

    async def query_tool_calls_page(
        self,
        *,
        agent_name: str | None = None,
        tool_name: str | None = None,
        is_error: bool | None = None,
        has_approval: bool | None = None,
        approval: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        thread_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[ToolCallRecord]:
        """:meth:`query_tool_calls` as keyset pages: newest first by ``(created_at, id)``.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, or a cursor that
                is malformed or was made for other filters.
        """
        query = ToolCallQuery.check(
            agent_name=agent_name,
            tool_name=tool_name,
            is_error=is_error,
            has_approval=has_approval,
            approval=approval,
            created_after=created_after,
            created_before=created_before,
            thread_id=thread_id,
            run_id=run_id,
            user_id=user_id,
            limit=1,
            offset=0,
        )
        request = page_request(
            "query_tool_calls_page",
            "created:desc",
            cursor_scope(query, self.scope_owner()),
            limit=limit,
            cursor=cursor,
            kinds=("time", "id"),
            descending=True,
        )
        async with self.unit(write=False) as unit:
            rows = await unit.queries.tool_calls(query, request.read)
        return request.page(rows, lambda call: (call["created_at"], call["id"]))

    async def list_invocation_logs_page(
        self,
        *,
        agent_name: str | None = None,
        resource_type: str | None = None,
        thread_id: str | None = None,
        status: str | None = None,
        endpoint: str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[InvocationLogRecord]:
        """:meth:`list_invocation_logs` as keyset pages: newest first by ``(timestamp, id)``.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, or a cursor that
                is malformed or was made for other filters.
        """
        where = LogFilter.check(
            agent_name=agent_name,
            resource_type=resource_type,
            thread_id=thread_id,
            status=status,
            endpoint=endpoint,
            user_id=user_id,
        )
        request = page_request(
            "list_invocation_logs_page",
            "timestamp:desc",
            cursor_scope(where, self.scope_owner()),
            limit=limit,
            cursor=cursor,
            kinds=("time", "id"),
            descending=True,
        )
        async with self.unit(write=False) as unit:
            rows = await unit.queries.invocation_logs(where, request.read)
        return request.page(rows, lambda log: (log["timestamp"], log["id"]))
