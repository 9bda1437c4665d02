"""Seed data of revision 0008 (full-text search): rows of before it are found, and after.

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
