"""Public context-item methods (shared agent memory, Syntha's model), written once.

Every method takes ``user_id``: a user's scope, or None for the global scope,
which is distinct from every user. Nothing one scope holds is visible to, or
changed through, another.

Routing: an item with neither subscribers nor topics is visible to every
agent; otherwise it is visible to its subscribers and to the agents
subscribed (in the same scope, at read time) to any of its topics.
``agent_name=None`` reads without routing. Expired items are never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from threadstore.records import ContextItemRecord, Page
from threadstore.store import context_inputs, inputs
from threadstore.store.core import StoreCore
from threadstore.store.paging import KeysetPage, page_request
from threadstore.validation import check_id, check_optional_id

__all__ = ["ContextMethods"]


class ContextMethods(StoreCore):
    """Context items of a scope, with routing by subscribers and topics."""

    async def save_context_item(
        self,
        key: str,
        value: Any,
        *,
        user_id: str | None = None,
        subscribers: Sequence[str] = (),
        topics: Sequence[str] = (),
        ttl: float | timedelta | None = None,
        posted_by: str | None = None,
    ) -> ContextItemRecord:
        """Save (or replace) the item ``key`` of the scope; its TTL restarts.

        Args:
            key: The item's key, unique per scope.
            value: Any JSON value: dict, list, str, int, float, bool or None.
            user_id: The user's scope, or None for the global scope.
            subscribers: Agents the item is for; empty means not restricted by name.
            topics: Topics the item is posted to.
            ttl: Seconds (or a timedelta) until the item expires; None: never.
            posted_by: The posting agent; when it has permissions configured in
                the scope, every topic must be among them.

        Raises:
            PermissionDeniedError: ``posted_by`` may not post to one of ``topics``
                (nothing is written).
            ValidationError: an argument is invalid.
        """
        args = context_inputs.context_item_input(
            key,
            value,
            user_id=user_id,
            subscribers=subscribers,
            topics=topics,
            ttl=ttl,
            posted_by=posted_by,
        )
        async with self.unit(write=True) as unit:
            if args.posted_by is not None:
                allowed = await unit.agents.permissions(args.scope, args.posted_by)
                context_inputs.check_may_post(args, allowed)
            return await unit.context.save(args)

    async def get_context_item(
        self, key: str, *, user_id: str | None = None, agent_name: str | None = None
    ) -> ContextItemRecord | None:
        """Return the item, or None if it is missing, expired or not routed to ``agent_name``."""
        scope = context_inputs.scope_of(user_id)
        checked = check_id("key", key)
        agent = check_optional_id("agent_name", agent_name)
        async with self.unit(write=False) as unit:
            return await unit.context.get(scope, checked, agent)

    async def delete_context_item(self, key: str, *, user_id: str | None = None) -> bool:
        """Delete the item; return whether an unexpired item was deleted."""
        scope = context_inputs.scope_of(user_id)
        checked = check_id("key", key)
        async with self.unit(write=True) as unit:
            return await unit.context.delete(scope, checked)

    async def get_all_context_items(
        self,
        *,
        user_id: str | None = None,
        agent_name: str | None = None,
        limit: int | None = None,
    ) -> list[ContextItemRecord]:
        """Return the scope's unexpired items visible to ``agent_name`` (all if None), by key.

        At most ``limit`` items (None: all); see :meth:`get_context_items_page`
        to read the rest.
        """
        scope = context_inputs.scope_of(user_id)
        agent = check_optional_id("agent_name", agent_name)
        read = KeysetPage(inputs.optional_limit(limit), descending=False)
        async with self.unit(write=False) as unit:
            return await unit.context.all(scope, agent, read)

    async def get_context_items_page(
        self,
        *,
        user_id: str | None = None,
        agent_name: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ContextItemRecord]:
        """Return a page of the items of :meth:`get_all_context_items` and the next cursor.

        Pass ``next_cursor`` back as ``cursor`` with the same ``user_id`` and
        ``agent_name``; it is None on the last page. Keys never change, so a
        walk returns every item that is visible from its first page to its
        last exactly once (saving an item again does not move it).

        Raises:
            ValidationError: a bad argument, ``limit`` below 1, or a cursor that
                is malformed or was made for another scope or agent.
        """
        scope = context_inputs.scope_of(user_id)
        agent = check_optional_id("agent_name", agent_name)
        request = page_request(
            "get_context_items_page",
            "key:asc",
            {"user_id": user_id, "agent_name": agent, "view": self.scope_owner()},
            limit=limit,
            cursor=cursor,
            kinds=("id",),
            descending=False,
        )
        async with self.unit(write=False) as unit:
            rows = await unit.context.all(scope, agent, request.read)
        return request.page(rows, lambda item: (item["key"],))

    async def cleanup_expired_context_items(self) -> int:
        """Delete expired items in every scope; return how many were deleted."""
        async with self.unit(write=True) as unit:
            return await unit.context.cleanup()

    async def clear_context_items(self, *, user_id: str | None = None) -> int:
        """Delete every item of the scope; return how many unexpired items were deleted.

        Topic subscriptions and permissions are kept.
        """
        scope = context_inputs.scope_of(user_id)
        async with self.unit(write=True) as unit:
            return await unit.context.clear(scope)
