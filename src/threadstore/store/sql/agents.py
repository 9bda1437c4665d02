"""Agents' topic subscriptions and posting permissions in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import CursorResult

from threadstore.store.scoping import context_scope, refuse_foreign_scope
from threadstore.store.sql.tables import agent_permissions, agent_topics

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlAgents"]


def _delete_topics(scope: str, agent: str) -> Any:
    return delete(agent_topics).where(
        agent_topics.c.scope == scope, agent_topics.c.agent_name == agent
    )


class SqlAgents:
    """See :class:`~threadstore.store.ports.AgentRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    def _mine(self, scope: str) -> str | None:
        return context_scope(self._unit.owner, scope)

    async def save_topics(self, scope: str, agent: str, topics: list[str]) -> None:
        """See :meth:`AgentRepository.save_topics`; old rows replaced in one transaction."""
        scope = refuse_foreign_scope(self._unit.owner, scope)
        rows = [
            {"scope": scope, "agent_name": agent, "topic": topic, "position": position}
            for position, topic in enumerate(topics)
        ]
        await self._unit.execute(_delete_topics(scope, agent), write=True)
        if rows:
            await self._unit.execute(insert(agent_topics), rows, write=True)

    async def topics(self, scope: str, agent: str) -> list[str]:
        """See :meth:`AgentRepository.topics`."""
        mine = self._mine(scope)
        if mine is None:
            return []
        scope = mine
        query = (
            select(agent_topics.c.topic)
            .where(agent_topics.c.scope == scope, agent_topics.c.agent_name == agent)
            .order_by(agent_topics.c.position)
        )
        return list((await self._unit.execute(query)).scalars().all())

    async def all_topics(self, scope: str) -> dict[str, list[str]]:
        """See :meth:`AgentRepository.all_topics`."""
        mine = self._mine(scope)
        if mine is None:
            return {}
        scope = mine
        query = (
            select(agent_topics.c.agent_name, agent_topics.c.topic)
            .where(agent_topics.c.scope == scope)
            .order_by(agent_topics.c.agent_name, agent_topics.c.position)
        )
        subscriptions: dict[str, list[str]] = {}
        for row in (await self._unit.execute(query)).mappings():
            subscriptions.setdefault(row["agent_name"], []).append(row["topic"])
        return subscriptions

    async def remove_topics(self, scope: str, agent: str) -> bool:
        """See :meth:`AgentRepository.remove_topics`."""
        mine = self._mine(scope)
        if mine is None:
            return False
        scope = mine
        result = await self._unit.execute(_delete_topics(scope, agent), write=True)
        return cast(CursorResult[Any], result).rowcount > 0

    async def save_permissions(self, scope: str, agent: str, allowed: list[str]) -> None:
        """See :meth:`AgentRepository.save_permissions`; one upsert."""
        scope = refuse_foreign_scope(self._unit.owner, scope)
        values = {"scope": scope, "agent_name": agent, "allowed_topics": allowed}
        statement = self._unit.ctx.upsert(agent_permissions).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[agent_permissions.c.scope, agent_permissions.c.agent_name],
            set_={"allowed_topics": statement.excluded["allowed_topics"]},
        )
        await self._unit.execute(statement, write=True)

    async def permissions(self, scope: str, agent: str) -> list[str] | None:
        """See :meth:`AgentRepository.permissions`."""
        mine = self._mine(scope)
        if mine is None:
            return None
        scope = mine
        query = select(agent_permissions.c.allowed_topics).where(
            agent_permissions.c.scope == scope, agent_permissions.c.agent_name == agent
        )
        allowed: list[str] | None = (await self._unit.execute(query)).scalar_one_or_none()
        return allowed

    async def all_permissions(self, scope: str) -> dict[str, list[str]]:
        """See :meth:`AgentRepository.all_permissions`."""
        mine = self._mine(scope)
        if mine is None:
            return {}
        scope = mine
        query = (
            select(agent_permissions.c.agent_name, agent_permissions.c.allowed_topics)
            .where(agent_permissions.c.scope == scope)
            .order_by(agent_permissions.c.agent_name)
        )
        rows = (await self._unit.execute(query)).mappings()
        return {row["agent_name"]: row["allowed_topics"] for row in rows}

    async def remove_permissions(self, scope: str, agent: str) -> bool:
        """See :meth:`AgentRepository.remove_permissions`."""
        mine = self._mine(scope)
        if mine is None:
            return False
        scope = mine
        statement = delete(agent_permissions).where(
            agent_permissions.c.scope == scope, agent_permissions.c.agent_name == agent
        )
        result = await self._unit.execute(statement, write=True, one_statement=True)
        return cast(CursorResult[Any], result).rowcount > 0
