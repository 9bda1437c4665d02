"""Erasure and retention in a MemoryStore: the same deletes as SQL, journaled."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from threadstore.clock import isoformat
from threadstore.store.checkpoint_rows import DELTA_METADATA_KEY, CheckpointKey
from threadstore.store.memory.memory_items import MemoryMemoryItems
from threadstore.store.memory.scoping import owns
from threadstore.store.memory.threads import remove_thread
from threadstore.store.ports import PRUNED_KINDS, THREAD_KINDS, Counts, NamespaceKey

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryMaintenance"]


class MemoryMaintenance:
    """See :class:`~threadstore.store.ports.MaintenanceRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._state = unit.state
        self._journal = unit.journal

    def now(self) -> datetime:
        """See :meth:`MaintenanceRepository.now`."""
        return self._unit.clock()

    def _delete_checkpoints(self, keys: Collection[CheckpointKey]) -> Counts:
        """Delete checkpoints (with payloads) and the pending writes stored under ``keys``."""
        state, journal = self._state, self._journal
        counts = dict.fromkeys(PRUNED_KINDS, 0)
        for thread_id, ns, checkpoint_id in keys:
            saved = state.checkpoints.get((thread_id, ns))
            if saved is not None and journal.pop(saved, checkpoint_id) is not None:
                counts["checkpoints"] += 1
            journal.pop(state.checkpoint_payloads, (thread_id, ns, checkpoint_id))
            writes = journal.pop(state.checkpoint_writes, (thread_id, ns, checkpoint_id))
            counts["checkpoint_writes"] += 0 if writes is None else len(writes)
        return counts

    def _delete_threads(self, ids: set[str], gave_feedback: str | None = None) -> Counts:
        state, journal = self._state, self._journal
        keys = {
            (t, ns, c) for (t, ns), saved in state.checkpoints.items() if t in ids for c in saved
        }
        keys.update(key for key in state.checkpoint_writes if key[0] in ids)
        counts = {**dict.fromkeys(THREAD_KINDS, 0), **self._delete_checkpoints(keys)}
        for namespace in [key for key in state.checkpoints if key[0] in ids]:
            journal.pop(state.checkpoints, namespace)
        given = [
            feedback_id
            for feedback_id, record in state.feedback.items()
            if record["thread_id"] in ids or record["user_id"] == gave_feedback
        ]
        counts["feedback"] = len(given)
        for feedback_id in given:
            journal.pop(state.feedback, feedback_id)
        counts["suspended_states"] = sum(
            1 for record in state.suspended.values() if record["thread_id"] in ids
        )
        counts["tool_calls"] = sum(
            1 for record in state.tool_calls.values() if record["thread_id"] in ids
        )
        counts["forks_detached"] = sum(
            1
            for thread in state.threads.values()
            if thread["parent_thread_id"] in ids and thread["id"] not in ids
        )
        for thread_id in sorted(ids):
            if thread_id in state.threads:
                counts["threads"] += 1
                counts["messages"] += len(state.messages.get(thread_id, []))
                remove_thread(self._unit, thread_id)
        return counts

    async def erase_user(self, user_id: str) -> Counts:
        """See :meth:`MaintenanceRepository.erase_user`."""
        state, journal = self._state, self._journal
        ids = {t["id"] for t in state.threads.values() if t["user_id"] == user_id}
        counts = self._delete_threads(ids, gave_feedback=user_id)
        for call_id in [k for k, c in state.tool_calls.items() if c["user_id"] == user_id]:
            journal.pop(state.tool_calls, call_id)
            counts["tool_calls"] += 1
        counts["runs"] = 0
        for log_id in [k for k, r in state.invocation_logs.items() if r["user_id"] == user_id]:
            journal.pop(state.invocation_logs, log_id)
            counts["runs"] += 1
        counts["context_items"] = counts["topics"] = counts["permissions"] = 0
        for key in [k for k in state.context if k[0] == user_id]:
            journal.pop(state.context, key)
            counts["context_items"] += 1
        for key in [k for k in state.agent_topics if k[0] == user_id]:
            topics: list[str] | None = journal.pop(state.agent_topics, key)
            counts["topics"] += 0 if topics is None else len(topics)
        for key in [k for k in state.agent_permissions if k[0] == user_id]:
            journal.pop(state.agent_permissions, key)
            counts["permissions"] += 1
        erased = journal.pop(state.memory_items, user_id) or {}
        for namespace, item_key in erased:
            journal.pop(state.memory_vectors, (user_id, namespace, item_key))
        counts["memory_items"] = len(erased)
        return counts

    async def delete_idle(self, before: datetime, limit: int) -> Counts:
        """See :meth:`MaintenanceRepository.delete_idle`."""
        cutoff, owner = isoformat(before), self._unit.owner
        idle = sorted(
            (t["updated_at"], t["id"])
            for t in self._state.threads.values()
            if t["updated_at"] < cutoff and (owner is None or t["user_id"] == owner)
        )
        return self._delete_threads({thread_id for _, thread_id in idle[:limit]})

    async def prune_checkpoints(
        self, keep_last: int, thread_id: str | None, after: NamespaceKey | None, limit: int
    ) -> tuple[Counts, NamespaceKey | None]:
        """See :meth:`MaintenanceRepository.prune_checkpoints`."""
        state, owner = self._state, self._unit.owner
        victims: list[CheckpointKey] = []
        for namespace in sorted(state.checkpoints):
            thread, ns = namespace
            saved = state.checkpoints[namespace]
            if (
                (thread_id is not None and thread != thread_id)
                or (after is not None and namespace < after)
                or not owns(state, owner, thread)
                or any(DELTA_METADATA_KEY in r["metadata"] for r in saved.values())
            ):
                continue
            older = sorted(saved, reverse=True)[keep_last:]
            victims.extend((thread, ns, c) for c in sorted(older))
            if len(victims) >= limit:
                break
        victims = victims[:limit]
        if not victims:
            return dict.fromkeys(PRUNED_KINDS, 0), None
        counts = self._delete_checkpoints(victims)
        deleted = set(victims)
        for thread, ns in {(t, n) for t, n, _ in victims}:
            for record in state.checkpoints[(thread, ns)].values():
                parent = record["parent_checkpoint_id"]
                if parent is not None and (thread, ns, parent) in deleted:
                    self._journal.set_fields(record, parent_checkpoint_id=None)
        reached = (victims[-1][0], victims[-1][1])
        return counts, reached if len(victims) == limit else None

    async def purge_expired(self, limit: int) -> Counts:
        """See :meth:`MaintenanceRepository.purge_expired`."""
        state, owner, now = self._state, self._unit.owner, self._unit.stamp()
        states = sorted(
            (record["expires_at"], approval_id)
            for approval_id, record in state.suspended.items()
            if record["expires_at"] <= now and owns(state, owner, record["thread_id"])
        )[:limit]
        items = sorted(
            (item["expires_at"], key)
            for key, item in state.context.items()
            if item["expires_at"] is not None
            and item["expires_at"] <= now
            and (owner is None or key[0] == owner)
        )[:limit]
        for _, approval_id in states:
            self._journal.pop(state.suspended, approval_id)
        for _, key in items:
            self._journal.pop(state.context, key)
        swept = await MemoryMemoryItems(self._unit).sweep(self._unit.clock(), limit)
        return {
            "suspended_states": len(states),
            "context_items": len(items),
            "memory_items": swept,
        }
