"""LangGraph long-term memory rows in SQL: key lookups, upserts, keyset scans, vector ranking.

On PostgreSQL, and on SQLite with sqlite-vec loaded, :meth:`SqlMemoryItems.ranked`
orders rows by the cosine distance of their embeddings in SQL
(:mod:`threadstore.store.sql.vector_distance`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import CursorResult

from threadstore.models import MemoryItem, MemoryVector
from threadstore.models.context import GLOBAL_SCOPE
from threadstore.store.memory_item_rows import (
    NAMESPACE_SEPARATOR,
    ItemKey,
    MemoryItemRow,
    ScanCursor,
    VectorRanking,
    join_namespace,
    split_namespace,
)
from threadstore.store.sql.vector_distance import pg_distance, sqlite_distance

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["VECTOR_KEYS", "SqlMemoryItems", "memory_items", "memory_vectors"]

memory_items = cast(Table, MemoryItem.__table__)
memory_vectors = cast(Table, MemoryVector.__table__)
_i = memory_items.c
_v = memory_vectors.c


def _unexpired(now: datetime) -> ColumnElement[bool]:
    return or_(_i.expires_at.is_(None), _i.expires_at > now)


def under_prefix(column: Any, prefix: tuple[str, ...]) -> ColumnElement[bool]:
    """Whether a stored namespace starts with the whole labels of ``prefix``."""
    if not prefix:
        return cast(ColumnElement[bool], column.is_not(None))
    joined = join_namespace(prefix)
    head = joined + NAMESPACE_SEPARATOR
    return or_(column == joined, func.substr(column, 1, len(head)) == head)


VECTOR_KEYS = 500
"""Keys one ``vectors`` statement looks up: PostgreSQL parses a list of ten
thousand ``(namespace, key)`` pairs past its stack depth limit."""

_SCAN_ORDER = (_i.updated_at.desc(), _i.namespace.desc(), _i.key.desc())
_SAME_ITEM = and_(_v.scope == _i.scope, _v.namespace == _i.namespace, _v.key == _i.key)


def _row(row: Any) -> MemoryItemRow:
    return MemoryItemRow(
        namespace=split_namespace(row.namespace),
        key=row.key,
        value=row.value,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ttl_minutes=row.ttl_minutes,
        expires_at=row.expires_at,
    )


class SqlMemoryItems:
    """See :class:`~threadstore.store.memory_item_rows.MemoryItemRows`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._scope = unit.owner if unit.owner is not None else GLOBAL_SCOPE

    def _keyed(self, table: Table, keys: Sequence[ItemKey]) -> ColumnElement[bool]:
        pairs = [(join_namespace(ns), key) for ns, key in keys]
        return and_(
            table.c.scope == self._scope,
            tuple_(table.c.namespace, table.c.key).in_(pairs),
        )

    async def get(self, keys: Sequence[ItemKey], now: datetime) -> list[MemoryItemRow]:
        """See :meth:`MemoryItemRows.get`."""
        if not keys:
            return []
        query = select(memory_items).where(self._keyed(memory_items, keys), _unexpired(now))
        result = await self._unit.execute(query)
        return [_row(r) for r in result]

    async def put(
        self,
        rows: Sequence[MemoryItemRow],
        vectors: Mapping[ItemKey, dict[str, list[float]]] | None,
    ) -> None:
        """See :meth:`MemoryItemRows.put`: one upsert, one delete, one insert for all rows."""
        if not rows:
            return
        insert = self._unit.ctx.upsert(memory_items)
        new = insert.excluded
        expired = and_(_i.expires_at.is_not(None), _i.expires_at <= new.updated_at)
        statement = insert.on_conflict_do_update(
            index_elements=[_i.scope, _i.namespace, _i.key],
            set_={
                "value": new.value,
                "updated_at": new.updated_at,
                "ttl_minutes": new.ttl_minutes,
                "expires_at": new.expires_at,
                "created_at": case((expired, new.created_at), else_=_i.created_at),
            },
        )
        params = [
            {
                "scope": self._scope,
                "namespace": join_namespace(row.namespace),
                "key": row.key,
                "depth": len(row.namespace),
                "value": row.value,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "ttl_minutes": row.ttl_minutes,
                "expires_at": row.expires_at,
            }
            for row in rows
        ]
        await self._unit.execute(statement, params, write=True)
        if vectors is None:
            return
        keys = [row.item_key for row in rows]
        await self._unit.execute(
            delete(memory_vectors).where(self._keyed(memory_vectors, keys)), write=True
        )
        embedded = [
            {
                "scope": self._scope,
                "namespace": join_namespace(key[0]),
                "key": key[1],
                "field": field,
                "embedding": embedding,
            }
            for key in keys
            for field, embedding in vectors.get(key, {}).items()
        ]
        if embedded:
            await self._unit.execute(memory_vectors.insert(), embedded, write=True)

    async def delete(self, keys: Sequence[ItemKey]) -> None:
        """See :meth:`MemoryItemRows.delete`."""
        if not keys:
            return
        await self._unit.execute(
            delete(memory_vectors).where(self._keyed(memory_vectors, keys)), write=True
        )
        await self._unit.execute(
            delete(memory_items).where(self._keyed(memory_items, keys)), write=True
        )

    async def refresh(self, keys: Sequence[ItemKey], now: datetime) -> None:
        """See :meth:`MemoryItemRows.refresh`; one UPDATE per distinct TTL."""
        if not keys:
            return
        found = await self.get(keys, now)
        by_ttl: dict[float, list[ItemKey]] = {}
        for row in found:
            if row.ttl_minutes is not None:
                by_ttl.setdefault(row.ttl_minutes, []).append(row.item_key)
        for ttl, same in by_ttl.items():
            await self._unit.execute(
                update(memory_items)
                .where(self._keyed(memory_items, same), _unexpired(now))
                .values(expires_at=now + timedelta(minutes=ttl)),
                write=True,
            )

    async def scan(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        after: ScanCursor | None,
        size: int,
    ) -> list[MemoryItemRow]:
        """See :meth:`MemoryItemRows.scan`."""
        query = self._under(select(memory_items), prefix, now)
        if after is not None:
            query = query.where(tuple_(_i.updated_at, _i.namespace, _i.key) < after)
        result = await self._unit.execute(query.order_by(*_SCAN_ORDER).limit(size))
        return [_row(r) for r in result]

    def _under(self, query: Select[Any], prefix: tuple[str, ...], now: datetime) -> Select[Any]:
        return query.where(
            _i.scope == self._scope, under_prefix(_i.namespace, prefix), _unexpired(now)
        )

    def vector_ranking(self) -> VectorRanking | None:
        """See :meth:`MemoryItemRows.vector_ranking`: itself on PostgreSQL and sqlite-vec."""
        ctx = self._unit.ctx
        return self if ctx.sqlite_vec or ctx.dialect == "postgresql" else None

    async def ranked(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        query: Sequence[float],
        start: int,
        size: int,
    ) -> list[tuple[MemoryItemRow, float]]:
        """See :meth:`VectorRanking.ranked`: one GROUP BY over the item's vectors."""
        if self._unit.ctx.dialect == "postgresql":
            distance = await pg_distance(self._unit, query)
        else:
            distance = sqlite_distance(_v.embedding, query)
        nearest = func.min(distance).label("distance")
        statement = (
            self._under(select(memory_items, nearest), prefix, now)
            .join(memory_vectors, _SAME_ITEM)
            .group_by(_i.scope, _i.namespace, _i.key)
            .order_by(nearest, *_SCAN_ORDER)
            .offset(start)
            .limit(size)
        )
        result = await self._unit.execute(statement)
        return [(_row(r), float(r.distance)) for r in result]

    async def unembedded(
        self,
        prefix: tuple[str, ...],
        now: datetime,
        after: ScanCursor | None,
        size: int,
    ) -> list[MemoryItemRow]:
        """See :meth:`VectorRanking.unembedded`."""
        query = self._under(select(memory_items), prefix, now).where(~exists().where(_SAME_ITEM))
        if after is not None:
            query = query.where(tuple_(_i.updated_at, _i.namespace, _i.key) < after)
        result = await self._unit.execute(query.order_by(*_SCAN_ORDER).limit(size))
        return [_row(r) for r in result]

    async def vectors(self, keys: Sequence[ItemKey]) -> dict[ItemKey, list[list[float]]]:
        """See :meth:`MemoryItemRows.vectors`; :data:`VECTOR_KEYS` keys per statement.

        Floats, whatever the JSON text: PostgreSQL's JSONB gives a component
        written as ``1e+200`` back as ``1000...0`` (a Python int, whose exact
        squares can overflow ``math.sqrt``).
        """
        found: dict[ItemKey, list[list[float]]] = {}
        for start in range(0, len(keys), VECTOR_KEYS):
            query = (
                select(_v.namespace, _v.key, _v.embedding)
                .where(self._keyed(memory_vectors, keys[start : start + VECTOR_KEYS]))
                .order_by(_v.namespace, _v.key, _v.field)
            )
            for row in await self._unit.execute(query):
                vector = [float(x) for x in row.embedding]
                found.setdefault((split_namespace(row.namespace), row.key), []).append(vector)
        return found

    async def namespaces(self, now: datetime) -> list[tuple[str, ...]]:
        """See :meth:`MemoryItemRows.namespaces`."""
        query = (
            select(_i.namespace)
            .where(_i.scope == self._scope, _unexpired(now))
            .group_by(_i.namespace)
        )
        return [split_namespace(ns) for ns in (await self._unit.execute(query)).scalars()]

    async def sweep(self, now: datetime, limit: int) -> int:
        """See :meth:`MemoryItemRows.sweep`; a view sweeps its own scope only."""
        victims = (
            select(_i.scope, _i.namespace, _i.key)
            .where(_i.expires_at <= now)
            .order_by(_i.expires_at, _i.scope, _i.namespace, _i.key)
            .limit(limit)
        )
        if self._unit.owner is not None:
            victims = victims.where(_i.scope == self._unit.owner)
        keys = [tuple(r) for r in await self._unit.execute(victims)]
        if not keys:
            return 0
        await self._unit.execute(
            delete(memory_vectors).where(tuple_(_v.scope, _v.namespace, _v.key).in_(keys)),
            write=True,
        )
        result = await self._unit.execute(
            delete(memory_items).where(tuple_(_i.scope, _i.namespace, _i.key).in_(keys)),
            write=True,
        )
        return cast(CursorResult[Any], result).rowcount
