"""indexes of query_threads / query_messages: message time order, JSONB containment

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Schema change:
    Indexes only; no table or column changes and no data step.

    ``query_messages`` reads messages across threads newest first by
    ``(timestamp, thread_id, seq)``: ``threadstore_messages (timestamp,
    thread_id, seq)`` serves the unfiltered, role- and time-filtered listings,
    ``(thread_id, timestamp, seq)`` the listing of one thread and the lookups
    of a user's or an agent's threads. ``query_threads`` uses the existing
    ``(user_id|agent_name, updated_at|created_at, id)`` indexes.

    PostgreSQL only: ``metadata_contains`` is ``metadata @> :needle`` (the
    columns are JSONB), served by GIN indexes with ``jsonb_path_ops`` on
    ``threadstore_threads.metadata`` and ``threadstore_messages.metadata``.
    SQLite evaluates containment inside the statement (json_each/json_extract)
    and gets no index for it.

    Cost: each appended message writes two more B-tree entries (and a GIN
    entry on PostgreSQL). The builds block writes to the two tables until the
    migration commits (no ``CONCURRENTLY``): run it as a deploy step.

Downgrade notes:
    Drops the indexes; no data is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGES = "threadstore_messages"
_BTREES = [["timestamp", "thread_id", "seq"], ["thread_id", "timestamp", "seq"]]
_GIN_TABLES = ["threadstore_threads", _MESSAGES]


def _btree_name(columns: list[str]) -> str:
    return "_".join(["ix", _MESSAGES, *columns])


def upgrade() -> None:
    for columns in _BTREES:
        op.create_index(op.f(_btree_name(columns)), _MESSAGES, columns)
    if op.get_bind().dialect.name == "postgresql":
        for table in _GIN_TABLES:
            op.create_index(
                op.f(f"ix_{table}_metadata_gin"),
                table,
                ["metadata"],
                postgresql_using="gin",
                postgresql_ops={"metadata": "jsonb_path_ops"},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in reversed(_GIN_TABLES):
            op.drop_index(op.f(f"ix_{table}_metadata_gin"), table_name=table)
    for columns in reversed(_BTREES):
        op.drop_index(op.f(_btree_name(columns)), table_name=_MESSAGES)
