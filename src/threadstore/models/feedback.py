"""User feedback on agent answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import SQLITE_ROWID_KEY, Base
from threadstore.types import BigIntId, Identifier

__all__ = ["Feedback"]


class Feedback(Base):
    """A rating and/or comment on a thread or one of its messages.

    Keyed ``(thread_id, id)`` (``id`` alone on SQLite, as messages). ``message_id``
    names a message of the same thread: ``(thread_id, message_id)`` is that
    message's key, checked when the feedback is added (no foreign key: a
    popped or cleared message keeps its feedback).
    """

    __tablename__ = "threadstore_feedback"

    id: Mapped[int] = mapped_column(BigIntId, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(
        Identifier, ForeignKey("threadstore_threads.id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(Identifier)
    agent_name: Mapped[str] = mapped_column(Identifier)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    feedback_type: Mapped[str] = mapped_column(Identifier)
    query: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    correction: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("thread_id", "id").ddl_if(dialect="postgresql"),
        Index(None, "thread_id", "id", unique=True).ddl_if(dialect="sqlite"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        # get_feedback(_page) pages newest first by (created_at, id), unfiltered or per filter.
        Index(None, "created_at", "id"),
        Index(None, "thread_id", "created_at", "id"),
        Index(None, "agent_name", "created_at", "id"),
        Index(None, "user_id", "created_at", "id"),
        {"info": {SQLITE_ROWID_KEY: "id"}},
    )
