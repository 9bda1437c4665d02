"""Seed data of revisions 0008 (full-text search) and 0011 (its stored tsvector on PostgreSQL).

``write`` runs at 0008 with plain SQL (the SQLite triggers index the row);
``check`` searches at head for words of 0001's seed messages (indexed by the
upgrade's backfill) and of this one. ``tests/migrations/seeds.py`` registers it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from threadstore import BaseStore

_TS = sa.DateTime(timezone=True)
_AT = datetime(2025, 6, 2, 9, 0, 0, 0, tzinfo=UTC)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_threads = sa.table(
    "threadstore_threads",
    *(sa.column(name, sa.String) for name in ("id", "user_id", "agent_name", "title")),
    sa.column("metadata", _JSON),
    sa.column("created_at", _TS),
    sa.column("updated_at", _TS),
    sa.column("message_count", sa.Integer),
)
_messages = sa.table(
    "threadstore_messages",
    *(sa.column(name, sa.String) for name in ("thread_id", "role", "content")),
    sa.column("seq", sa.Integer),
    sa.column("metadata", _JSON),
    sa.column("timestamp", _TS),
)


def write(conn: Connection) -> None:
    """One thread with one message, inserted after the index exists."""
    conn.execute(
        sa.insert(_threads).values(
            id="seed-search",
            user_id="dora",
            agent_name="planner",
            title="Porto",
            metadata={},
            created_at=_AT,
            updated_at=_AT,
            message_count=1,
        )
    )
    conn.execute(
        sa.insert(_messages).values(
            thread_id="seed-search",
            seq=0,
            role="user",
            content="Porto in June, sunny again?",
            metadata={},
            timestamp=_AT,
        )
    )


async def check(store: BaseStore) -> None:
    """Both the backfilled messages of 0001 and the new one are found."""
    lisbon = await store.search_messages("lisbon may")  # 0004 also books Lisbon
    assert {(h["thread_id"], h["seq"]) for h in lisbon["items"]} == {
        ("seed-root", 1),
        ("seed-fork", 1),
    }
    sunny = await store.search_messages("SUNNY")
    assert {(h["thread_id"], h["seq"]) for h in sunny["items"]} == {
        ("seed-root", 2),
        ("seed-search", 0),
    }
    [porto] = (await store.for_user("dora").search_messages("porto june"))["items"]
    assert "[Porto]" in porto["snippet"]
    # titles: 0001's (backfilled) and this one's (indexed by the trigger)
    assert [h["thread_id"] for h in (await store.search_threads("trip"))["items"]] == [
        "seed-root",
        "seed-fork",
    ]
    assert [h["thread_id"] for h in (await store.search_threads("porto"))["items"]] == [
        "seed-search"
    ]


def write_vector(conn: Connection) -> None:
    """Revision 0011 (PostgreSQL's stored tsvector): a message written after the column exists."""
    conn.execute(
        sa.insert(_messages).values(
            thread_id="seed-search",
            seq=1,
            role="assistant",
            content="Madeira instead: warmer in June.",
            metadata={},
            timestamp=_AT,
        )
    )
    conn.execute(sa.update(_threads).where(_threads.c.id == "seed-search").values(message_count=2))


async def check_vector(store: BaseStore) -> None:
    """The messages of before 0011 (vectors backfilled) and after it are both found."""
    june = await store.for_user("dora").search_messages("june")
    assert {(h["thread_id"], h["seq"]) for h in june["items"]} == {
        ("seed-search", 0),
        ("seed-search", 1),
    }
    [madeira] = (await store.search_messages("MADEIRA"))["items"]
    assert "[Madeira]" in madeira["snippet"]


def check_vector_rows(conn: Connection) -> None:
    """On PostgreSQL every message has its stored vector, equal to the expression's."""
    if conn.dialect.name != "postgresql":
        return
    stale = conn.execute(
        sa.text(
            "SELECT count(*) FROM threadstore_messages WHERE search_vector IS NULL "
            "OR search_vector <> to_tsvector(threadstore_search_config(), content)"
        )
    ).scalar()
    assert stale == 0
