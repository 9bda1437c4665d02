"""Messages of a thread, ordered by a gap-free per-thread sequence number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import BigIntId, Identifier

__all__ = ["Message"]


class Message(Base):
    """One message; ``(thread_id, seq)`` is unique and is the order of the thread."""

    __tablename__ = "threadstore_messages"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(
        Identifier, ForeignKey("threadstore_threads.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(Identifier)
    content: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    timestamp: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("thread_id", "seq"),
        CheckConstraint("seq >= 0", name="seq_non_negative"),
    )
