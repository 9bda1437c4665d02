"""message search reads a stored tsvector (PostgreSQL); aggregates read a covering index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Schema change:
    PostgreSQL: ``threadstore_messages.search_vector``, a stored generated
    column, ``tsvector GENERATED ALWAYS AS (to_tsvector(
    threadstore_search_config(), content)) STORED``;
    ``ix_threadstore_messages_search`` (same name) becomes a GIN index on that
    column instead of on the expression. Revision 0008's expression index
    found the matches, but ranking them (``ts_rank``) recomputed
    ``to_tsvector`` from each matching message's text: a word in 5 % of a
    million messages cost most of a second. The stored vector is read instead;
    ``ts_headline`` still reads the content of one page's hits only. The column
    has no SQLAlchemy model (it is generated, never written, and no read
    selects it); ``include_object`` leaves it out of model comparisons.

    Both dialects: revision 0007's ``(thread_id, timestamp, seq)`` index of
    ``threadstore_messages`` also holds ``role``, so ``aggregate_stats``
    counts an agent's or a user's messages by role over a time range from the
    index alone, without reading a row per message; listings read the same
    ranges as before. PostgreSQL: the same name, ``INCLUDE (role)`` (a payload
    column no plan can range over). SQLite, which has no INCLUDE:
    ``ix_threadstore_messages_thread_id_timestamp_seq_role`` on ``(thread_id,
    timestamp, seq, role)``.

    Cost: adding a stored generated column rewrites ``threadstore_messages``
    (and its indexes) under an ACCESS EXCLUSIVE lock, and each row grows by its
    vector (about its text's size again); the index rebuild blocks writes to
    the table too. Run it as a deploy step. The partitioned layout
    (threadstore.partitioning) gets the column and index on every partition;
    ``partition_by_thread`` copies generated columns. SQLite gets the index
    change only.

    Changing the search language now also recomputes the column: after
    replacing ``threadstore_search_config()``, run ``UPDATE
    threadstore_messages SET content = content`` (docs/queries.md).

Downgrade notes:
    Drops the column and rebuilds revision 0008's expression index and
    0007's three-column index; no message is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGES = "threadstore_messages"
_SEARCH_INDEX = "ix_threadstore_messages_search"
_COLUMN = "search_vector"
_VECTOR = "to_tsvector(threadstore_search_config(), content)"
_OLD_COLUMNS = ["thread_id", "timestamp", "seq"]
_NEW_COLUMNS = [*_OLD_COLUMNS, "role"]


def _name(columns: list[str]) -> str:
    return "_".join(["ix", _MESSAGES, *columns])


def _covering(dialect: str) -> tuple[str, list[str], dict[str, list[str]]]:
    """Name, columns and options of the (thread_id, timestamp, seq) index holding role."""
    if dialect == "postgresql":
        return _name(_OLD_COLUMNS), _OLD_COLUMNS, {"postgresql_include": ["role"]}
    return _name(_NEW_COLUMNS), _NEW_COLUMNS, {}


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    name, columns, options = _covering(dialect)
    op.drop_index(op.f(_name(_OLD_COLUMNS)), table_name=_MESSAGES)
    op.create_index(op.f(name), _MESSAGES, columns, **options)
    if dialect != "postgresql":
        return
    op.execute(f"DROP INDEX {_SEARCH_INDEX}")
    op.execute(
        f"ALTER TABLE {_MESSAGES} ADD COLUMN {_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({_VECTOR}) STORED"
    )
    op.execute(f"CREATE INDEX {_SEARCH_INDEX} ON {_MESSAGES} USING gin ({_COLUMN})")


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP INDEX {_SEARCH_INDEX}")
        op.execute(f"ALTER TABLE {_MESSAGES} DROP COLUMN {_COLUMN}")
        op.execute(f"CREATE INDEX {_SEARCH_INDEX} ON {_MESSAGES} USING gin ({_VECTOR})")
    name, _, _ = _covering(dialect)
    op.drop_index(op.f(name), table_name=_MESSAGES)
    op.create_index(op.f(_name(_OLD_COLUMNS)), _MESSAGES, _OLD_COLUMNS)
