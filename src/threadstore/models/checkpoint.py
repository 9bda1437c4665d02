"""LangGraph checkpoints, keyed by thread, namespace and checkpoint id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import Identifier

__all__ = ["Checkpoint"]

# The namespace may be empty (LangGraph's root graph) and ids sort in creation
# order (uuid6), so both use byte-wise ordering on PostgreSQL as on SQLite.
_Namespace = String(255).with_variant(String(255, collation="C"), "postgresql")


class Checkpoint(Base):
    """A checkpoint; no foreign key, since a graph may checkpoint any thread id."""

    __tablename__ = "threadstore_checkpoints"

    thread_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    checkpoint_ns: Mapped[str] = mapped_column(_Namespace, primary_key=True)
    checkpoint_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    parent_checkpoint_id: Mapped[str | None] = mapped_column(Identifier)
    checkpoint: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime]
