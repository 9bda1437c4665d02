"""Context items, agent topics and agent permissions in a MemoryStore."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threadstore.clock import isoformat
from threadstore.records import ContextItemRecord
from threadstore.store import context_inputs
from threadstore.store.context_inputs import ContextItemInput
from threadstore.store.memory.state import copied

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
        item = self._items.get((scope, key))
        if item is None or not self._unexpired(item) or not self._routed(item, scope, agent):
            return None
        return copied(item)

    async def delete(self, scope: str, key: str) -> bool:
        """See :meth:`ContextRepository.delete`."""
        item = self._unit.journal.pop(self._items, (scope, key))
        return item is not None and self._unexpired(item)

    async def all(self, scope: str, agent: str | None) -> list[ContextItemRecord]:
        """See :meth:`ContextRepository.all`."""
        items = [
            item
            for (item_scope, _), item in sorted(self._items.items())
            if item_scope == scope and self._unexpired(item) and self._routed(item, scope, agent)
        ]
        return copied(items)

    async def cleanup(self) -> int:
        """See :meth:`ContextRepository.cleanup`."""
        expired = [k for k, item in self._items.items() if not self._unexpired(item)]
        for key in expired:
            self._unit.journal.pop(self._items, key)
        return len(expired)

    async def clear(self, scope: str) -> int:
        """See :meth:`ContextRepository.clear`."""
        keys = [k for k in self._items if k[0] == scope]
        removed = [self._unit.journal.pop(self._items, k) for k in keys]
        return sum(1 for item in removed if item is not None and self._unexpired(item))


def _per_agent(lists: dict[tuple[str, str], list[str]], scope: str) -> dict[str, list[str]]:
    return {agent: list(names) for (s, agent), names in sorted(lists.items()) if s == scope}


class MemoryAgents:
    """See :class:`~threadstore.store.ports.AgentRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._journal = unit.journal
        self._topics = unit.state.agent_topics
        self._permissions = unit.state.agent_permissions

    async def save_topics(self, scope: str, agent: str, topics: list[str]) -> None:
        """See :meth:`AgentRepository.save_topics`."""
        if topics:
            self._journal.put(self._topics, (scope, agent), list(topics))
        else:
            self._journal.pop(self._topics, (scope, agent))

    async def topics(self, scope: str, agent: str) -> list[str]:
        """See :meth:`AgentRepository.topics`."""
        return list(self._topics.get((scope, agent), []))

    async def all_topics(self, scope: str) -> dict[str, list[str]]:
        """See :meth:`AgentRepository.all_topics`."""
        return _per_agent(self._topics, scope)

    async def remove_topics(self, scope: str, agent: str) -> bool:
        """See :meth:`AgentRepository.remove_topics`."""
        return self._journal.pop(self._topics, (scope, agent)) is not None

    async def save_permissions(self, scope: str, agent: str, allowed: list[str]) -> None:
        """See :meth:`AgentRepository.save_permissions`."""
        self._journal.put(self._permissions, (scope, agent), list(allowed))

    async def permissions(self, scope: str, agent: str) -> list[str] | None:
        """See :meth:`AgentRepository.permissions`."""
        allowed = self._permissions.get((scope, agent))
        return None if allowed is None else list(allowed)

    async def all_permissions(self, scope: str) -> dict[str, list[str]]:
        """See :meth:`AgentRepository.all_permissions`."""
        return _per_agent(self._permissions, scope)

    async def remove_permissions(self, scope: str, agent: str) -> bool:
        """See :meth:`AgentRepository.remove_permissions`."""
        return self._journal.pop(self._permissions, (scope, agent)) is not None
