"""thread versions, idempotency keys and keyset-paging indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Schema change:
    ``threadstore_threads.version`` (INTEGER NOT NULL, server default 1):
    the row version a compare-and-swap ``update_thread(expected_version=N)``
    compares and every change increments. Existing threads get 1; inserts
    that omit it get 1. On PostgreSQL the constant default is catalog-only
    (no table rewrite); on SQLite it is a plain ``ADD COLUMN``.

    ``threadstore_messages.idempotency_key`` (nullable identifier) with a
    unique index on ``(thread_id, idempotency_key)``: a retried append finds
    the message it already wrote, and two racing retries cannot both insert.
    The index is partial (``WHERE idempotency_key IS NOT NULL``) on both
    backends, so appends without a key (the hot path) add no index entry and
    cost what they did; NULL keys never collide. An upsert infers it with
    ``ON CONFLICT (thread_id, idempotency_key) WHERE idempotency_key IS NOT
    NULL``. A unique index rather than a UNIQUE constraint, because SQLite
    can create an index in place but would recreate (copy) the whole
    messages table to add a constraint.

    Keyset paging reads ``(sort key, id)`` ranges, so each filtered listing
    gets the index that ends with its full order; each replaces an index
    that is its prefix (and so served nothing the new one does not):
    - threads ``(user_id, updated_at, id)`` and ``(agent_name, updated_at,
      id)`` replace ``(user_id, updated_at)`` and ``(agent_name, updated_at)``:
      ``list_threads`` by ``(updated_at DESC, id DESC)``, per user (the user
      view) or per agent; the unfiltered order already has ``(updated_at, id)``;
    - feedback ``(thread_id, created_at, id)``, ``(user_id, created_at, id)``
      and ``(agent_name, created_at, id)`` replace ``(thread_id)``,
      ``(user_id, created_at)`` and ``(agent_name, created_at)``:
      ``get_feedback`` newest first by ``(created_at, id)``;
    - suspended states ``(thread_id, created_at, id)`` and ``(agent_name,
      created_at, id)`` replace ``(thread_id)`` and ``(agent_name)``:
      ``list_suspended_states`` oldest first by ``(created_at, id)``.
    ``thread_id`` still leads every thread-scoped index, and the foreign key
    cascades keep an index that starts with it. Context items page by their
    primary key ``(scope, key)`` and need nothing new.

    No table is rewritten, but the index builds block writes to the four
    tables, and on PostgreSQL ``DROP INDEX`` blocks their reads too, until
    the migration commits (no ``CONCURRENTLY``): run it as a deploy step.

Downgrade notes:
    Restores the 0003 indexes and drops both columns: every thread's version
    and every message's idempotency key are lost (the rows are kept; an
    upgrade again starts every thread at version 1). On SQLite dropping the
    columns recreates ``threadstore_threads`` and ``threadstore_messages``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYED = "idempotency_key IS NOT NULL"

# (table, columns before, columns after): each new index extends the old one.
_INDEXES = [
    ("threadstore_threads", ["user_id", "updated_at"], ["user_id", "updated_at", "id"]),
    ("threadstore_threads", ["agent_name", "updated_at"], ["agent_name", "updated_at", "id"]),
    ("threadstore_feedback", ["thread_id"], ["thread_id", "created_at", "id"]),
    ("threadstore_feedback", ["agent_name", "created_at"], ["agent_name", "created_at", "id"]),
    ("threadstore_feedback", ["user_id", "created_at"], ["user_id", "created_at", "id"]),
    ("threadstore_suspended_states", ["thread_id"], ["thread_id", "created_at", "id"]),
    ("threadstore_suspended_states", ["agent_name"], ["agent_name", "created_at", "id"]),
]


def _identifier() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _index_name(table: str, columns: list[str]) -> str:
    return "_".join(["ix", table, *columns])


def _swap_indexes(*, upgrade: bool) -> None:
    for table, before, after in _INDEXES:
        old, new = (before, after) if upgrade else (after, before)
        with op.batch_alter_table(table) as batch:
            batch.create_index(op.f(_index_name(table, new)), new)
            batch.drop_index(op.f(_index_name(table, old)))


def upgrade() -> None:
    with op.batch_alter_table("threadstore_threads") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("threadstore_messages") as batch:
        batch.add_column(sa.Column("idempotency_key", _identifier(), nullable=True))
        batch.create_index(
            op.f("ix_threadstore_messages_thread_id_idempotency_key"),
            ["thread_id", "idempotency_key"],
            unique=True,
            sqlite_where=sa.text(_KEYED),
            postgresql_where=sa.text(_KEYED),
        )
    _swap_indexes(upgrade=True)


def downgrade() -> None:
    _swap_indexes(upgrade=False)
    with op.batch_alter_table("threadstore_messages") as batch:
        batch.drop_index(op.f("ix_threadstore_messages_thread_id_idempotency_key"))
        batch.drop_column("idempotency_key")
    with op.batch_alter_table("threadstore_threads") as batch:
        batch.drop_column("version")
