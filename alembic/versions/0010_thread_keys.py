"""thread-scoped keys: messages, feedback and suspended states keyed by (thread_id, id)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Schema change:
    Citus (and any sharding by thread) needs the distribution column in every
    primary key and unique constraint. Three tables were keyed by their id alone:

    - ``threadstore_suspended_states``: primary key ``(id)`` becomes
      ``(thread_id, id)`` on both backends, plus a plain index on ``(id)`` for
      the calls that name only the approval id (get/delete by approval id).
      The store keeps approval ids unique across threads itself.
    - ``threadstore_messages`` and ``threadstore_feedback``, PostgreSQL: primary
      key ``(id)`` becomes ``(thread_id, id)``; ``id`` keeps its sequence (the
      ``BIGSERIAL`` default), so ids stay global and increasing. A messages table
      already partitioned by thread (``threadstore.partitioning``) has this key
      and is left as it is.
    - ``threadstore_messages`` and ``threadstore_feedback``, SQLite: ``id`` stays
      ``INTEGER PRIMARY KEY`` (the rowid: it assigns the ids, and a rowid seek is
      SQLite's fastest lookup); a unique index ``(thread_id, id)`` is added
      instead. SQLite is never sharded (docs/scaling.md).

    Cost: on PostgreSQL each new primary key builds its index (a scan and sort
    of the table) under an ACCESS EXCLUSIVE lock until the migration commits:
    run it as a deploy step, in a quiet period on a large messages table. On
    SQLite the suspended states table is recreated (copied); the two new
    indexes are built in place.

Downgrade notes:
    Restores the ``(id)`` primary keys (a partitioned messages table keeps
    ``(thread_id, id)``, which its partitioning requires) and drops the new
    indexes. Rows are kept; should two threads hold the same approval id (the
    store never writes that), the newest row of each id is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGES = "threadstore_messages"
_FEEDBACK = "threadstore_feedback"
_SUSPENDED = "threadstore_suspended_states"
_ROWID_TABLES = (_MESSAGES, _FEEDBACK)


def _pk(table: str) -> str:
    return f"pk_{table}"


def _rekey(table: str, columns: list[str], *, unless_partitioned: bool = False) -> None:
    """PostgreSQL: replace the primary key (same name) in one ALTER TABLE.

    ``unless_partitioned``: skip a table partitioned by thread, which already has
    (and must keep) ``(thread_id, id)``. Checked by the server (a DO block), so
    ``--sql`` scripts do the same.
    """
    alter = (
        f'ALTER TABLE "{table}" DROP CONSTRAINT "{_pk(table)}", '
        f'ADD CONSTRAINT "{_pk(table)}" PRIMARY KEY ({", ".join(columns)})'
    )
    if unless_partitioned:
        alter = (
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            f"WHERE c.relname = '{table}' AND c.relnamespace = current_schema()::regnamespace) "
            f"THEN {alter}; END IF; END $$"
        )
    op.execute(sa.text(alter))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in _ROWID_TABLES:
        if sqlite:
            op.create_index(
                op.f(f"ix_{table}_thread_id_id"), table, ["thread_id", "id"], unique=True
            )
        else:
            _rekey(table, ["thread_id", "id"], unless_partitioned=table == _MESSAGES)
    with op.batch_alter_table(_SUSPENDED) as batch:
        if sqlite:
            batch.drop_constraint(_pk(_SUSPENDED), type_="primary")
            batch.create_primary_key(_pk(_SUSPENDED), ["thread_id", "id"])
        batch.create_index(op.f(f"ix_{_SUSPENDED}_id"), ["id"])
    if not sqlite:
        _rekey(_SUSPENDED, ["thread_id", "id"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # one row per approval id, as the (id) key requires: the newest of each
    op.execute(
        sa.text(
            f'DELETE FROM "{_SUSPENDED}" WHERE EXISTS (SELECT 1 FROM "{_SUSPENDED}" AS newer '
            f'WHERE newer.id = "{_SUSPENDED}".id AND (newer.created_at > "{_SUSPENDED}".created_at '
            f'OR (newer.created_at = "{_SUSPENDED}".created_at '
            f'AND newer.thread_id > "{_SUSPENDED}".thread_id)))'
        )
    )
    with op.batch_alter_table(_SUSPENDED) as batch:
        batch.drop_index(op.f(f"ix_{_SUSPENDED}_id"))
        if sqlite:
            batch.drop_constraint(_pk(_SUSPENDED), type_="primary")
            batch.create_primary_key(_pk(_SUSPENDED), ["id"])
    if not sqlite:
        _rekey(_SUSPENDED, ["id"])
    for table in reversed(_ROWID_TABLES):
        if sqlite:
            op.drop_index(op.f(f"ix_{table}_thread_id_id"), table_name=table)
        else:
            _rekey(table, ["id"], unless_partitioned=table == _MESSAGES)
