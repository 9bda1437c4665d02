"""Public methods for agents' topic subscriptions and posting permissions, written once."""

from __future__ import annotations

from collections.abc import Sequence

from threadstore.store import context_inputs
from threadstore.store.core import StoreCore
from threadstore.validation import check_id

__all__ = ["AgentMethods"]


class AgentMethods(StoreCore):
    """Per-scope topic subscriptions (routing) and posting permissions of agents."""

    async def save_agent_topics(
        self, agent_name: str, topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """Replace the agent's topic subscriptions in the scope; return them.

        Duplicates are dropped and the order is kept; an empty list removes
        the agent's subscriptions.
        """
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        names = context_inputs.agent_names("topics", topics)
        async with self.unit(write=True) as unit:
            await unit.agents.save_topics(scope, agent, names)
        return list(names)

    async def get_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> list[str]:
        """Return the agent's topics in the scope, in saved order (``[]`` if none)."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        async with self.unit(write=False) as unit:
            return await unit.agents.topics(scope, agent)

    async def get_all_agent_topics(self, *, user_id: str | None = None) -> dict[str, list[str]]:
        """Return every subscribed agent of the scope with its topics, by agent name."""
        scope = context_inputs.scope_of(user_id)
        async with self.unit(write=False) as unit:
            return await unit.agents.all_topics(scope)

    async def remove_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> bool:
        """Remove the agent's subscriptions in the scope; return whether it had any."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        async with self.unit(write=True) as unit:
            return await unit.agents.remove_topics(scope, agent)

    async def save_agent_permissions(
        self, agent_name: str, allowed_topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """Restrict the topics the agent may post to in the scope; return them.

        An empty list means the agent may post to no topic (it may still post
        items without topics).
        """
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        names = context_inputs.agent_names("allowed_topics", allowed_topics)
        async with self.unit(write=True) as unit:
            await unit.agents.save_permissions(scope, agent, names)
        return list(names)

    async def get_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> list[str] | None:
        """Return the topics the agent may post to, or None when it is not restricted."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        async with self.unit(write=False) as unit:
            return await unit.agents.permissions(scope, agent)

    async def get_all_agent_permissions(
        self, *, user_id: str | None = None
    ) -> dict[str, list[str]]:
        """Return every restricted agent of the scope with its allowed topics, by agent name."""
        scope = context_inputs.scope_of(user_id)
        async with self.unit(write=False) as unit:
            return await unit.agents.all_permissions(scope)

    async def remove_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> bool:
        """Lift the agent's posting restriction in the scope; return whether it had one."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        async with self.unit(write=True) as unit:
            return await unit.agents.remove_permissions(scope, agent)
