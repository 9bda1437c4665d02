"""Feedback in SQL."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from threadstore.errors import ThreadNotFoundError
from threadstore.records import FeedbackRecord
from threadstore.store.inputs import FeedbackInput, message_not_in_thread
from threadstore.store.paging import KeysetPage
from threadstore.store.sql.keyset import keyset
from threadstore.store.sql.scoping import require_owned_thread, thread_owned
from threadstore.store.sql.tables import feedback, feedback_record, messages, threads

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlFeedback"]


class SqlFeedback:
    """See :class:`~threadstore.store.ports.FeedbackRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def add(self, args: FeedbackInput) -> FeedbackRecord:
        """See :meth:`FeedbackRepository.add`; a missing thread is a FK violation."""
        values: dict[str, Any] = {**asdict(args), "created_at": self._unit.ctx.clock()}
        if args.message_id is None:
            await require_owned_thread(self._unit, args.thread_id)
        else:
            await self._require_message(args.thread_id, args.message_id)
        statement = insert(feedback).values(values).returning(feedback.c.id)
        result = await self._unit.execute(statement, write=True, thread_id=args.thread_id)
        values["id"] = result.scalar_one()
        return feedback_record(values)

    async def _require_message(self, thread_id: str, message_id: int | None) -> None:
        """Raise unless the (visible) thread exists and ``message_id`` is one of its messages."""
        owned = [] if self._unit.owner is None else [threads.c.user_id == self._unit.owner]
        query = select(
            select(threads.c.id).where(threads.c.id == thread_id, *owned).exists().label("thread"),
            select(messages.c.id)
            .where(messages.c.id == message_id, messages.c.thread_id == thread_id)
            .exists()
            .label("message"),
        )
        found = (await self._unit.execute(query, write=True)).mappings().one()
        if not found["thread"]:
            raise ThreadNotFoundError(thread_id)
        if not found["message"]:
            assert message_id is not None
            raise message_not_in_thread(message_id, thread_id)

    async def find(
        self,
        agent_name: str | None,
        user_id: str | None,
        thread_id: str | None,
        page: KeysetPage,
    ) -> list[FeedbackRecord]:
        """See :meth:`FeedbackRepository.find`; a range of ``(filter, created_at, id)``."""
        where, order = keyset([feedback.c.created_at, feedback.c.id], page)
        query = (
            select(feedback)
            .where(*thread_owned(feedback.c.thread_id, self._unit.owner), *where)
            .order_by(*order)
            .limit(page.limit)
        )
        for column, value in (
            (feedback.c.agent_name, agent_name),
            (feedback.c.user_id, user_id),
            (feedback.c.thread_id, thread_id),
        ):
            if value is not None:
                query = query.where(column == value)
        rows = (await self._unit.execute(query)).mappings().all()
        return [feedback_record(row) for row in rows]
