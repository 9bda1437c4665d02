"""Context items, agent topics and agent permissions in a MemoryStore."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from threadstore.clock import isoformat
from threadstore.records import ContextItemRecord
from threadstore.store import context_inputs
from threadstore.store.context_inputs import ContextItemInput
from threadstore.store.memory.keyset import keyset
from threadstore.store.memory.state import copied
from threadstore.store.paging import KeysetPage
from threadstore.store.scoping import context_scope, refuse_foreign_scope

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryAgents", "MemoryContext"]


class MemoryContext:
    """See :class:`~threadstore.store.ports.ContextRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._items = unit.state.context

    def _unexpired(self, item: ContextItemRecord) -> bool:
        return item["expires_at"] is None or item["expires_at"] > self._unit.stamp()

    def _routed(self, item: ContextItemRecord, scope: str, agent: str | None) -> bool:
        if agent is None or not (item["subscribers"] or item["topics"]):
            return True
        subscribed = self._unit.state.agent_topics.get((scope, agent), [])
        return agent in item["subscribers"] or any(t in subscribed for t in item["topics"])

    async def save(self, args: ContextItemInput) -> ContextItemRecord:
        """See :meth:`ContextRepository.save`."""
        args = dataclasses.replace(args, scope=refuse_foreign_scope(self._unit.owner, args.scope))
        now = self._unit.clock()
        record: ContextItemRecord = {
            "key": args.key,
            "value": args.value,
            "subscribers": args.subscribers,
            "topics": args.topics,
            "ttl": args.ttl,
            "created_at": isoformat(now),
            "expires_at": None if args.lifetime is None else isoformat(now + args.lifetime),
            "user_id": context_inputs.user_of(args.scope),
            "posted_by": args.posted_by,
        }
        self._unit.journal.put(self._items, (args.scope, args.key), record)
        return copied(record)

    async def get(self, scope: str, key: str, agent: str | None) -> ContextItemRecord | None:
        """See :meth:`ContextRepository.get`."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return None
        scope = mine
        item = self._items.get((scope, key))
        if item is None or not self._unexpired(item) or not self._routed(item, scope, agent):
            return None
        return copied(item)

    async def delete(self, scope: str, key: str) -> bool:
        """See :meth:`ContextRepository.delete`."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return False
        item = self._unit.journal.pop(self._items, (mine, key))
        return item is not None and self._unexpired(item)

    async def all(self, scope: str, agent: str | None, page: KeysetPage) -> list[ContextItemRecord]:
        """See :meth:`ContextRepository.all`."""
        mine = context_scope(self._unit.owner, scope)
        if mine is None:
            return []
        items = [
            item
            for (item_scope, _), item in self._items.items()
            if item_scope == mine and self._unexpired(item) and self._routed(item, mine, agent)
        ]
        return copied(keyset(items, lambda item: (item["key"],), page))

    async def cleanup(self) -> int:
        """See :meth:`ContextRepository.cleanup`."""
        owner = self._unit.owner
        expired = [
            k
            for k, item in self._items.items()
            if not self._unexpired(item) and (owner is None or k[0] == owner)
        ]
        for key in expired:
            self._unit.journal.pop(self._items, key)
        return len(expired)

    async def clear(self, scope: str) -> int:
        """See :meth:`ContextRepository.clear`."""
        mine = context_scope(self._unit.owner, scope)
        keys = [k for k in self._items if k[0] == mine]
        removed = [self._unit.journal.pop(self._items, k) for k in keys]
        return sum(1 for item in removed if item is not None and self._unexpired(item))


def _per_agent(lists: dict[tuple[str, str], list[str]], scope: str | None) -> dict[str, list[str]]:
    return {agent: list(names) for (s, agent), names in sorted(lists.items()) if s == scope}


class MemoryAgents:
    """See :class:`~threadstore.store.ports.AgentRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._owner = unit.owner
        self._journal = unit.journal
        self._topics = unit.state.agent_topics
        self._permissions = unit.state.agent_permissions

    async def save_topics(self, scope: str, agent: str, topics: list[str]) -> None:
        """See :meth:`AgentRepository.save_topics`."""
        scope = refuse_foreign_scope(self._owner, scope)
        if topics:
            self._journal.put(self._topics, (scope, agent), list(topics))
        else:
            self._journal.pop(self._topics, (scope, agent))

    async def topics(self, scope: str, agent: str) -> list[str]:
        """See :meth:`AgentRepository.topics`."""
        mine = self._mine(scope)
        return [] if mine is None else list(self._topics.get((mine, agent), []))

    def _mine(self, scope: str) -> str | None:
        return context_scope(self._owner, scope)

    async def all_topics(self, scope: str) -> dict[str, list[str]]:
        """See :meth:`AgentRepository.all_topics`."""
        return _per_agent(self._topics, self._mine(scope))

    async def remove_topics(self, scope: str, agent: str) -> bool:
        """See :meth:`AgentRepository.remove_topics`."""
        mine = self._mine(scope)
        return mine is not None and self._journal.pop(self._topics, (mine, agent)) is not None

    async def save_permissions(self, scope: str, agent: str, allowed: list[str]) -> None:
        """See :meth:`AgentRepository.save_permissions`."""
        scope = refuse_foreign_scope(self._owner, scope)
        self._journal.put(self._permissions, (scope, agent), list(allowed))

    async def permissions(self, scope: str, agent: str) -> list[str] | None:
        """See :meth:`AgentRepository.permissions`."""
        mine = self._mine(scope)
        allowed = None if mine is None else self._permissions.get((mine, agent))
        return None if allowed is None else list(allowed)

    async def all_permissions(self, scope: str) -> dict[str, list[str]]:
        """See :meth:`AgentRepository.all_permissions`."""
        return _per_agent(self._permissions, self._mine(scope))

    async def remove_permissions(self, scope: str, agent: str) -> bool:
        """See :meth:`AgentRepository.remove_permissions`."""
        mine = self._mine(scope)
        return mine is not None and self._journal.pop(self._permissions, (mine, agent)) is not None
