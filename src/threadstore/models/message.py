"""Messages of a thread, ordered by a gap-free per-thread sequence number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import SQLITE_ROWID_KEY, Base
from threadstore.types import BigIntId, Identifier

__all__ = ["Message"]


class Message(Base):
    """One message; ``(thread_id, seq)`` is unique and is the order of the thread.

    The key is ``(thread_id, id)`` (``id`` alone on SQLite, see
    :data:`~threadstore.models.base.SQLITE_ROWID_KEY`); ids come from one
    sequence (SQLite's rowid) and are unique across threads.

    ``idempotency_key`` (optional, unique per thread) lets a retried append find
    the message it already wrote.
    """

    __tablename__ = "threadstore_messages"

    id: Mapped[int] = mapped_column(BigIntId, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(
        Identifier, ForeignKey("threadstore_threads.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(Identifier)
    content: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    timestamp: Mapped[datetime]
    idempotency_key: Mapped[str | None] = mapped_column(Identifier)

    __table_args__ = (
        PrimaryKeyConstraint("thread_id", "id").ddl_if(dialect="postgresql"),
        Index(None, "thread_id", "id", unique=True).ddl_if(dialect="sqlite"),
        UniqueConstraint("thread_id", "seq"),
        CheckConstraint("seq >= 0", name="seq_non_negative"),
        # A key is unique per thread. Partial: messages without a key (most) cost no
        # index entry; an upsert names the predicate to infer it (ON CONFLICT ... WHERE).
        Index(
            None,
            "thread_id",
            "idempotency_key",
            unique=True,
            sqlite_where=text("idempotency_key IS NOT NULL"),
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # query_messages reads (timestamp, thread_id, seq), within a thread
        # (thread_id, timestamp, seq); metadata_contains is JSONB @> on PostgreSQL (0007).
        # The per-thread one also holds role (0011), so aggregate_stats counts by role from
        # it alone: PostgreSQL INCLUDEs it (no plan can range over it), SQLite has no INCLUDE.
        Index(None, "timestamp", "thread_id", "seq"),
        Index(None, "thread_id", "timestamp", "seq", postgresql_include=["role"]).ddl_if(
            dialect="postgresql"
        ),
        Index(None, "thread_id", "timestamp", "seq", "role").ddl_if(dialect="sqlite"),
        Index(
            "ix_threadstore_messages_metadata_gin",
            "metadata",
            postgresql_using="gin",
            postgresql_ops={"metadata": "jsonb_path_ops"},
        ).ddl_if(dialect="postgresql"),
        {"info": {SQLITE_ROWID_KEY: "id"}},
    )
