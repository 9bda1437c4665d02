"""Execution states suspended while waiting for a human's approval."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import Identifier

__all__ = ["SuspendedState"]


class SuspendedState(Base):
    """A graph state parked under an approval id until approved or expired.

    Keyed ``(thread_id, id)``. An approval id is still unique across threads:
    the store checks it when saving (under a transaction advisory lock on
    PostgreSQL), since a Citus key must hold the thread; ``(id)`` is indexed for
    the calls that name only the approval id.
    """

    __tablename__ = "threadstore_suspended_states"

    id: Mapped[str] = mapped_column(Identifier)
    thread_id: Mapped[str] = mapped_column(
        Identifier, ForeignKey("threadstore_threads.id", ondelete="CASCADE")
    )
    agent_name: Mapped[str] = mapped_column(Identifier)
    node_name: Mapped[str] = mapped_column(Identifier)
    state_snapshot: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("thread_id", "id"),
        Index(None, "id"),
        # list_suspended_states(_page) pages oldest first by (created_at, id), unfiltered or
        # under one filter.
        Index(None, "created_at", "id"),
        Index(None, "thread_id", "created_at", "id"),
        Index(None, "agent_name", "created_at", "id"),
        Index(None, "expires_at"),
    )
