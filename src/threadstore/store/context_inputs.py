"""Validated arguments of the context-item methods, shared by every backend.

Scopes: ``user_id=None`` is the global scope, stored as the scope ``""``; a
user's scope is their (non-empty) id, so the two can never meet.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from threadstore.errors import PermissionDeniedError, ValidationError
from threadstore.models.context import GLOBAL_SCOPE
from threadstore.validation import check_id, check_json_value, check_optional_id, check_ttl

__all__ = [
    "ContextItemInput",
    "agent_names",
    "check_may_post",
    "context_item_input",
    "scope_of",
    "user_of",
]


@dataclass(frozen=True, slots=True)
class ContextItemInput:
    """Arguments of save_context_item, normalised.

    Attributes:
        lifetime: The TTL as a timedelta (None: never expires); ``ttl`` is the
            same duration in seconds, as records report it.
    """

    scope: str
    key: str
    value: Any
    subscribers: list[str]
    topics: list[str]
    ttl: float | None
    lifetime: timedelta | None
    posted_by: str | None


def scope_of(user_id: object) -> str:
    """Return the scope of ``user_id``: ``""`` for None (global), else the checked id."""
    return GLOBAL_SCOPE if user_id is None else check_id("user_id", user_id)


def user_of(scope: str) -> str | None:
    """Return the ``user_id`` records report for ``scope`` (None for the global scope)."""
    return None if scope == GLOBAL_SCOPE else scope


def agent_names(name: str, value: object) -> list[str]:
    """Check a list of agent or topic names; duplicates are dropped, order is kept."""
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(
        value, Sequence | set | frozenset
    ):
        raise ValidationError(
            f"{name} must be a list of names, got {type(value).__name__}",
            suggestion=f'Pass {name} as a list, e.g. {name}=["planner"].',
        )
    checked = [check_id(f"{name}[{index}]", item) for index, item in enumerate(value)]
    return list(dict.fromkeys(checked))


def context_item_input(
    key: object,
    value: object,
    *,
    user_id: object,
    subscribers: object,
    topics: object,
    ttl: object,
    posted_by: object,
) -> ContextItemInput:
    """Check save_context_item's arguments; ``value`` may be any JSON value."""
    check_json_value("value", value)
    lifetime = None if ttl is None else check_ttl(ttl, default=timedelta(0))
    return ContextItemInput(
        scope=scope_of(user_id),
        key=check_id("key", key),
        value=copy.deepcopy(value),
        subscribers=agent_names("subscribers", subscribers),
        topics=agent_names("topics", topics),
        ttl=None if lifetime is None else lifetime.total_seconds(),
        lifetime=lifetime,
        posted_by=check_optional_id("posted_by", posted_by),
    )


def check_may_post(args: ContextItemInput, allowed_topics: list[str] | None) -> None:
    """Refuse a post to a topic outside the poster's configured permissions.

    Args:
        args: The checked item; only its ``posted_by`` and ``topics`` matter.
        allowed_topics: The poster's permissions in the item's scope, or None
            when none are configured (the agent may post anywhere).

    Raises:
        PermissionDeniedError: a topic is not in ``allowed_topics``.
    """
    if args.posted_by is None or allowed_topics is None:
        return
    denied = [topic for topic in args.topics if topic not in allowed_topics]
    if denied:
        raise PermissionDeniedError(
            f"agent {args.posted_by!r} may not post to topic(s) {', '.join(map(repr, denied))}",
            suggestion=f"Grant them with save_agent_permissions({args.posted_by!r}, [...]) in "
            "the same user scope, or post to one of: "
            f"{', '.join(map(repr, allowed_topics)) or '(no topics)'}.",
        )
