"""Public suspended-state and checkpoint methods, written once for every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from threadstore import lc_messages
from threadstore.records import CheckpointRecord, Page, SuspendedStateRecord
from threadstore.store import inputs
from threadstore.store.core import StoreCore
from threadstore.store.paging import KeysetPage, page_request
from threadstore.validation import check_id

__all__ = ["ApprovalMethods"]


def _revived_state(record: SuspendedStateRecord) -> SuspendedStateRecord:
    """The state with the LangChain objects it was saved with revived."""
    record["state_snapshot"] = lc_messages.decode(record["state_snapshot"])
    return record


def _revived_checkpoint(record: CheckpointRecord) -> CheckpointRecord:
    """The checkpoint with the LangChain objects it was saved with revived."""
    record["checkpoint"] = lc_messages.decode(record["checkpoint"])
    return record


class ApprovalMethods(StoreCore):
    """Suspended (human-approval) states and checkpoints as plain records."""

    async def save_suspended_state(
        self,
        approval_id: str,
        thread_id: str,
        agent_name: str,
        node_name: str,
        state_json: dict[str, Any],
        *,
        ttl: timedelta | float | None = None,
    ) -> SuspendedStateRecord:
        """Save (or replace) the state waiting for approval ``approval_id``.

        ``ttl`` is a timedelta or seconds; the default is 7 days. Saving again
        under the same id for the same thread replaces the state (and restarts
        its TTL); an id that a live approval of another thread holds is refused,
        never moved. Values may hold LangChain objects (e.g. ``HumanMessage``):
        they are stored in LangChain's JSON form and revived on read.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            DuplicateRecordError: the approval id belongs to another thread.
        """
        args = inputs.suspended_state_input(
            approval_id, thread_id, agent_name, node_name, state_json, ttl
        )
        async with self.unit(write=True) as unit:
            return _revived_state(await unit.approvals.save(args))

    async def get_suspended_state(self, approval_id: str) -> SuspendedStateRecord | None:
        """Return the state, or None if it does not exist or has expired."""
        check_id("approval_id", approval_id)
        async with self.unit(write=False) as unit:
            state = await unit.approvals.get(approval_id)
        return None if state is None else _revived_state(state)

    async def list_suspended_states(
        self,
        *,
        thread_id: str | None = None,
        agent_name: str | None = None,
        limit: int | None = None,
    ) -> list[SuspendedStateRecord]:
        """List unexpired states, oldest first (ties by id); at most ``limit`` (None: all)."""
        inputs.optional_ids(thread_id=thread_id, agent_name=agent_name)
        read = KeysetPage(inputs.optional_limit(limit), descending=False)
        async with self.unit(write=False) as unit:
            states = await unit.approvals.find(thread_id, agent_name, read)
        return [_revived_state(state) for state in states]

    async def list_suspended_states_page(
        self,
        *,
        thread_id: str | None = None,
        agent_name: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[SuspendedStateRecord]:
        """Return a page of unexpired states, oldest first (ties by id), and the next cursor.

        Pass ``next_cursor`` back as ``cursor`` with the same filters; it is
        None on the last page. A state saved again under its approval id
        restarts at the end of the order (its ``created_at`` is new), so a
        walk may return it twice; states that expire meanwhile are skipped.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, or a cursor that
                is malformed or was made for other filters.
        """
        inputs.optional_ids(thread_id=thread_id, agent_name=agent_name)
        request = page_request(
            "list_suspended_states_page",
            "created:asc",
            {"thread_id": thread_id, "agent_name": agent_name, "view": self.scope_owner()},
            limit=limit,
            cursor=cursor,
            kinds=("time", "id"),
            descending=False,
        )
        async with self.unit(write=False) as unit:
            rows = await unit.approvals.find(thread_id, agent_name, request.read)
        page = request.page(rows, lambda s: (s["created_at"], s["id"]))
        page["items"] = [_revived_state(state) for state in page["items"]]
        return page

    async def delete_suspended_state(self, approval_id: str) -> bool:
        """Delete a state; return whether it existed."""
        check_id("approval_id", approval_id)
        async with self.unit(write=True) as unit:
            return await unit.approvals.delete(approval_id)

    async def cleanup_expired_states(self) -> int:
        """Delete expired states; return how many were deleted."""
        async with self.unit(write=True) as unit:
            return await unit.approvals.cleanup()

    async def save_checkpoint(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """Save (or replace) a checkpoint; the thread need not exist."""
        thread, ns, cid, parent, body, meta = inputs.checkpoint_input(
            thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata
        )
        async with self.unit(write=True) as unit:
            await unit.checkpoints.save(thread, ns, cid, parent, body, meta)

    async def get_checkpoint(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """Return a checkpoint; an empty ``checkpoint_id`` gives the latest."""
        check_id("thread_id", thread_id)
        check_id("checkpoint_ns", checkpoint_ns, allow_empty=True)
        check_id("checkpoint_id", checkpoint_id, allow_empty=True)
        async with self.unit(write=False) as unit:
            record = await unit.checkpoints.get(thread_id, checkpoint_ns, checkpoint_id)
        return None if record is None else _revived_checkpoint(record)

    async def list_checkpoints(
        self,
        thread_id: str,
        checkpoint_ns: str,
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        """List checkpoints newest first; ``before`` keeps ids sorting before it."""
        inputs.optional_ids(before=before)
        check_id("thread_id", thread_id)
        check_id("checkpoint_ns", checkpoint_ns, allow_empty=True)
        maximum = inputs.optional_limit(limit)
        async with self.unit(write=False) as unit:
            records = await unit.checkpoints.find(thread_id, checkpoint_ns, before, maximum)
        return [_revived_checkpoint(record) for record in records]
