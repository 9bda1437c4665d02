"""Messages and feedback in a MemoryStore."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, cast

from threadstore.errors import ThreadNotFoundError
from threadstore.records import FeedbackRecord, MessageRecord
from threadstore.store.inputs import (
    FeedbackInput,
    MessageInput,
    MessagePage,
    key_reused,
    message_not_in_thread,
)
from threadstore.store.memory.keyset import keyset
from threadstore.store.memory.message_log import MessageLog
from threadstore.store.memory.scoping import owns
from threadstore.store.memory.state import copied
from threadstore.store.paging import KeysetPage

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryFeedback", "MemoryMessages"]


class MemoryMessages:
    """See :class:`~threadstore.store.ports.MessageRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit

    async def append(self, thread_id: str, batch: Sequence[MessageInput]) -> list[MessageRecord]:
        """See :meth:`MessageRepository.append`."""
        state, journal = self._unit.state, self._unit.journal
        thread = state.threads.get(thread_id)
        if thread is None or not owns(state, self._unit.owner, thread_id):
            raise ThreadNotFoundError(thread_id)
        now = self._unit.stamp()
        stored = state.messages[thread_id]
        found = [self._stored_under(thread_id, item, stored) for item in batch]
        fresh = [item for item, record in zip(batch, found, strict=True) if record is None]
        first_id = journal.take_ids(state, "message", len(fresh))
        added: list[MessageRecord] = [
            {
                "id": first_id + offset,
                "thread_id": thread_id,
                "seq": len(stored) + offset,
                "role": item.role,
                "content": item.content,
                "metadata": item.metadata,
                "timestamp": now,
            }
            for offset, item in enumerate(fresh)
        ]
        for item, record in zip(fresh, added, strict=True):
            if item.idempotency_key is not None:
                journal.put(state.message_keys, (thread_id, item.idempotency_key), record["seq"])
        if added:
            journal.extend(stored, added)
            journal.set_fields(
                thread,
                message_count=len(stored),
                updated_at=now,
                version=thread["version"] + 1,
            )
        new = iter(added)
        return copied([record if record is not None else next(new) for record in found])

    def _stored_under(
        self, thread_id: str, item: MessageInput, stored: MessageLog
    ) -> MessageRecord | None:
        if item.idempotency_key is None:
            return None
        seq = self._unit.state.message_keys.get((thread_id, item.idempotency_key))
        if seq is None:
            return None
        if not item.same_as(stored[seq]):
            raise key_reused(item.idempotency_key, thread_id)
        return stored[seq]

    async def page(self, thread_id: str, page: MessagePage) -> list[MessageRecord]:
        """See :meth:`MessageRepository.page`."""
        stored = self._unit.state.messages.get(thread_id)
        if stored is None or not owns(self._unit.state, self._unit.owner, thread_id):
            return []
        low = 0 if page.after_seq is None else max(0, page.after_seq + 1)
        high = len(stored) if page.before_seq is None else max(0, min(len(stored), page.before_seq))
        if page.newest_first:
            stop = max(low, high - page.offset)
            return stored.copies(max(low, stop - page.limit), stop)[::-1]
        start = min(high, low + page.offset)
        return stored.copies(start, min(high, start + page.limit))

    async def pop(self, thread_id: str) -> MessageRecord | None:
        """See :meth:`MessageRepository.pop`."""
        stored = self._unit.state.messages.get(thread_id)
        if not stored or not owns(self._unit.state, self._unit.owner, thread_id):
            return None
        last = stored[-1]
        self._cut(thread_id, len(stored) - 1)
        return copied(last)

    async def clear(self, thread_id: str) -> int:
        """See :meth:`MessageRepository.clear`."""
        stored = self._unit.state.messages.get(thread_id)
        if not stored or not owns(self._unit.state, self._unit.owner, thread_id):
            return 0
        count = len(stored)
        self._cut(thread_id, 0)
        return count

    def _cut(self, thread_id: str, size: int) -> None:
        """Keep the first ``size`` messages; forget the keys of the rest; update the thread."""
        state, journal = self._unit.state, self._unit.journal
        journal.truncate(state.messages[thread_id], size)
        for key, seq in list(state.message_keys.items()):
            if key[0] == thread_id and seq >= size:
                journal.pop(state.message_keys, key)
        thread = state.threads[thread_id]
        journal.set_fields(
            thread, message_count=size, updated_at=self._unit.stamp(), version=thread["version"] + 1
        )


class MemoryFeedback:
    """See :class:`~threadstore.store.ports.FeedbackRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit

    async def add(self, args: FeedbackInput) -> FeedbackRecord:
        """See :meth:`FeedbackRepository.add`."""
        state = self._unit.state
        if args.thread_id not in state.threads or not owns(state, self._unit.owner, args.thread_id):
            raise ThreadNotFoundError(args.thread_id)
        if args.message_id is not None and not state.messages[args.thread_id].has_id(
            args.message_id
        ):
            raise message_not_in_thread(args.message_id, args.thread_id)
        record_id = self._unit.journal.take_ids(state, "feedback", 1)
        record = cast(
            FeedbackRecord, {"id": record_id, **asdict(args), "created_at": self._unit.stamp()}
        )
        self._unit.journal.put(state.feedback, record_id, record)
        return copied(record)

    async def find(
        self,
        agent_name: str | None,
        user_id: str | None,
        thread_id: str | None,
        page: KeysetPage,
    ) -> list[FeedbackRecord]:
        """See :meth:`FeedbackRepository.find`."""
        items = [
            f
            for f in self._unit.state.feedback.values()
            if (agent_name is None or f["agent_name"] == agent_name)
            and (user_id is None or f["user_id"] == user_id)
            and (thread_id is None or f["thread_id"] == thread_id)
            and owns(self._unit.state, self._unit.owner, f["thread_id"])
        ]
        return copied(keyset(items, lambda f: (f["created_at"], f["id"]), page))
