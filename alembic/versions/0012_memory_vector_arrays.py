"""long-term store embeddings as stored float8 arrays (PostgreSQL), for ranking in SQL

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Schema change:
    PostgreSQL only: the function ``threadstore_embedding_array(jsonb)``
    (IMMUTABLE) and ``threadstore_memory_vectors.embedding_array``, a stored
    generated column, ``float8[] GENERATED ALWAYS AS
    (threadstore_embedding_array(embedding)) STORED``: the JSON embedding as
    a float8 array, or NULL where a component is outside 1e-150 to 1e150 in
    magnitude (zero aside), whose products could underflow or overflow
    float8 (PostgreSQL raises an error rather than rounding). The
    long-term store's semantic search ranks every item under a namespace
    prefix by cosine distance in SQL over this column
    (``threadstore.store.sql.vector_distance``); parsing the JSON text of
    each embedding on every search cost about three quarters of the time
    (10 000 embeddings of 256 dimensions: 1.6 s parsed per search against
    0.45 s read from the column). The column has no SQLAlchemy model (it is
    generated, never written); ``include_object`` leaves it out of model
    comparisons.

    Cost: adding a stored generated column rewrites
    ``threadstore_memory_vectors`` under an ACCESS EXCLUSIVE lock, and each
    row grows by about 8 bytes per dimension. SQLite is unchanged.

Downgrade notes:
    Drops the column and the function; no item or embedding is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VECTORS = "threadstore_memory_vectors"
_COLUMN = "embedding_array"
_FUNCTION = "threadstore_embedding_array"


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE FUNCTION {_FUNCTION}(embedding jsonb) RETURNS float8[] "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT CASE WHEN (SELECT bool_and(x = 0 OR abs(x) BETWEEN 1e-150::float8 "
        "AND 1e150::float8) FROM unnest(parsed.a) AS x) THEN parsed.a END "
        "FROM (SELECT CASE WHEN jsonb_typeof(embedding) = 'array' "
        "THEN CAST(translate(CAST(embedding AS text), '[]', '{}') AS float8[]) END AS a) "
        "AS parsed $$"
    )
    op.execute(
        f"ALTER TABLE {_VECTORS} ADD COLUMN {_COLUMN} float8[] "
        f"GENERATED ALWAYS AS ({_FUNCTION}(embedding)) STORED"
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {_VECTORS} DROP COLUMN {_COLUMN}")
    op.execute(f"DROP FUNCTION {_FUNCTION}(jsonb)")
