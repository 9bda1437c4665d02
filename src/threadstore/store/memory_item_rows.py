"""Rows of LangGraph's long-term memory store and the repository each backend implements.

Nothing here imports LangGraph: :mod:`threadstore.langgraph.store` owns every
LangGraph rule (filters, ranking, TTL defaults) and stores plain rows through
``unit.memory_items``. Every method works in the unit's scope: the owner of a
``for_user`` view, or the global scope ``""``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "NAMESPACE_SEPARATOR",
    "UNRANKED",
    "ItemKey",
    "MemoryItemRow",
    "MemoryItemRows",
    "ScanCursor",
    "VectorRanking",
    "join_namespace",
    "split_namespace",
]

NAMESPACE_SEPARATOR = "."
"""Joins namespace labels in storage (LangGraph forbids it inside a label)."""

ItemKey = tuple[tuple[str, ...], str]
"""(namespace, key)."""

UNRANKED = -1.0
"""The distance :meth:`VectorRanking.ranked` gives a row the database cannot compare."""

ScanCursor = tuple[datetime, str, str]
"""The last row a scan returned: (updated_at, joined namespace, key)."""


def join_namespace(namespace: Sequence[str]) -> str:
    """The stored form of a namespace tuple."""
    return NAMESPACE_SEPARATOR.join(namespace)


def split_namespace(stored: str) -> tuple[str, ...]:
    """The namespace tuple of a stored namespace."""
    return tuple(stored.split(NAMESPACE_SEPARATOR)) if stored else ()


@dataclass(frozen=True, slots=True)
class MemoryItemRow:
    """One stored document; ``vectors`` maps indexed field paths to embeddings."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    ttl_minutes: float | None
    expires_at: datetime | None

    @property
    def item_key(self) -> ItemKey:
        """(namespace, key)."""
        return (self.namespace, self.key)

    @property
    def cursor(self) -> ScanCursor:
        """The scan position just after this row."""
        return (self.updated_at, join_namespace(self.namespace), self.key)


class MemoryItemRows(Protocol):
    """Long-term memory rows of the unit's scope; expired rows are never returned."""

    async def get(self, keys: Sequence[ItemKey], now: datetime) -> list[MemoryItemRow]:
        """The unexpired rows among ``keys`` (any order)."""

    async def put(
        self,
        rows: Sequence[MemoryItemRow],
        vectors: Mapping[ItemKey, dict[str, list[float]]] | None,
    ) -> None:
        """Insert or replace rows (distinct keys), keeping a live row's ``created_at``.

        ``vectors`` replaces the rows' embeddings (a row absent from it, or
        mapped to ``{}``, loses its own); None leaves them as they are.
        """

    async def delete(self, keys: Sequence[ItemKey]) -> None:
        """Delete the rows (and their vectors); absent keys are ignored."""

    async def refresh(self, keys: Sequence[ItemKey], now: datetime) -> None:
        """Move ``expires_at`` to ``now + ttl_minutes`` for unexpired rows with a TTL."""

    async def scan(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        after: ScanCursor | None,
        size: int,
    ) -> list[MemoryItemRow]:
        """Up to ``size`` unexpired rows under ``prefix`` (whole labels), after ``after``.

        Order: ``updated_at`` newest first, then namespace and key descending.
        """

    async def vectors(self, keys: Sequence[ItemKey]) -> dict[ItemKey, list[list[float]]]:
        """The embeddings of the rows (rows without any are absent)."""

    async def namespaces(self, now: datetime) -> list[tuple[str, ...]]:
        """Every namespace holding an unexpired row (any order)."""

    async def sweep(self, now: datetime, limit: int) -> int:
        """Delete up to ``limit`` expired rows of every scope; return how many."""

    def vector_ranking(self) -> VectorRanking | None:
        """The ranking of rows by embedding in the database, if it has one (sync: no I/O)."""


class VectorRanking(Protocol):
    """Rows ranked by cosine distance in the database (PostgreSQL, SQLite with sqlite-vec)."""

    async def ranked(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        query: Sequence[float],
        start: int,
        size: int,
    ) -> list[tuple[MemoryItemRow, float]]:
        """Rows ``start`` to ``start + size`` under ``prefix`` that have an embedding.

        Each with the cosine distance (float32 or better) of its nearest
        embedding to ``query``, nearest first, ties in :meth:`MemoryItemRows.scan`
        order; :data:`UNRANKED` (first) where it cannot be computed there (a zero
        vector or query, another length, on PostgreSQL a component outside 1e-150
        to 1e150), for the caller to rank exactly.
        """

    async def unembedded(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        after: ScanCursor | None,
        size: int,
    ) -> list[MemoryItemRow]:
        """:meth:`MemoryItemRows.scan` of the rows that have no embedding."""
