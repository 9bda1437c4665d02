"""Suspended states and checkpoint records in a MemoryStore."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threadstore.clock import isoformat
from threadstore.errors import ThreadNotFoundError
from threadstore.records import CheckpointRecord, SuspendedStateRecord
from threadstore.store.inputs import SuspendedInput, approval_of_other_thread
from threadstore.store.memory.keyset import keyset
from threadstore.store.memory.scoping import owns
from threadstore.store.memory.state import copied
from threadstore.store.paging import KeysetPage

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryApprovals", "MemoryCheckpoints"]


class MemoryApprovals:
    """See :class:`~threadstore.store.ports.ApprovalRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._states = unit.state.suspended

    def _live(self, record: SuspendedStateRecord) -> bool:
        return record["expires_at"] > self._unit.stamp() and self._mine(record)

    def _mine(self, record: SuspendedStateRecord) -> bool:
        return owns(self._unit.state, self._unit.owner, record["thread_id"])

    async def save(self, args: SuspendedInput) -> SuspendedStateRecord:
        """See :meth:`ApprovalRepository.save`."""
        state = self._unit.state
        if args.thread_id not in state.threads or not owns(state, self._unit.owner, args.thread_id):
            raise ThreadNotFoundError(args.thread_id)
        existing = self._states.get(args.approval_id)
        if (
            existing is not None
            and existing["thread_id"] != args.thread_id
            and existing["expires_at"] > self._unit.stamp()
        ):
            raise approval_of_other_thread(args.approval_id)
        now = self._unit.clock()
        record: SuspendedStateRecord = {
            "id": args.approval_id,
            "thread_id": args.thread_id,
            "agent_name": args.agent_name,
            "node_name": args.node_name,
            "state_snapshot": args.state,
            "created_at": isoformat(now),
            "expires_at": isoformat(now + args.lifetime),
        }
        self._unit.journal.put(self._states, args.approval_id, record)
        return copied(record)

    async def get(self, approval_id: str) -> SuspendedStateRecord | None:
        """See :meth:`ApprovalRepository.get`."""
        record = self._states.get(approval_id)
        return copied(record) if record is not None and self._live(record) else None

    async def find(
        self, thread_id: str | None, agent_name: str | None, page: KeysetPage
    ) -> list[SuspendedStateRecord]:
        """See :meth:`ApprovalRepository.find`."""
        items = [
            s
            for s in self._states.values()
            if self._live(s)
            and (thread_id is None or s["thread_id"] == thread_id)
            and (agent_name is None or s["agent_name"] == agent_name)
        ]
        return copied(keyset(items, lambda s: (s["created_at"], s["id"]), page))

    async def delete(self, approval_id: str) -> bool:
        """See :meth:`ApprovalRepository.delete`."""
        record = self._states.get(approval_id)
        if record is None or not self._mine(record):
            return False
        return self._unit.journal.pop(self._states, approval_id) is not None

    async def cleanup(self) -> int:
        """See :meth:`ApprovalRepository.cleanup`."""
        now = self._unit.stamp()
        expired = [k for k, s in self._states.items() if s["expires_at"] <= now and self._mine(s)]
        for key in expired:
            self._unit.journal.pop(self._states, key)
        return len(expired)


class MemoryCheckpoints:
    """See :class:`~threadstore.store.ports.CheckpointRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit

    async def save(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """See :meth:`CheckpointRepository.save`; drops any saver payload of the id."""
        state, journal = self._unit.state, self._unit.journal
        if self._unit.owner is not None and not owns(state, self._unit.owner, thread_id):
            raise ThreadNotFoundError(thread_id)
        journal.pop(state.checkpoint_payloads, (thread_id, checkpoint_ns, checkpoint_id))
        namespace = state.checkpoints.get((thread_id, checkpoint_ns))
        if namespace is None:
            namespace = {}
            journal.put(state.checkpoints, (thread_id, checkpoint_ns), namespace)
        record: CheckpointRecord = {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
            "parent_checkpoint_id": parent_checkpoint_id,
            "checkpoint": checkpoint,
            "metadata": metadata,
            "created_at": self._unit.stamp(),
        }
        journal.put(namespace, checkpoint_id, record)

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """See :meth:`CheckpointRepository.get`."""
        if not owns(self._unit.state, self._unit.owner, thread_id):
            return None
        saved = self._unit.state.checkpoints.get((thread_id, checkpoint_ns), {})
        record = saved.get(checkpoint_id or max(saved, default=""))
        return None if record is None else copied(record)

    async def find(
        self, thread_id: str, checkpoint_ns: str, before: str | None, limit: int | None
    ) -> list[CheckpointRecord]:
        """See :meth:`CheckpointRepository.find`."""
        if not owns(self._unit.state, self._unit.owner, thread_id):
            return []
        saved = self._unit.state.checkpoints.get((thread_id, checkpoint_ns), {})
        ids = sorted((c for c in saved if before is None or c < before), reverse=True)
        return copied([saved[c] for c in ids[:limit]])
