"""LangGraph long-term memory: JSON documents under a namespace and key, and their vectors.

Every row is keyed by ``scope`` first, as context items are: the user of the
``for_user`` view that wrote it, or ``""`` (the global scope) for the store
itself. ``namespace`` is LangGraph's namespace tuple joined with ``.``
(LangGraph forbids dots in labels), and ``depth`` its number of labels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKeyConstraint, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import Identifier, JSONDocument

__all__ = ["EMBEDDING_ARRAY", "MemoryItem", "MemoryVector", "PathText"]

PathText: Any = Text().with_variant(Text(collation="C"), "postgresql")
"""Namespaces, keys and field paths: unbounded text, byte-wise order on PostgreSQL."""

EMBEDDING_ARRAY = "embedding_array"
"""PostgreSQL's generated ``float8[]`` copy of ``MemoryVector.embedding`` (revision 0012).

NULL where a component is outside 1e-150 to 1e150 in magnitude (zero aside).
It has no model attribute: it is generated, never written, and only the SQL
ranking reads it (:mod:`threadstore.store.sql.vector_distance`).
"""


class MemoryItem(Base):
    """One document of LangGraph's long-term store; expired once ``expires_at`` passed.

    ``ttl_minutes`` is the item's time to live (None: never expires); a read
    that refreshes moves ``expires_at`` to now plus it.
    """

    __tablename__ = "threadstore_memory_items"

    scope: Mapped[str] = mapped_column(Identifier, primary_key=True)
    namespace: Mapped[str] = mapped_column(PathText, primary_key=True)
    key: Mapped[str] = mapped_column(PathText, primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)
    value: Mapped[Any] = mapped_column(JSONDocument)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ttl_minutes: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[datetime | None]

    __table_args__ = (
        Index(None, "expires_at"),
        Index(None, "scope", "updated_at"),
    )


class MemoryVector(Base):
    """The embedding of one indexed text of an item (``field``: its path, ``$`` whole).

    ``embedding`` is a JSON array of floats, so every backend reads it the
    same way; it goes with its item (cascade). PostgreSQL also stores it as
    a float8 array (:data:`EMBEDDING_ARRAY`).
    """

    __tablename__ = "threadstore_memory_vectors"

    scope: Mapped[str] = mapped_column(Identifier, primary_key=True)
    namespace: Mapped[str] = mapped_column(PathText, primary_key=True)
    key: Mapped[str] = mapped_column(PathText, primary_key=True)
    field: Mapped[str] = mapped_column(PathText, primary_key=True)
    embedding: Mapped[list[float]] = mapped_column(JSONDocument)

    __table_args__ = (
        ForeignKeyConstraint(
            ["scope", "namespace", "key"],
            [
                "threadstore_memory_items.scope",
                "threadstore_memory_items.namespace",
                "threadstore_memory_items.key",
            ],
            ondelete="CASCADE",
        ),
    )
