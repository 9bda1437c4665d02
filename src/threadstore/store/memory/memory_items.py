"""LangGraph long-term memory rows inside a MemoryStore: copied in and out, journaled."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from threadstore.models.context import GLOBAL_SCOPE
from threadstore.store.memory_item_rows import (
    ItemKey,
    MemoryItemRow,
    ScanCursor,
    VectorRanking,
    join_namespace,
)

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryMemoryItems"]


def _live(row: MemoryItemRow, now: datetime) -> bool:
    return row.expires_at is None or row.expires_at > now


def _copy(row: MemoryItemRow) -> MemoryItemRow:
    return dataclasses.replace(row, value=copy.deepcopy(row.value))


class MemoryMemoryItems:
    """See :class:`~threadstore.store.memory_item_rows.MemoryItemRows`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._state = unit.state
        self._journal = unit.journal
        self._scope = unit.owner if unit.owner is not None else GLOBAL_SCOPE

    def _rows(self) -> dict[ItemKey, MemoryItemRow]:
        rows = self._state.memory_items.get(self._scope)
        if rows is None:
            rows = {}
            self._journal.put(self._state.memory_items, self._scope, rows)
        return rows

    async def get(self, keys: Sequence[ItemKey], now: datetime) -> list[MemoryItemRow]:
        """See :meth:`MemoryItemRows.get`."""
        rows = self._state.memory_items.get(self._scope, {})
        found = (rows.get(key) for key in dict.fromkeys(keys))
        return [_copy(row) for row in found if row is not None and _live(row, now)]

    async def put(
        self,
        rows: Sequence[MemoryItemRow],
        vectors: Mapping[ItemKey, dict[str, list[float]]] | None,
    ) -> None:
        """See :meth:`MemoryItemRows.put`."""
        if not rows:
            return
        stored = self._rows()
        for row in rows:
            old = stored.get(row.item_key)
            if old is not None and _live(old, row.updated_at):
                row = dataclasses.replace(row, created_at=old.created_at)
            self._journal.put(stored, row.item_key, _copy(row))
            if vectors is not None:
                embedded = copy.deepcopy(vectors.get(row.item_key, {}))
                self._journal.put(
                    self._state.memory_vectors, (self._scope, *row.item_key), embedded
                )

    async def delete(self, keys: Sequence[ItemKey]) -> None:
        """See :meth:`MemoryItemRows.delete`."""
        rows = self._state.memory_items.get(self._scope, {})
        for key in keys:
            self._journal.pop(rows, key)
            self._journal.pop(self._state.memory_vectors, (self._scope, *key))

    async def refresh(self, keys: Sequence[ItemKey], now: datetime) -> None:
        """See :meth:`MemoryItemRows.refresh`."""
        rows = self._state.memory_items.get(self._scope, {})
        for key in dict.fromkeys(keys):
            row = rows.get(key)
            if row is not None and _live(row, now) and row.ttl_minutes is not None:
                expires = now + timedelta(minutes=row.ttl_minutes)
                self._journal.put(rows, key, dataclasses.replace(row, expires_at=expires))

    async def scan(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        after: ScanCursor | None,
        size: int,
    ) -> list[MemoryItemRow]:
        """See :meth:`MemoryItemRows.scan`."""
        rows = self._state.memory_items.get(self._scope, {})
        depth = len(prefix)
        hits = [
            row
            for (namespace, _), row in rows.items()
            if namespace[:depth] == prefix
            and _live(row, now)
            and (after is None or row.cursor < after)
        ]
        hits.sort(key=lambda row: row.cursor, reverse=True)
        return [_copy(row) for row in hits[:size]]

    async def vectors(self, keys: Sequence[ItemKey]) -> dict[ItemKey, list[list[float]]]:
        """See :meth:`MemoryItemRows.vectors`."""
        found: dict[ItemKey, list[list[float]]] = {}
        for key in dict.fromkeys(keys):
            saved = self._state.memory_vectors.get((self._scope, *key))
            if saved:
                found[key] = [copy.copy(saved[field]) for field in sorted(saved)]
        return found

    async def namespaces(self, now: datetime) -> list[tuple[str, ...]]:
        """See :meth:`MemoryItemRows.namespaces`."""
        rows = self._state.memory_items.get(self._scope, {})
        return list(dict.fromkeys(ns for (ns, _), row in rows.items() if _live(row, now)))

    async def sweep(self, now: datetime, limit: int) -> int:
        """See :meth:`MemoryItemRows.sweep`; a view sweeps its own scope only."""
        owner = self._unit.owner
        victims = sorted(
            (row.expires_at, scope, join_namespace(row.namespace), row.key, key)
            for scope, rows in self._state.memory_items.items()
            if owner is None or scope == owner
            for key, row in rows.items()
            if row.expires_at is not None and row.expires_at <= now
        )[:limit]
        for _, scope, _, _, key in victims:
            self._journal.pop(self._state.memory_items[scope], key)
            self._journal.pop(self._state.memory_vectors, (scope, *key))
        return len(victims)

    def vector_ranking(self) -> VectorRanking | None:
        """See :meth:`MemoryItemRows.vector_ranking`: none, the store ranks in Python."""
        return None
