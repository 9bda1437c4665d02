"""keyset-paging indexes for stable thread walks and unfiltered listings

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Schema change:
    Indexes only; no table or column changes and no data step.

    ``list_threads_page`` walks threads by ``(created_at, id)`` (the default,
    stable order: ``created_at`` never changes, so a walk never skips or
    repeats a thread while others are updated). Each of its listings gets the
    index that ends with that order, as 0004 gave the ``updated_at`` order:
    threads ``(created_at, id)``, ``(user_id, created_at, id)`` (every
    ``for_user`` view) and ``(agent_name, created_at, id)``.

    ``get_feedback(_page)`` and ``list_suspended_states(_page)`` without a
    filter read ``(created_at, id)`` of the whole table: feedback
    ``(created_at, id)`` and suspended states ``(created_at, id)`` make that a
    range instead of a sort of every row. (The filtered listings already have
    ``(filter, created_at, id)`` from 0004; context items page by their
    primary key ``(scope, key)``.)

    Cost: a thread insert writes three more index entries. On SQLite an
    ``UPDATE`` of a thread (each append bumps ``updated_at``) touches only the
    indexes of changed columns, so appends cost what they did; on PostgreSQL a
    thread update is never HOT (``updated_at`` is indexed), so it adds an
    entry to these indexes too.

    The index builds block writes to the three tables until the migration
    commits (``CREATE INDEX`` without ``CONCURRENTLY``; reads go on): run it
    as a deploy step.

Downgrade notes:
    Drops the five indexes; no data is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = [
    ("threadstore_threads", ["created_at", "id"]),
    ("threadstore_threads", ["user_id", "created_at", "id"]),
    ("threadstore_threads", ["agent_name", "created_at", "id"]),
    ("threadstore_feedback", ["created_at", "id"]),
    ("threadstore_suspended_states", ["created_at", "id"]),
]


def _index_name(table: str, columns: list[str]) -> str:
    return "_".join(["ix", table, *columns])


def upgrade() -> None:
    for table, columns in _INDEXES:
        op.create_index(op.f(_index_name(table, columns)), table, columns)


def downgrade() -> None:
    for table, columns in reversed(_INDEXES):
        op.drop_index(op.f(_index_name(table, columns)), table_name=table)
