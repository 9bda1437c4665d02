"""The cosine distance of a stored embedding to a query, in SQL (long-term store ranking).

SQLite with sqlite-vec: ``vec_distance_cosine`` over the JSON embedding
(float32). PostgreSQL: over the stored ``float8[]`` copy of it (revision
0012, :data:`~threadstore.models.memory_items.EMBEDDING_ARRAY`), with
pgvector's ``<=>`` (float32) where the database has the ``vector``
extension, else portably, summing the products and squares of
``unnest(embedding, query)`` in float8. Either way a vector of another
length, a zero vector, a zero query and (PostgreSQL) a vector with a
component outside 1e-150 to 1e150 get :data:`UNRANKED`, for the caller to
score in Python. Whether pgvector is there is asked once per store
(:class:`PgVectorProbe`); a store opened before ``CREATE EXTENSION vector``
keeps the portable path until it is opened again.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Float,
    LargeBinary,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION
from sqlalchemy.types import UserDefinedType

from threadstore.models.memory_items import EMBEDDING_ARRAY
from threadstore.store.memory_item_rows import UNRANKED

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["PGVECTOR_MAX_DIMS", "PgVectorProbe", "pg_distance", "sqlite_distance"]

PGVECTOR_MAX_DIMS = 16_000
"""pgvector's ``vector`` holds at most this many dimensions; longer queries rank portably."""

_PROBE = text(
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') "
    "AND to_regtype('vector') IS NOT NULL"
)
_FLOATS = ARRAY(DOUBLE_PRECISION)


class PgVectorProbe:
    """Whether a PostgreSQL database has pgvector: asked on first use, then remembered."""

    __slots__ = ("installed",)

    def __init__(self) -> None:
        self.installed: bool | None = None
        """None until asked."""

    async def check(self, unit: SqlUnit) -> bool:
        """Whether ``vector`` is installed (and its type visible), asked once."""
        if self.installed is None:
            self.installed = bool((await unit.execute(_PROBE)).scalar())
        return self.installed


class _Vector(UserDefinedType[Any]):
    """pgvector's ``vector`` type, for a CAST."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "vector"


def sqlite_distance(embedding: Any, query: Sequence[float]) -> ColumnElement[float]:
    """sqlite-vec's float32 cosine distance of the JSON ``embedding`` to ``query``."""
    packed = struct.pack(f"{len(query)}f", *query)
    computed = func.vec_distance_cosine(embedding, literal(packed, LargeBinary))
    return case(
        (func.json_array_length(embedding) == len(query), func.coalesce(computed, UNRANKED)),
        else_=UNRANKED,
    )


async def pg_distance(unit: SqlUnit, query: Sequence[float]) -> ColumnElement[float]:
    """The distance of ``threadstore_memory_vectors``' row to ``query`` (PostgreSQL)."""
    norm = math.sqrt(sum(x * x for x in query))
    if norm == 0:
        return literal(UNRANKED, Float)
    stored = literal_column(f"threadstore_memory_vectors.{EMBEDDING_ARRAY}", _FLOATS)
    asked = cast(literal(list(query), _FLOATS), _FLOATS)
    if len(query) <= PGVECTOR_MAX_DIMS and await unit.ctx.pgvector.check(unit):
        computed: Any = cast(stored, _Vector()).op("<=>", return_type=Float)(cast(asked, _Vector()))
        computed = func.coalesce(
            func.nullif(computed, literal(math.nan, DOUBLE_PRECISION)), UNRANKED
        )
    else:
        pairs = func.unnest(stored, asked).table_valued(
            column("a", DOUBLE_PRECISION), column("b", DOUBLE_PRECISION)
        )
        pairs = pairs.render_derived()
        dot, squares = func.sum(pairs.c.a * pairs.c.b), func.sum(pairs.c.a * pairs.c.a)
        cosine = dot / (func.sqrt(squares) * literal(norm, DOUBLE_PRECISION))
        computed = select(case((squares > 0, 1.0 - cosine), else_=UNRANKED)).scalar_subquery()
    return case((func.cardinality(stored) == len(query), computed), else_=UNRANKED)
