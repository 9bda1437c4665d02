"""Conversation threads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.models.mixins import VersionedMixin
from threadstore.types import Identifier

__all__ = ["Thread"]


class Thread(VersionedMixin, Base):
    """A conversation between one user and one agent; forks point at their parent.

    ``version`` (see :class:`VersionedMixin`) counts the thread's changes.
    """

    __tablename__ = "threadstore_threads"

    id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    user_id: Mapped[str] = mapped_column(Identifier)
    agent_name: Mapped[str] = mapped_column(Identifier)
    title: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    message_count: Mapped[int] = mapped_column(Integer, server_default="0")
    parent_thread_id: Mapped[str | None] = mapped_column(
        Identifier, ForeignKey("threadstore_threads.id", ondelete="SET NULL")
    )
    fork_message_index: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("message_count >= 0", name="message_count_non_negative"),
        # list_threads(_page) read keyset ranges of (updated_at, id) or (created_at, id),
        # optionally per user (every for_user view) or agent.
        Index(None, "updated_at", "id"),
        Index(None, "user_id", "updated_at", "id"),
        Index(None, "agent_name", "updated_at", "id"),
        Index(None, "created_at", "id"),
        Index(None, "user_id", "created_at", "id"),
        Index(None, "agent_name", "created_at", "id"),
        Index(None, "parent_thread_id"),
        # query_threads(metadata_contains=...): JSONB @> on PostgreSQL (revision 0007).
        Index(
            "ix_threadstore_threads_metadata_gin",
            "metadata",
            postgresql_using="gin",
            postgresql_ops={"metadata": "jsonb_path_ops"},
        ).ddl_if(dialect="postgresql"),
    )
