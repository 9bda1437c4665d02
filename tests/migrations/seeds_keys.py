"""Seed data of revision 0010 (messages, feedback and suspended states keyed by thread).

Written with plain SQL on 0010's tables: two threads whose messages interleave
(ids from the one sequence), feedback naming a message by ``(thread_id,
message_id)``, and an approval per thread. Read back at head through the store:
ids keep their order across threads, the feedback finds its message, and
approval ids stay unique across threads. ``tests/migrations/seeds.py``
registers ``write`` and ``check`` under "0010".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from threadstore import BaseStore, DuplicateRecordError

__all__ = ["check", "write"]

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)
_AT = datetime(2025, 9, 1, 10, 0, 0, tzinfo=UTC)
_THREADS = ("seed-keys-a", "seed-keys-b")

_threads = sa.table(
    "threadstore_threads",
    *(sa.column(c, sa.String()) for c in ("id", "user_id", "agent_name")),
    sa.column("metadata", _JSON),
    sa.column("created_at", _TS),
    sa.column("updated_at", _TS),
    sa.column("message_count", sa.Integer()),
)
_messages = sa.table(
    "threadstore_messages",
    sa.column("id", sa.BigInteger()),
    *(sa.column(c, sa.String()) for c in ("thread_id", "role", "content")),
    sa.column("seq", sa.Integer()),
    sa.column("metadata", _JSON),
    sa.column("timestamp", _TS),
)
_feedback = sa.table(
    "threadstore_feedback",
    *(sa.column(c, sa.String()) for c in ("thread_id", "user_id", "agent_name", "feedback_type")),
    sa.column("rating", sa.Integer()),
    sa.column("message_id", sa.BigInteger()),
    sa.column("created_at", _TS),
)
_suspended = sa.table(
    "threadstore_suspended_states",
    *(sa.column(c, sa.String()) for c in ("id", "thread_id", "agent_name", "node_name")),
    sa.column("state_snapshot", _JSON),
    sa.column("created_at", _TS),
    sa.column("expires_at", _TS),
)


def write(conn: Connection) -> None:
    """Messages of two threads in turns, feedback on b's last one, one approval per thread."""
    conn.execute(
        sa.insert(_threads),
        [
            {"id": t, "user_id": "erin", "agent_name": "keys", "metadata": {}}
            | {"created_at": _AT, "updated_at": _AT, "message_count": 2}
            for t in _THREADS
        ],
    )
    for seq in range(2):
        for thread in _THREADS:  # ids interleave: the sequence is shared by every thread
            conn.execute(
                sa.insert(_messages).values(
                    thread_id=thread,
                    seq=seq,
                    role="user",
                    content=f"{thread} {seq}",
                    metadata={},
                    timestamp=_AT,
                )
            )
    last = conn.execute(
        sa.select(_messages.c.id).where(_messages.c.thread_id == _THREADS[1], _messages.c.seq == 1)
    ).scalar_one()
    conn.execute(
        sa.insert(_feedback).values(
            thread_id=_THREADS[1],
            user_id="erin",
            agent_name="keys",
            feedback_type="thumbs",
            rating=5,
            message_id=last,
            created_at=_AT,
        )
    )
    far = _AT + timedelta(days=3650)
    conn.execute(
        sa.insert(_suspended),
        [
            {"id": f"seed-approval-{n}", "thread_id": thread, "agent_name": "keys"}
            | {"node_name": "review", "state_snapshot": {"n": n}, "created_at": _AT}
            | {"expires_at": far}
            for n, thread in enumerate(_THREADS)
        ],
    )


async def check(store: BaseStore) -> None:
    """Ids ordered across threads, feedback on its message, approvals by id, new ids above."""
    a, b = [await store.get_messages(t) for t in _THREADS]
    assert [m["id"] for m in (a[0], b[0], a[1], b[1])] == sorted(m["id"] for m in a + b)
    (feedback,) = await store.get_feedback(thread_id=_THREADS[1])
    assert (feedback["message_id"], feedback["rating"]) == (b[1]["id"], 5)
    for n, thread in enumerate(_THREADS):
        state = await store.get_suspended_state(f"seed-approval-{n}")
        assert state is not None
        assert (state["thread_id"], state["state_snapshot"]) == (thread, {"n": n})
    with pytest.raises(DuplicateRecordError):
        await store.save_suspended_state("seed-approval-0", _THREADS[1], "keys", "review", {})
    added = await store.add_message(_THREADS[0], "assistant", "after 0010")
    assert added["id"] > b[1]["id"]
