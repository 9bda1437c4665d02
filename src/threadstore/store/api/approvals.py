"""Public suspended-state and checkpoint methods, written once for every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from threadstore.records import CheckpointRecord, SuspendedStateRecord
from threadstore.store import inputs
from threadstore.store.core import StoreCore
from threadstore.validation import check_id

__all__ = ["ApprovalMethods"]


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

        ``ttl`` is a timedelta or seconds; the default is 7 days.

        Raises:
            ThreadNotFoundError: the thread does not exist.
        """
        args = inputs.suspended_state_input(
            approval_id, thread_id, agent_name, node_name, state_json, ttl
        )
        async with self.unit(write=True) as unit:
            return await unit.approvals.save(args)

    async def get_suspended_state(self, approval_id: str) -> SuspendedStateRecord | None:
        """Return the state, or None if it does not exist or has expired."""
        check_id("approval_id", approval_id)
        async with self.unit(write=False) as unit:
            return await unit.approvals.get(approval_id)

    async def list_suspended_states(
        self, *, thread_id: str | None = None, agent_name: str | None = None
    ) -> list[SuspendedStateRecord]:
        """List unexpired states, oldest first."""
        inputs.optional_ids(thread_id=thread_id, agent_name=agent_name)
        async with self.unit(write=False) as unit:
            return await unit.approvals.find(thread_id, agent_name)

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
            return await unit.checkpoints.get(thread_id, checkpoint_ns, checkpoint_id)

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
            return await unit.checkpoints.find(thread_id, checkpoint_ns, before, maximum)
