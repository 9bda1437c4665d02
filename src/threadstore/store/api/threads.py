"""Public thread methods, written once for every backend: validate, then one repository call."""

from __future__ import annotations

from typing import Any

from threadstore.records import LineageRecord, Page, StatsRecord, ThreadRecord
from threadstore.store import inputs
from threadstore.store.core import StoreCore
from threadstore.store.paging import ThreadOrder, page_request, thread_sort
from threadstore.validation import check_id, check_limit, check_seq

__all__ = ["ThreadMethods"]


class ThreadMethods(StoreCore):
    """Threads, forks, lineage and stats."""

    async def create_thread(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ThreadRecord:
        """Create a thread.

        Raises:
            DuplicateRecordError: a thread with this id exists.
            ValidationError: an argument is invalid.
        """
        args = inputs.thread_input(thread_id, user_id, agent_name, title, metadata)
        async with self.unit(write=True) as unit:
            return await unit.threads.create(args)

    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        """Return the thread, or None."""
        check_id("thread_id", thread_id)
        async with self.unit(write=False) as unit:
            return await unit.threads.get(thread_id)

    async def list_threads(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ThreadRecord]:
        """List threads, most recently updated first (ties by id descending)."""
        inputs.optional_ids(agent_name=agent_name, user_id=user_id)
        limit, offset = check_limit("limit", limit), check_limit("offset", offset)
        async with self.unit(write=False, may_lag=True) as unit:
            return await unit.threads.find(agent_name, user_id, limit, offset)

    async def list_threads_page(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        order: ThreadOrder = "created",
        newest_first: bool = True,
    ) -> Page[ThreadRecord]:
        """Return a page of threads and the cursor of the next one (keyset paging).

        Pass the page's ``next_cursor`` back as ``cursor`` (with the same
        filters and order) for the next page; it is None on the last page.

        ``order="created"`` (the default) sorts by ``(created_at, id)``, which
        never changes: a walk returns every thread that exists from its first
        page to its last exactly once, however threads are updated, created
        or deleted meanwhile. ``order="updated"`` sorts by ``(updated_at, id)``
        as :meth:`list_threads` does; a thread updated during a walk moves, so
        newest first it is never repeated but is missed if not yet returned,
        and oldest first it is never missed but comes again at the end.
        ``newest_first=False`` reverses either order.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, an unknown
                ``order``, or a cursor that is malformed or was made for other
                filters or another order.
        """
        inputs.optional_ids(agent_name=agent_name, user_id=user_id)
        sort = thread_sort(order)
        request = page_request(
            "list_threads_page",
            f"{order}:{'desc' if newest_first else 'asc'}",
            {"agent_name": agent_name, "user_id": user_id, "view": self.scope_owner()},
            limit=limit,
            cursor=cursor,
            kinds=("time", "id"),
            descending=bool(newest_first),
        )
        async with self.unit(write=False) as unit:
            rows = await unit.threads.page(agent_name, user_id, sort, request.read)
        return request.page(rows, lambda t: (t[sort], t["id"]))

    async def update_thread(self, thread_id: str, **updates: Any) -> ThreadRecord | None:
        """Set ``title`` and/or replace ``metadata``; return the thread or None if missing.

        ``metadata_patch={...}`` merges top-level keys into the stored metadata
        instead of replacing it. ``expected_version=N`` applies the change only
        if the thread is still at version N (compare-and-swap); each change
        increments the version.

        Raises:
            VersionConflictError: the thread is no longer at ``expected_version``.
            ValidationError: a field other than title/metadata, or an invalid value.
        """
        check_id("thread_id", thread_id)
        change = inputs.thread_update(updates)
        async with self.unit(write=True) as unit:
            return await unit.threads.update(thread_id, change)

    async def delete_thread(self, thread_id: str) -> bool:
        """Delete a thread with its messages, feedback, approvals, checkpoints and tool calls.

        Forks of the thread are detached (``parent_thread_id`` becomes None),
        not deleted. Checkpoints and tool calls under the id are removed even
        when no thread row exists. Its runs (invocation logs) are kept, as
        Agentomatic keeps them, still owned by the thread's user. Returns
        whether the thread existed.
        """
        check_id("thread_id", thread_id)
        async with self.unit(write=True) as unit:
            return await unit.threads.delete(thread_id)

    async def fork_thread(
        self,
        parent_thread_id: str,
        message_index: int,
        new_thread_id: str,
        *,
        title: str | None = None,
    ) -> ThreadRecord | None:
        """Create ``new_thread_id`` holding copies of messages 0..message_index.

        Returns None and writes nothing when the parent does not exist or the
        index is outside its messages. The default title is ``Fork of <title>``.

        Raises:
            DuplicateRecordError: ``new_thread_id`` exists.
        """
        args = inputs.thread_input(new_thread_id, "-", "-", title, None)
        check_id("parent_thread_id", parent_thread_id)
        index = check_seq("message_index", message_index)
        async with self.unit(write=True) as unit:
            return await unit.threads.fork(parent_thread_id, index, args.thread_id, args.title)

    async def get_thread_lineage(self, thread_id: str) -> LineageRecord:
        """Return ancestors (root first, parent last) and direct children (oldest first)."""
        check_id("thread_id", thread_id)
        async with self.unit(write=False) as unit:
            ancestors, descendants = await unit.threads.lineage(thread_id)
        return {"thread_id": thread_id, "ancestors": ancestors, "descendants": descendants}

    async def get_stats(self) -> StatsRecord:
        """Return row counts per entity, the store class (``backend``) and the ``dialect``."""
        async with self.unit(write=False, may_lag=True) as unit:
            counts = await unit.threads.counts()
        return {
            "backend": type(self.root()).__name__,
            "dialect": self.backend_name,
            "threads": counts["threads"],
            "messages": counts["messages"],
            "feedback": counts["feedback"],
            "suspended_states": counts["suspended_states"],
            "checkpoints": counts["checkpoints"],
            "context_items": counts["context_items"],
        }
