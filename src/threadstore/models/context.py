"""Shared context items (Syntha's model): items, their routes, agent topics and permissions.

Every table is keyed by ``scope`` first: the user id, or ``""`` for the global
scope. User ids are never empty, so the global scope is distinct from every
user, and because ``scope`` is NOT NULL it takes part in primary keys like any
other value (a NULL there would let one global key be stored twice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKeyConstraint, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import Identifier, JSONDocument

__all__ = [
    "GLOBAL_SCOPE",
    "ROUTE_SUBSCRIBER",
    "ROUTE_TOPIC",
    "AgentPermission",
    "AgentTopic",
    "ContextItem",
    "ContextRoute",
]

GLOBAL_SCOPE = ""
"""The ``scope`` of items, topics and permissions saved with ``user_id=None``."""

ROUTE_SUBSCRIBER = "subscriber"
ROUTE_TOPIC = "topic"


class ContextItem(Base):
    """A JSON value under a key in one scope, with its routing lists and expiry.

    ``subscribers`` and ``topics`` keep the lists as saved (for the record);
    routing reads :class:`ContextRoute`, which holds the same names as rows.
    """

    __tablename__ = "threadstore_context_items"

    scope: Mapped[str] = mapped_column(Identifier, primary_key=True)
    key: Mapped[str] = mapped_column(Identifier, primary_key=True)
    # Any JSON value, JSON ``null`` included; the column is NOT NULL, so a
    # stored ``None`` is always JSON null and never SQL NULL.
    value: Mapped[Any] = mapped_column(JSONDocument)
    subscribers: Mapped[list[str]] = mapped_column(JSONDocument)
    topics: Mapped[list[str]] = mapped_column(JSONDocument)
    posted_by: Mapped[str | None] = mapped_column(Identifier)
    ttl: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "expires_at"),)


class ContextRoute(Base):
    """One subscriber or topic of a context item: what routing queries join on.

    The primary key finds an item's routes (and cascades with it); the
    ``(scope, kind, name, key)`` index finds the items routed to an agent or a topic.
    """

    __tablename__ = "threadstore_context_routes"

    scope: Mapped[str] = mapped_column(Identifier, primary_key=True)
    key: Mapped[str] = mapped_column(Identifier, primary_key=True)
    kind: Mapped[str] = mapped_column(Identifier, primary_key=True)
    name: Mapped[str] = mapped_column(Identifier, primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["scope", "key"],
            ["threadstore_context_items.scope", "threadstore_context_items.key"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"kind IN ('{ROUTE_SUBSCRIBER}', '{ROUTE_TOPIC}')", name="kind"),
        Index(None, "scope", "kind", "name", "key"),
    )


class AgentTopic(Base):
    """An agent's subscription to one topic; ``position`` keeps the saved order."""

    __tablename__ = "threadstore_agent_topics"

    scope: Mapped[str] = mapped_column(Identifier, primary_key=True)
    agent_name: Mapped[str] = mapped_column(Identifier, primary_key=True)
    topic: Mapped[str] = mapped_column(Identifier, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class AgentPermission(Base):
    """The topics an agent may post to; a row means the agent is restricted."""

    __tablename__ = "threadstore_agent_permissions"

    scope: Mapped[str] = mapped_column(Identifier, primary_key=True)
    agent_name: Mapped[str] = mapped_column(Identifier, primary_key=True)
    allowed_topics: Mapped[list[str]] = mapped_column(JSONDocument)
