"""Public message and feedback methods, written once for every backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from threadstore.errors import ThreadNotFoundError
from threadstore.records import FeedbackRecord, MessageRecord, NewMessage, Page
from threadstore.store import inputs
from threadstore.store.core import StoreCore
from threadstore.store.paging import KeysetPage, page_request
from threadstore.validation import check_id, check_limit

__all__ = ["MessageMethods"]


class MessageMethods(StoreCore):
    """Messages (ordered by a per-thread ``seq``) and feedback."""

    async def add_message(
        self,
        thread_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> MessageRecord:
        """Append a message; it gets the thread's next ``seq``.

        With an ``idempotency_key`` (unique per thread), a retry returns the
        message first stored under the key (same id and seq) and writes
        nothing, also when retries race.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            DuplicateRecordError: the key was used for a message of other content.
            ValidationError: an argument is invalid.
        """
        check_id("thread_id", thread_id)
        message = inputs.message_input(role, content, metadata, idempotency_key)
        async with self.unit(write=True) as unit:
            return (await unit.messages.append(thread_id, [message]))[0]

    async def add_messages(
        self, thread_id: str, messages: Sequence[NewMessage]
    ) -> list[MessageRecord]:
        """Append a batch of messages atomically: all are stored or none.

        An empty batch writes nothing and returns ``[]``. Items may carry an
        ``idempotency_key`` as in :meth:`add_message`; an item whose key is
        stored comes back as the stored message.

        Raises:
            ThreadNotFoundError: the thread does not exist (also for an empty batch).
            ValidationError: an item is invalid (nothing is written).
        """
        check_id("thread_id", thread_id)
        batch = inputs.message_inputs(messages)
        if not batch:
            async with self.unit(write=False) as unit:
                if not await unit.threads.exists(thread_id):
                    raise ThreadNotFoundError(thread_id)
            return []
        async with self.unit(write=True) as unit:
            return await unit.messages.append(thread_id, batch)

    async def get_messages(
        self,
        thread_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
    ) -> list[MessageRecord]:
        """Return a page of a thread's messages in ``seq`` order.

        ``after_seq``/``before_seq`` bound the page by keyset (exclusive);
        ``newest_first`` reverses the order; ``offset`` applies after those.
        An unknown thread gives ``[]``.
        """
        check_id("thread_id", thread_id)
        page = inputs.message_page(limit, offset, after_seq, before_seq, newest_first)
        async with self.unit(write=False, may_lag=True) as unit:
            return await unit.messages.page(thread_id, page)

    async def pop_message(self, thread_id: str) -> MessageRecord | None:
        """Remove and return a thread's last message (highest ``seq``), atomically.

        Concurrent pops each get a different message. ``message_count`` drops
        by one and the next append reuses the freed ``seq``, so seqs stay
        gap-free. An unknown or empty thread gives None and writes nothing.

        Raises:
            ValidationError: ``thread_id`` is invalid.
        """
        check_id("thread_id", thread_id)
        async with self.unit(write=True) as unit:
            return await unit.messages.pop(thread_id)

    async def clear_messages(self, thread_id: str) -> int:
        """Delete every message of a thread (the thread stays); return how many.

        ``message_count`` becomes 0 and the next append gets ``seq`` 0. An
        unknown thread gives 0.

        Raises:
            ValidationError: ``thread_id`` is invalid.
        """
        check_id("thread_id", thread_id)
        async with self.unit(write=True) as unit:
            return await unit.messages.clear(thread_id)

    async def add_feedback(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        rating: int | None = None,
        comment: str | None = None,
        message_id: int | None = None,
        feedback_type: str = "thumbs",
        query: str | None = "",
        response: str | None = "",
        correction: str | None = None,
    ) -> FeedbackRecord:
        """Record feedback on a thread (optionally on one message).

        Unlike Agentomatic's SQL store, feedback on a missing thread is an error
        on every backend, never an orphan row.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            RecordNotFoundError: ``message_id`` names no message of this thread.
            ValidationError: e.g. a rating outside 1..5.
        """
        args = inputs.feedback_input(
            thread_id,
            user_id,
            agent_name,
            rating=rating,
            comment=comment,
            message_id=message_id,
            feedback_type=feedback_type,
            query=query,
            response=response,
            correction=correction,
        )
        async with self.unit(write=True) as unit:
            return await unit.feedback.add(args)

    async def get_feedback(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        thread_id: str | None = None,
        limit: int = 50,
    ) -> list[FeedbackRecord]:
        """Return feedback, newest first, filtered by any of the given fields."""
        inputs.optional_ids(agent_name=agent_name, user_id=user_id, thread_id=thread_id)
        read = KeysetPage(check_limit("limit", limit), descending=True)
        async with self.unit(write=False) as unit:
            return await unit.feedback.find(agent_name, user_id, thread_id, read)

    async def get_feedback_page(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        thread_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[FeedbackRecord]:
        """Return a page of feedback, newest first (ties by id), and the next page's cursor.

        Pass ``next_cursor`` back as ``cursor`` with the same filters; it is
        None on the last page. Feedback is never changed, so a walk returns
        every item that exists from its first page to its last exactly once;
        feedback added meanwhile is newer than the walk and does not appear.

        Raises:
            ValidationError: a bad filter, ``limit`` below 1, or a cursor that
                is malformed or was made for other filters.
        """
        inputs.optional_ids(agent_name=agent_name, user_id=user_id, thread_id=thread_id)
        request = page_request(
            "get_feedback_page",
            "created:desc",
            {
                "agent_name": agent_name,
                "user_id": user_id,
                "thread_id": thread_id,
                "view": self.scope_owner(),
            },
            limit=limit,
            cursor=cursor,
            kinds=("time", "int"),
            descending=True,
        )
        async with self.unit(write=False) as unit:
            rows = await unit.feedback.find(agent_name, user_id, thread_id, request.read)
        return request.page(rows, lambda f: (f["created_at"], f["id"]))
