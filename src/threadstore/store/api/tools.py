"""Tool calls as records and aggregate statistics, written once for every backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from threadstore.records import AggregateStatsRecord, ToolCallRecord
from threadstore.store import run_inputs
from threadstore.store.aggregates import build_stats
from threadstore.store.core import StoreCore
from threadstore.store.tool_inputs import StatsQuery, ToolCallInput, ToolCallQuery

__all__ = ["ToolCallMethods"]


class ToolCallMethods(StoreCore):
    """Tool calls (KODE's ``queryToolCalls``) and ``aggregate_stats``."""

    async def record_tool_call(
        self,
        *,
        tool_name: str,
        agent_name: str,
        input: Any = None,
        output: Any = None,
        is_error: bool = False,
        error: str | None = None,
        approval: str | None = None,
        duration_ms: float | None = None,
        thread_id: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tool_call_id: str | None = None,
    ) -> ToolCallRecord:
        """Store one tool call of a run (``run_id``) and/or a thread; return it.

        ``input``/``output`` are any JSON values. ``approval`` is None (no
        approval involved), ``"pending"``, ``"approved"`` or ``"denied"``.
        Ownership as for :meth:`create_invocation_log`: the thread's owner,
        else ``user_id``; through a view, the view's user. Deleting the thread
        deletes its tool calls. A missing ``tool_call_id`` gets a new id.

        Raises:
            DuplicateRecordError: ``tool_call_id`` exists.
            ValidationError: e.g. non-JSON input, a negative duration, an unknown
                approval state, or a ``user_id`` that does not own the thread.
            ThreadNotFoundError: through a view, the thread is not the user's.
        """
        args = ToolCallInput.check(
            tool_name=tool_name,
            agent_name=agent_name,
            input=input,
            output=output,
            is_error=is_error,
            error=error,
            approval=approval,
            duration_ms=duration_ms,
            thread_id=thread_id,
            run_id=run_id,
            user_id=user_id,
            metadata=metadata,
            tool_call_id=tool_call_id,
        )
        async with self.unit(write=True) as unit:
            thread = None if args.thread_id is None else await unit.threads.get(args.thread_id)
            owner = run_inputs.record_owner(unit.owner, thread, args.thread_id, args.user_id)
            return await unit.tool_calls.record(args, owner)

    async def query_tool_calls(
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
        offset: int = 0,
    ) -> list[ToolCallRecord]:
        """Tool calls newest first (ties by id descending), filtered by every given field.

        ``has_approval`` keeps calls with (True) or without (False) an approval
        state; ``approval`` one state. ``created_after`` and ``created_before``
        are exclusive bounds, aware datetimes or ISO strings.
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
            limit=limit,
            offset=offset,
        )
        async with self.unit(write=False) as unit:
            return await unit.tool_calls.query(query)

    async def aggregate_stats(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        bucket: str | None = None,
    ) -> AggregateStatsRecord:
        """Totals over threads, messages, feedback, runs and tool calls; a series per bucket.

        Entities count at their creation time within ``since`` (inclusive) ..
        ``until`` (exclusive). ``agent_name`` and ``user_id`` filter by the
        thread's agent and owner (messages, feedback by thread owner) and by
        the runs' and tool calls' own columns. ``bucket="day"|"hour"`` adds a
        series of the buckets that hold something, oldest first. Computed by
        the database (a few GROUP BY statements), never row by row. Through a
        ``for_user`` view, only the view's user's data counts.

        Raises:
            ValidationError: an unknown bucket, a naive datetime, an invalid id.
        """
        query = StatsQuery.check(
            agent_name=agent_name, user_id=user_id, since=since, until=until, bucket=bucket
        )
        async with self.unit(write=False) as unit:
            groups = await unit.stats.groups(query)
        return build_stats(query, groups)
