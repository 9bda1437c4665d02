"""langgraph checkpoints: binary payloads and pending writes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Schema change:
    Lets threadstore's LangGraph saver keep its data in threadstore's own
    tables. ``threadstore_checkpoints`` gains ``payload_type`` and
    ``payload`` (nullable; BYTEA on PostgreSQL, BLOB on SQLite): the channel
    values of a checkpoint, serialised by LangGraph's own serializer, so that
    every value (binary data, strings with NUL characters) round-trips.
    It also gains ``run_id`` (indexed, nullable): the metadata's ``run_id``,
    so that deleting a LangGraph run's checkpoints is an index lookup.
    Existing rows are backfilled from their metadata.
    ``threadstore_checkpoint_writes`` holds the pending writes of LangGraph
    tasks, keyed like LangGraph's own ``checkpoint_writes`` table and led by
    ``thread_id``. It has no foreign key: LangGraph may save a step's writes
    before their checkpoint commits; deletes remove both in one transaction.

Downgrade notes:
    Drops ``threadstore_checkpoint_writes`` (pending writes are lost), the
    ``run_id`` column (its value stays in the metadata) and the two payload
    columns: checkpoints saved by the LangGraph saver keep their
    JSON header and metadata but lose their channel values.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _identifier() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("threadstore_checkpoints") as batch:
        batch.add_column(sa.Column("payload_type", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("run_id", _identifier(), nullable=True))
        batch.create_index(op.f("ix_threadstore_checkpoints_run_id"), ["run_id"])

    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "UPDATE threadstore_checkpoints SET run_id = metadata ->> 'run_id' "
            "WHERE jsonb_typeof(metadata -> 'run_id') = 'string' "
            "AND length(metadata ->> 'run_id') BETWEEN 1 AND 255"
        )
    else:
        op.execute(
            "UPDATE threadstore_checkpoints SET run_id = json_extract(metadata, '$.run_id') "
            "WHERE json_type(metadata, '$.run_id') = 'text' "
            "AND length(json_extract(metadata, '$.run_id')) BETWEEN 1 AND 255"
        )

    op.create_table(
        "threadstore_checkpoint_writes",
        sa.Column("thread_id", _identifier(), nullable=False),
        sa.Column("checkpoint_ns", _identifier(), nullable=False),
        sa.Column("checkpoint_id", _identifier(), nullable=False),
        sa.Column("task_id", _identifier(), nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("task_path", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "thread_id",
            "checkpoint_ns",
            "checkpoint_id",
            "task_id",
            "idx",
            name=op.f("pk_threadstore_checkpoint_writes"),
        ),
    )


def downgrade() -> None:
    op.drop_table("threadstore_checkpoint_writes")
    with op.batch_alter_table("threadstore_checkpoints") as batch:
        batch.drop_index(op.f("ix_threadstore_checkpoints_run_id"))
        batch.drop_column("run_id")
        batch.drop_column("payload")
        batch.drop_column("payload_type")
