"""Threads, forks, lineage and counts in a MemoryStore."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from threadstore.errors import DuplicateRecordError
from threadstore.records import ThreadRecord
from threadstore.store.inputs import ThreadInput, ThreadUpdate, fork_title, version_conflict
from threadstore.store.memory.keyset import keyset
from threadstore.store.memory.message_log import MessageLog
from threadstore.store.memory.scoping import owns
from threadstore.store.memory.state import copied
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.ports import Counts
from threadstore.store.scoping import refuse_foreign_user

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryThreads", "delete_checkpoints", "delete_tool_calls", "remove_thread"]


def delete_checkpoints(unit: MemoryUnit, thread_id: str) -> None:
    """Remove a thread's checkpoints with their payloads and pending writes."""
    state, journal = unit.state, unit.journal
    for key in [key for key in state.checkpoints if key[0] == thread_id]:
        journal.pop(state.checkpoints, key)
    for full_key in [k for k in state.checkpoint_payloads if k[0] == thread_id]:
        journal.pop(state.checkpoint_payloads, full_key)
    for full_key in [k for k in state.checkpoint_writes if k[0] == thread_id]:
        journal.pop(state.checkpoint_writes, full_key)


def delete_tool_calls(unit: MemoryUnit, thread_id: str) -> None:
    """Remove a thread's tool calls (its runs are kept, as Agentomatic keeps them)."""
    calls = unit.state.tool_calls
    for call_id in [k for k, call in calls.items() if call["thread_id"] == thread_id]:
        unit.journal.pop(calls, call_id)


def remove_thread(unit: MemoryUnit, thread_id: str) -> None:
    """Remove a thread row with its messages, feedback and suspended states; detach forks."""
    state, journal = unit.state, unit.journal
    journal.pop(state.threads, thread_id)
    journal.pop(state.messages, thread_id)
    for key in [k for k in state.message_keys if k[0] == thread_id]:
        journal.pop(state.message_keys, key)
    for feedback_id in [k for k, f in state.feedback.items() if f["thread_id"] == thread_id]:
        journal.pop(state.feedback, feedback_id)
    for approval_id in [k for k, s in state.suspended.items() if s["thread_id"] == thread_id]:
        journal.pop(state.suspended, approval_id)
    for child in state.threads.values():
        if child["parent_thread_id"] == thread_id:
            journal.set_fields(child, parent_thread_id=None)
    delete_tool_calls(unit, thread_id)


class MemoryThreads:
    """See :class:`~threadstore.store.ports.ThreadRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._state = unit.state
        self._journal = unit.journal

    async def create(self, args: ThreadInput) -> ThreadRecord:
        """See :meth:`ThreadRepository.create`; may evict the least recently updated thread."""
        refuse_foreign_user(self._unit.owner, args.user_id)
        self._require_new(args.thread_id)
        thread = cast(ThreadRecord, args.new_thread(self._unit.stamp()))
        self._insert(thread, MessageLog(args.thread_id))
        return copied(thread)

    def _require_new(self, thread_id: str) -> None:
        if thread_id in self._state.threads:
            raise DuplicateRecordError(f"thread {thread_id!r} already exists")

    def _insert(self, thread: ThreadRecord, messages: MessageLog) -> None:
        state = self._state
        self._journal.put(state.threads, thread["id"], thread)
        self._journal.put(state.messages, thread["id"], messages)
        if state.max_threads is not None and len(state.threads) > state.max_threads:
            others = (t for t in state.threads.values() if t["id"] != thread["id"])
            oldest = min(others, key=lambda t: (t["updated_at"], t["id"]))
            remove_thread(self._unit, oldest["id"])

    def _visible(self, thread_id: str) -> ThreadRecord | None:
        thread = self._state.threads.get(thread_id)
        owner = self._unit.owner
        return None if thread is None or (owner and thread["user_id"] != owner) else thread

    async def get(self, thread_id: str) -> ThreadRecord | None:
        """See :meth:`ThreadRepository.get`."""
        thread = self._visible(thread_id)
        return None if thread is None else copied(thread)

    async def exists(self, thread_id: str) -> bool:
        """See :meth:`ThreadRepository.exists`."""
        return self._visible(thread_id) is not None

    def _matching(self, agent_name: str | None, user_id: str | None) -> list[ThreadRecord]:
        owner = self._unit.owner
        return [
            t
            for t in self._state.threads.values()
            if (agent_name is None or t["agent_name"] == agent_name)
            and (user_id is None or t["user_id"] == user_id)
            and (owner is None or t["user_id"] == owner)
        ]

    async def find(
        self, agent_name: str | None, user_id: str | None, limit: int, offset: int
    ) -> list[ThreadRecord]:
        """See :meth:`ThreadRepository.find`."""
        threads = self._matching(agent_name, user_id)
        threads.sort(key=lambda t: (t["updated_at"], t["id"]), reverse=True)
        return copied(threads[offset : offset + limit])

    async def page(
        self, agent_name: str | None, user_id: str | None, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """See :meth:`ThreadRepository.page`."""
        rows = self._matching(agent_name, user_id)
        return copied(keyset(rows, lambda t: (t[sort], t["id"]), page))

    async def update(self, thread_id: str, change: ThreadUpdate) -> ThreadRecord | None:
        """See :meth:`ThreadRepository.update`."""
        thread = self._visible(thread_id)
        if thread is None:
            return None
        if change.expected_version is not None and thread["version"] != change.expected_version:
            raise version_conflict(thread_id, change.expected_version, thread["version"])
        fields: dict[str, object] = {
            "updated_at": self._unit.stamp(),
            "version": thread["version"] + 1,
        }
        if change.set_title:
            fields["title"] = change.title
        if change.metadata is not None:
            fields["metadata"] = change.metadata
        if change.patch is not None:
            fields["metadata"] = {**thread["metadata"], **change.patch}
        self._journal.set_fields(thread, **fields)
        return copied(thread)

    async def delete(self, thread_id: str) -> bool:
        """See :meth:`ThreadRepository.delete`."""
        if not owns(self._state, self._unit.owner, thread_id):
            return False
        delete_checkpoints(self._unit, thread_id)
        delete_tool_calls(self._unit, thread_id)
        if thread_id not in self._state.threads:
            return False
        remove_thread(self._unit, thread_id)
        return True

    async def fork(
        self, parent_thread_id: str, index: int, new_thread_id: str, title: str | None
    ) -> ThreadRecord | None:
        """See :meth:`ThreadRepository.fork`."""
        state = self._state
        parent = self._visible(parent_thread_id)
        if parent is None or not 0 <= index < parent["message_count"]:
            return None
        self._require_new(new_thread_id)
        now = self._unit.stamp()
        thread: ThreadRecord = {
            "id": new_thread_id,
            "user_id": parent["user_id"],
            "agent_name": parent["agent_name"],
            "title": title or fork_title(parent["title"], parent["id"]),
            "metadata": copied(parent["metadata"]),
            "created_at": now,
            "updated_at": now,
            "message_count": index + 1,
            "parent_thread_id": parent["id"],
            "fork_message_index": index,
            "version": 1,
        }
        first = self._journal.take_ids(state, "message", index + 1)
        self._insert(thread, state.messages[parent["id"]].fork(new_thread_id, index + 1, first))
        return copied(thread)

    async def lineage(self, thread_id: str) -> tuple[list[ThreadRecord], list[ThreadRecord]]:
        """See :meth:`ThreadRepository.lineage`."""
        threads = self._state.threads
        ancestors: list[ThreadRecord] = []
        current = self._visible(thread_id)
        if current is None:
            return [], []
        while current is not None and current["parent_thread_id"] is not None:
            current = threads.get(current["parent_thread_id"])
            if current is not None:
                ancestors.append(current)
        ancestors.reverse()
        owner = self._unit.owner
        ancestors = [t for t in ancestors if owner is None or t["user_id"] == owner]
        children = [
            t
            for t in threads.values()
            if t["parent_thread_id"] == thread_id and (owner is None or t["user_id"] == owner)
        ]
        children.sort(key=lambda t: (t["created_at"], t["id"]))
        return copied(ancestors), copied(children)

    async def counts(self) -> Counts:
        """See :meth:`ThreadRepository.counts`."""
        state, owner = self._state, self._unit.owner
        if owner is None:
            return {
                "threads": len(state.threads),
                "messages": sum(len(m) for m in state.messages.values()),
                "feedback": len(state.feedback),
                "suspended_states": len(state.suspended),
                "checkpoints": sum(len(c) for c in state.checkpoints.values()),
                "context_items": len(state.context),
            }
        mine = {t["id"] for t in state.threads.values() if t["user_id"] == owner}
        return {
            "threads": len(mine),
            "messages": sum(len(state.messages[t]) for t in mine),
            "feedback": sum(1 for f in state.feedback.values() if f["thread_id"] in mine),
            "suspended_states": sum(1 for s in state.suspended.values() if s["thread_id"] in mine),
            "checkpoints": sum(len(c) for (t, _), c in state.checkpoints.items() if t in mine),
            "context_items": sum(1 for scope, _ in state.context if scope == owner),
        }
