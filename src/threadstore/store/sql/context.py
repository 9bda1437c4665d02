"""Context items in SQL: upserts with their routes, reads with routing in one query."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select
from sqlalchemy.engine import CursorResult

from threadstore.models.context import ROUTE_SUBSCRIBER, ROUTE_TOPIC
from threadstore.records import ContextItemRecord
from threadstore.store.context_inputs import ContextItemInput
from threadstore.store.paging import KeysetPage
from threadstore.store.scoping import context_scope, refuse_foreign_scope
from threadstore.store.sql.keyset import keyset
from threadstore.store.sql.tables import agent_topics, context_items, context_record, context_routes

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlContextItems"]


def _unexpired(now: datetime) -> ColumnElement[bool]:
    return or_(context_items.c.expires_at.is_(None), context_items.c.expires_at > now)


def _routed_to(scope: str, agent_name: str, key: str | None) -> ColumnElement[bool]:
    """Whether a context item of ``scope`` read by the enclosing query reaches ``agent_name``.

    Three uncorrelated key lists of the scope, each a range of an index,
    evaluated once inside the one query that reads the items: the keys that
    have routes (an item without any is a broadcast), the keys naming the
    agent as subscriber, and the keys posted to one of the agent's topics.
    Their cost follows the scope's routes, never the whole table's; given a
    ``key``, they shrink to that item's routes.
    """
    mine = [context_routes.c.scope == scope]
    if key is not None:
        mine.append(context_routes.c.key == key)
    routed = select(context_routes.c.key).where(*mine)
    by_name = select(context_routes.c.key).where(
        *mine,
        context_routes.c.kind == ROUTE_SUBSCRIBER,
        context_routes.c.name == agent_name,
    )
    by_topic = (
        select(context_routes.c.key)
        .join(
            agent_topics,
            and_(
                agent_topics.c.scope == context_routes.c.scope,
                agent_topics.c.topic == context_routes.c.name,
            ),
        )
        .where(
            *mine,
            context_routes.c.kind == ROUTE_TOPIC,
            agent_topics.c.agent_name == agent_name,
        )
    )
    return or_(
        context_items.c.key.not_in(routed),
        context_items.c.key.in_(by_name),
        context_items.c.key.in_(by_topic),
    )


def _unexpired_count(expiries: Sequence[datetime | None], now: datetime) -> int:
    return sum(1 for expires_at in expiries if expires_at is None or expires_at > now)


class SqlContextItems:
    """See :class:`~threadstore.store.ports.ContextRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def save(self, args: ContextItemInput) -> ContextItemRecord:
        """See :meth:`ContextRepository.save`; upsert and routes in one transaction."""
        args = dataclasses.replace(args, scope=refuse_foreign_scope(self._unit.owner, args.scope))
        now = self._unit.ctx.clock()
        values: dict[str, Any] = {
            "scope": args.scope,
            "key": args.key,
            "value": args.value,
            "subscribers": args.subscribers,
            "topics": args.topics,
            "posted_by": args.posted_by,
            "ttl": args.ttl,
            "created_at": now,
            "expires_at": None if args.lifetime is None else now + args.lifetime,
        }
        statement = self._unit.ctx.upsert(context_items).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[context_items.c.scope, context_items.c.key],
            set_={
                name: statement.excluded[name] for name in values if name not in {"scope", "key"}
            },
        )
        routes = [
            {"scope": args.scope, "key": args.key, "kind": kind, "name": name}
            for kind, names in ((ROUTE_SUBSCRIBER, args.subscribers), (ROUTE_TOPIC, args.topics))
            for name in names
        ]
        unit = self._unit
        await unit.execute(statement, write=True)
        await unit.execute(
            delete(context_routes).where(
                context_routes.c.scope == args.scope, context_routes.c.key == args.key
            ),
            write=True,
        )
        if routes:
            await unit.execute(insert(context_routes), routes, write=True)
        return context_record(values)

    def _visible(self, scope: str, agent: str | None, key: str | None = None) -> Any:
        query = select(context_items).where(
            context_items.c.scope == scope, _unexpired(self._unit.ctx.clock())
        )
        if key is not None:
            query = query.where(context_items.c.key == key)
        return query if agent is None else query.where(_routed_to(scope, agent, key))

    async def get(self, scope: str, key: str, agent: str | None) -> ContextItemRecord | None:
        """See :meth:`ContextRepository.get`; one query, routing included."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return None
        row = (await self._unit.execute(self._visible(mine, agent, key))).mappings().first()
        return None if row is None else context_record(row)

    async def delete(self, scope: str, key: str) -> bool:
        """See :meth:`ContextRepository.delete`; its routes go by ON DELETE CASCADE."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return False
        statement = (
            delete(context_items)
            .where(context_items.c.scope == mine, context_items.c.key == key)
            .returning(context_items.c.expires_at)
        )
        now = self._unit.ctx.clock()
        expiries = (await self._unit.execute(statement, write=True)).scalars().all()
        return _unexpired_count(expiries, now) > 0

    async def all(self, scope: str, agent: str | None, page: KeysetPage) -> list[ContextItemRecord]:
        """See :meth:`ContextRepository.all`; a range of the ``(scope, key)`` key, routed."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return []
        where, order = keyset([context_items.c.key], page)
        query = self._visible(mine, agent).where(*where).order_by(*order).limit(page.limit)
        rows = (await self._unit.execute(query)).mappings().all()
        return [context_record(row) for row in rows]

    async def cleanup(self) -> int:
        """See :meth:`ContextRepository.cleanup`; a range of the expiry index."""
        statement = delete(context_items).where(
            context_items.c.expires_at <= self._unit.ctx.clock()
        )
        if self._unit.owner is not None:
            statement = statement.where(context_items.c.scope == self._unit.owner)
        result = await self._unit.execute(statement, write=True)
        return cast(CursorResult[Any], result).rowcount

    async def clear(self, scope: str) -> int:
        """See :meth:`ContextRepository.clear`."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return 0
        statement = (
            delete(context_items)
            .where(context_items.c.scope == mine)
            .returning(context_items.c.expires_at)
        )
        now = self._unit.ctx.clock()
        expiries = (await self._unit.execute(statement, write=True)).scalars().all()
        return _unexpired_count(expiries, now)
