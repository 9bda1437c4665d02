"""initial schema: threads, messages, feedback, suspended states, checkpoints

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Schema change:
    Creates threadstore's core tables. Thread-scoped tables lead with
    ``thread_id`` in their keys and indexes; child rows cascade in the
    database when their thread is deleted; forks are detached (SET NULL).
    Checkpoints have no foreign key: a graph may checkpoint any thread id.

Downgrade notes:
    Drops every table this revision created, with their data.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _identifier() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _bigint_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "threadstore_threads",
        sa.Column("id", _identifier(), nullable=False),
        sa.Column("user_id", _identifier(), nullable=False),
        sa.Column("agent_name", _identifier(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("parent_thread_id", _identifier(), nullable=True),
        sa.Column("fork_message_index", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "message_count >= 0", name=op.f("ck_threadstore_threads_message_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["parent_thread_id"],
            ["threadstore_threads.id"],
            name=op.f("fk_threadstore_threads_parent_thread_id_threadstore_threads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_threads")),
    )
    op.create_index(
        op.f("ix_threadstore_threads_agent_name_updated_at"),
        "threadstore_threads",
        ["agent_name", "updated_at"],
    )
    op.create_index(
        op.f("ix_threadstore_threads_parent_thread_id"),
        "threadstore_threads",
        ["parent_thread_id"],
    )
    op.create_index(
        op.f("ix_threadstore_threads_updated_at_id"), "threadstore_threads", ["updated_at", "id"]
    )
    op.create_index(
        op.f("ix_threadstore_threads_user_id_updated_at"),
        "threadstore_threads",
        ["user_id", "updated_at"],
    )

    op.create_table(
        "threadstore_messages",
        sa.Column("id", _bigint_id(), autoincrement=True, nullable=False),
        sa.Column("thread_id", _identifier(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", _identifier(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("timestamp", _timestamp(), nullable=False),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_threadstore_messages_seq_non_negative")),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threadstore_threads.id"],
            name=op.f("fk_threadstore_messages_thread_id_threadstore_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_messages")),
        sa.UniqueConstraint("thread_id", "seq", name=op.f("uq_threadstore_messages_thread_id_seq")),
    )

    op.create_table(
        "threadstore_feedback",
        sa.Column("id", _bigint_id(), autoincrement=True, nullable=False),
        sa.Column("thread_id", _identifier(), nullable=False),
        sa.Column("user_id", _identifier(), nullable=False),
        sa.Column("agent_name", _identifier(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("feedback_type", _identifier(), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)",
            name=op.f("ck_threadstore_feedback_rating_range"),
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threadstore_threads.id"],
            name=op.f("fk_threadstore_feedback_thread_id_threadstore_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_feedback")),
    )
    op.create_index(
        op.f("ix_threadstore_feedback_agent_name_created_at"),
        "threadstore_feedback",
        ["agent_name", "created_at"],
    )
    op.create_index(
        op.f("ix_threadstore_feedback_thread_id"), "threadstore_feedback", ["thread_id"]
    )
    op.create_index(
        op.f("ix_threadstore_feedback_user_id_created_at"),
        "threadstore_feedback",
        ["user_id", "created_at"],
    )

    op.create_table(
        "threadstore_suspended_states",
        sa.Column("id", _identifier(), nullable=False),
        sa.Column("thread_id", _identifier(), nullable=False),
        sa.Column("agent_name", _identifier(), nullable=False),
        sa.Column("node_name", _identifier(), nullable=False),
        sa.Column("state_snapshot", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threadstore_threads.id"],
            name=op.f("fk_threadstore_suspended_states_thread_id_threadstore_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_suspended_states")),
    )
    op.create_index(
        op.f("ix_threadstore_suspended_states_agent_name"),
        "threadstore_suspended_states",
        ["agent_name"],
    )
    op.create_index(
        op.f("ix_threadstore_suspended_states_expires_at"),
        "threadstore_suspended_states",
        ["expires_at"],
    )
    op.create_index(
        op.f("ix_threadstore_suspended_states_thread_id"),
        "threadstore_suspended_states",
        ["thread_id"],
    )

    op.create_table(
        "threadstore_checkpoints",
        sa.Column("thread_id", _identifier(), nullable=False),
        sa.Column("checkpoint_ns", _identifier(), nullable=False),
        sa.Column("checkpoint_id", _identifier(), nullable=False),
        sa.Column("parent_checkpoint_id", _identifier(), nullable=True),
        sa.Column("checkpoint", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint(
            "thread_id", "checkpoint_ns", "checkpoint_id", name=op.f("pk_threadstore_checkpoints")
        ),
    )


def downgrade() -> None:
    op.drop_table("threadstore_checkpoints")
    op.drop_table("threadstore_suspended_states")
    op.drop_table("threadstore_feedback")
    op.drop_table("threadstore_messages")
    op.drop_table("threadstore_threads")
