"""Seed data of revisions 0009 (LangGraph long-term memory items and vectors) and 0012.

Written with plain SQL on 0009's tables; read back at head through
``ThreadstoreLongTermStore``. ``tests/migrations/seeds.py`` registers
``write`` and ``check`` under "0009", and the ``*_array`` ones under "0012".
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from threadstore import BaseStore

__all__ = ["check", "check_array", "check_array_rows", "write", "write_array"]

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)
_WHEN = datetime(2025, 8, 1, 9, 0, 0, 125000, tzinfo=UTC)
_S = sa.String()

_items = sa.table(
    "threadstore_memory_items",
    *(sa.column(c, _S) for c in ("scope", "namespace", "key")),
    sa.column("depth", sa.Integer()),
    sa.column("value", _JSON),
    sa.column("created_at", _TS),
    sa.column("updated_at", _TS),
    sa.column("ttl_minutes", sa.Float()),
    sa.column("expires_at", _TS),
)
_vectors = sa.table(
    "threadstore_memory_vectors",
    *(sa.column(c, _S) for c in ("scope", "namespace", "key", "field")),
    sa.column("embedding", _JSON),
)


def write(conn: Connection) -> None:
    """One global item and one of user dave's, with an embedding."""
    base = {"created_at": _WHEN, "updated_at": _WHEN, "ttl_minutes": None, "expires_at": None}
    conn.execute(
        _items.insert(),
        [
            {"scope": "", "namespace": "app.facts", "key": "k", "depth": 2, "value": {"n": 10}}
            | base,
            {"scope": "dave", "namespace": "memories", "key": "m", "depth": 1}
            | {"value": {"text": "likes tea"}}
            | base,
        ],
    )
    conn.execute(
        _vectors.insert(),
        [
            {
                "scope": "dave",
                "namespace": "memories",
                "key": "m",
                "field": "text",
                "embedding": [1.0, 0.0],
            }
        ],
    )


async def check(store: BaseStore) -> None:
    """Both items read back, in their scopes; dave's is found by similarity."""
    from threadstore.langgraph import ThreadstoreLongTermStore

    app = ThreadstoreLongTermStore(store)
    item = await app.aget(("app", "facts"), "k")
    assert item is not None
    assert (item.value, item.created_at) == ({"n": 10}, _WHEN)
    assert [i.key for i in await app.asearch(("app",), filter={"n": {"$gt": 9}})] == ["k"]
    dave = ThreadstoreLongTermStore(
        store.for_user("dave"), index={"embed": lambda texts: [[1.0, 0.0] for _ in texts]}
    )
    hits = await dave.asearch(("memories",), query="tea")
    assert [(i.key, i.score) for i in hits] == [("m", 1.0)]
    app.close()
    dave.close()


def write_array(conn: Connection) -> None:
    """Revision 0012 (PostgreSQL's stored float8 arrays): a vector written after the column."""
    conn.execute(
        _items.insert(),
        [
            {"scope": "dave", "namespace": "notes", "key": "n", "depth": 1}
            | {"value": {"text": "likes coffee"}, "created_at": _WHEN, "updated_at": _WHEN}
            | {"ttl_minutes": None, "expires_at": None}
        ],
    )
    conn.execute(
        _vectors.insert(),
        [
            {
                "scope": "dave",
                "namespace": "notes",
                "key": "n",
                "field": "text",
                "embedding": [0.6, 0.8],
            }
        ],
    )


async def check_array(store: BaseStore) -> None:
    """Vectors of before 0012 (arrays backfilled) and after it rank together."""
    from threadstore.langgraph import ThreadstoreLongTermStore

    dave = ThreadstoreLongTermStore(
        store.for_user("dave"), index={"embed": lambda texts: [[0.0, 1.0] for _ in texts]}
    )
    hits = await dave.asearch((), query="coffee")
    assert [(i.key, round(i.score or 0, 9)) for i in hits] == [("n", 0.8), ("m", 0.0)]
    dave.close()


def check_array_rows(conn: Connection) -> None:
    """On PostgreSQL every vector has its stored array, equal to the function's."""
    if conn.dialect.name != "postgresql":
        return
    stale = conn.execute(
        sa.text(
            "SELECT count(*) FROM threadstore_memory_vectors WHERE embedding_array IS NULL "
            "OR embedding_array <> threadstore_embedding_array(embedding)"
        )
    ).scalar()
    assert stale == 0
