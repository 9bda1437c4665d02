"""context items: shared agent memory with routes, agent topics and permissions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Schema change:
    Creates the tables of Syntha-style context items. Every table leads with a
    NOT NULL ``scope`` column (the user id, or ``''`` for the global scope) in
    its primary key, so one key is stored once per scope, the global scope
    included. ``threadstore_context_routes`` holds each item's subscribers and
    topics as rows (cascading with their item; indexed by item and by
    ``(scope, kind, name)``) so that reading everything visible to an agent
    is one indexed query; ``threadstore_agent_topics`` holds topic
    subscriptions one row per topic; ``threadstore_agent_permissions`` one
    row per restricted agent. ``expires_at`` is indexed for cleanup.

Downgrade notes:
    Drops the four tables with every context item, subscription and
    permission they hold; the core tables of 0001 are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _identifier() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "threadstore_context_items",
        sa.Column("scope", _identifier(), nullable=False),
        sa.Column("key", _identifier(), nullable=False),
        sa.Column("value", _json(), nullable=False),
        sa.Column("subscribers", _json(), nullable=False),
        sa.Column("topics", _json(), nullable=False),
        sa.Column("posted_by", _identifier(), nullable=True),
        sa.Column("ttl", sa.Float(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_threadstore_context_items")),
    )
    op.create_index(
        op.f("ix_threadstore_context_items_expires_at"),
        "threadstore_context_items",
        ["expires_at"],
    )

    op.create_table(
        "threadstore_context_routes",
        sa.Column("scope", _identifier(), nullable=False),
        sa.Column("key", _identifier(), nullable=False),
        sa.Column("kind", _identifier(), nullable=False),
        sa.Column("name", _identifier(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('subscriber', 'topic')", name=op.f("ck_threadstore_context_routes_kind")
        ),
        sa.ForeignKeyConstraint(
            ["scope", "key"],
            ["threadstore_context_items.scope", "threadstore_context_items.key"],
            name=op.f("fk_threadstore_context_routes_scope_threadstore_context_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope", "key", "kind", "name", name=op.f("pk_threadstore_context_routes")
        ),
    )

    op.create_index(
        op.f("ix_threadstore_context_routes_scope_kind_name_key"),
        "threadstore_context_routes",
        ["scope", "kind", "name", "key"],
    )

    op.create_table(
        "threadstore_agent_topics",
        sa.Column("scope", _identifier(), nullable=False),
        sa.Column("agent_name", _identifier(), nullable=False),
        sa.Column("topic", _identifier(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "agent_name", "topic", name=op.f("pk_threadstore_agent_topics")
        ),
    )

    op.create_table(
        "threadstore_agent_permissions",
        sa.Column("scope", _identifier(), nullable=False),
        sa.Column("agent_name", _identifier(), nullable=False),
        sa.Column("allowed_topics", _json(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "agent_name", name=op.f("pk_threadstore_agent_permissions")
        ),
    )


def downgrade() -> None:
    op.drop_table("threadstore_agent_permissions")
    op.drop_table("threadstore_agent_topics")
    op.drop_table("threadstore_context_routes")
    op.drop_table("threadstore_context_items")
