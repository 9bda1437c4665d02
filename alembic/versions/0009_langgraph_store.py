"""LangGraph long-term memory store: memory items and their vectors

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Schema change:
    Two new tables; no existing table changes.

    ``threadstore_memory_items``: one JSON document per ``(scope, namespace,
    key)`` for ``threadstore.langgraph.ThreadstoreLongTermStore``. ``scope`` is
    the user of a ``for_user`` view (``""``: global), ``namespace`` LangGraph's
    namespace joined with ``.`` and ``depth`` its label count;
    ``ttl_minutes``/``expires_at`` carry LangGraph's TTL (indexed for the
    sweeper), ``(scope, updated_at)`` serves searches newest first.

    ``threadstore_memory_vectors``: the embedding (a JSON array of floats) of
    each indexed field of an item, deleted with it (cascade).

    New, empty tables: nothing is rewritten or locked for long.

Downgrade notes:
    Drops both tables: every stored long-term memory item is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ITEMS = "threadstore_memory_items"
_VECTORS = "threadstore_memory_vectors"


def _identifier() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _path() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        _ITEMS,
        sa.Column("scope", _identifier(), nullable=False),
        sa.Column("namespace", _path(), nullable=False),
        sa.Column("key", _path(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("value", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ttl_minutes", sa.Float(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "namespace", "key", name=op.f(f"pk_{_ITEMS}")),
    )
    op.create_index(op.f(f"ix_{_ITEMS}_expires_at"), _ITEMS, ["expires_at"])
    op.create_index(op.f(f"ix_{_ITEMS}_scope_updated_at"), _ITEMS, ["scope", "updated_at"])
    op.create_table(
        _VECTORS,
        sa.Column("scope", _identifier(), nullable=False),
        sa.Column("namespace", _path(), nullable=False),
        sa.Column("key", _path(), nullable=False),
        sa.Column("field", _path(), nullable=False),
        sa.Column("embedding", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope", "namespace", "key"],
            [f"{_ITEMS}.scope", f"{_ITEMS}.namespace", f"{_ITEMS}.key"],
            name=op.f(f"fk_{_VECTORS}_scope_{_ITEMS}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scope", "namespace", "key", "field", name=op.f(f"pk_{_VECTORS}")),
    )


def downgrade() -> None:
    op.drop_table(_VECTORS)
    op.drop_index(op.f(f"ix_{_ITEMS}_scope_updated_at"), table_name=_ITEMS)
    op.drop_index(op.f(f"ix_{_ITEMS}_expires_at"), table_name=_ITEMS)
    op.drop_table(_ITEMS)
