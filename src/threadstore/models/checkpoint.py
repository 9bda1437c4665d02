"""LangGraph checkpoints and their pending writes, keyed by thread, namespace and id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import Identifier

__all__ = ["Checkpoint", "CheckpointWrite", "run_id_of"]

# The namespace may be empty (LangGraph's root graph) and ids sort in creation
# order (uuid6), so both use byte-wise ordering on PostgreSQL as on SQLite.
_Namespace = String(255).with_variant(String(255, collation="C"), "postgresql")

_MAX_RUN_ID = 255

_SerdeType = String(64)
"""The type tag LangGraph's serializer returns with a payload (``msgpack``, ...)."""


def run_id_of(metadata: dict[str, Any]) -> str | None:
    """The run a checkpoint belongs to: its metadata ``run_id``, when it is an id."""
    run_id = metadata.get("run_id")
    if isinstance(run_id, str) and 0 < len(run_id) <= _MAX_RUN_ID:
        return run_id
    return None


class Checkpoint(Base):
    """A checkpoint; no foreign key, since a graph may checkpoint any thread id.

    ``checkpoint`` and ``metadata`` are JSON. Rows written by the LangGraph
    saver keep everything that is not plain JSON (the channel values) in
    ``payload``, serialised by LangGraph's serializer, with its type tag in
    ``payload_type``; rows written by ``BaseStore.save_checkpoint`` have none.
    ``run_id`` copies the metadata's ``run_id`` (see :func:`run_id_of`), indexed
    so that LangGraph's ``delete_for_runs`` does not scan every checkpoint.
    """

    __tablename__ = "threadstore_checkpoints"
    __table_args__ = (Index(None, "run_id"),)

    thread_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    checkpoint_ns: Mapped[str] = mapped_column(_Namespace, primary_key=True)
    checkpoint_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    parent_checkpoint_id: Mapped[str | None] = mapped_column(Identifier)
    checkpoint: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime]
    payload_type: Mapped[str | None] = mapped_column(_SerdeType)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    run_id: Mapped[str | None] = mapped_column(Identifier)


class CheckpointWrite(Base):
    """A pending write of a LangGraph task, attached to a checkpoint.

    No foreign key to the checkpoint: LangGraph may save a step's writes
    before the checkpoint they belong to is committed. Deleting a thread's
    checkpoints deletes its writes in the same transaction.
    """

    __tablename__ = "threadstore_checkpoint_writes"

    thread_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    checkpoint_ns: Mapped[str] = mapped_column(_Namespace, primary_key=True)
    checkpoint_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    task_id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(Text)
    task_path: Mapped[str] = mapped_column(Text)
    value_type: Mapped[str] = mapped_column(_SerdeType)
    value: Mapped[bytes] = mapped_column(LargeBinary)
