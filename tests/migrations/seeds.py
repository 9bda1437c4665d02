"""Representative rows per revision, written with plain SQL on that revision's tables.

Each revision that adds or changes tables registers a :class:`Seed` here:
``write`` runs right after the database was upgraded to that revision (so it
may only use that revision's schema: lightweight ``sa.table`` constructs,
never the live models), and ``check`` reads the same data back through a
:class:`threadstore.SQLAlchemyStore` at head; ``check_rows`` (optional) reads
with plain SQL at head what later revisions added to those rows (e.g. the
version 0004 gives every existing thread). ``test_every_revision_has_seed_data``
fails until a new revision has one (or an explicit ``None`` for a
revision that adds no new kind of data, such as an index).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tests.migrations import seeds_keys, seeds_memory, seeds_runs, seeds_search
from threadstore import BaseStore


@dataclass(frozen=True)
class Seed:
    """Data a revision's schema can hold: how to write it, and how to check it survived."""

    write: Callable[[Connection], None]
    check: Callable[[BaseStore], Awaitable[None]]
    check_rows: Callable[[Connection], None] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _at(minute: int) -> datetime:
    return datetime(2025, 6, 1, 12, minute, 30, 123456, tzinfo=UTC)


def _iso(minute: int) -> str:
    return _at(minute).isoformat(timespec="microseconds")


_TS = sa.DateTime(timezone=True)

# -- 0001: threads, messages, feedback, suspended states, checkpoints ---------

_threads = sa.table(
    "threadstore_threads",
    sa.column("id", sa.String),
    sa.column("user_id", sa.String),
    sa.column("agent_name", sa.String),
    sa.column("title", sa.Text),
    sa.column("metadata", _json()),
    sa.column("created_at", _TS),
    sa.column("updated_at", _TS),
    sa.column("message_count", sa.Integer),
    sa.column("parent_thread_id", sa.String),
    sa.column("fork_message_index", sa.Integer),
)
_messages = sa.table(
    "threadstore_messages",
    sa.column("id", sa.BigInteger),
    sa.column("thread_id", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("role", sa.String),
    sa.column("content", sa.Text),
    sa.column("metadata", _json()),
    sa.column("timestamp", _TS),
)
_feedback = sa.table(
    "threadstore_feedback",
    sa.column("thread_id", sa.String),
    sa.column("user_id", sa.String),
    sa.column("agent_name", sa.String),
    sa.column("rating", sa.Integer),
    sa.column("comment", sa.Text),
    sa.column("message_id", sa.BigInteger),
    sa.column("feedback_type", sa.String),
    sa.column("query", sa.Text),
    sa.column("response", sa.Text),
    sa.column("correction", sa.Text),
    sa.column("created_at", _TS),
)
_suspended = sa.table(
    "threadstore_suspended_states",
    sa.column("id", sa.String),
    sa.column("thread_id", sa.String),
    sa.column("agent_name", sa.String),
    sa.column("node_name", sa.String),
    sa.column("state_snapshot", _json()),
    sa.column("created_at", _TS),
    sa.column("expires_at", _TS),
)
_checkpoints = sa.table(
    "threadstore_checkpoints",
    sa.column("thread_id", sa.String),
    sa.column("checkpoint_ns", sa.String),
    sa.column("checkpoint_id", sa.String),
    sa.column("parent_checkpoint_id", sa.String),
    sa.column("checkpoint", _json()),
    sa.column("metadata", _json()),
    sa.column("created_at", _TS),
)

_ROOT_META = {"tags": ["trip", "ß"], "nested": {"n": 1.5, "ok": True, "none": None}}
_ROOT_MESSAGES = [
    ("system", "You plan trips.", {}),
    ("user", "Lisbon in May? ✈", {"client": "web"}),
    ("assistant", "Yes — mild and sunny.", {"tokens": 12, "tools": ["weather"]}),
]
_STATE = {"step": 3, "pending": [{"tool": "book", "args": {"city": "Lisbon"}}]}
_CHECKPOINT = {"v": 1, "id": "cp-2", "channel_values": {"messages": ["hi", "ho"]}}


def _write_initial(conn: Connection) -> None:
    conn.execute(
        sa.insert(_threads),
        [
            {
                "id": "seed-root",
                "user_id": "alice",
                "agent_name": "planner",
                "title": "Trip",
                "metadata": _ROOT_META,
                "created_at": _at(0),
                "updated_at": _at(3),
                "message_count": 3,
                "parent_thread_id": None,
                "fork_message_index": None,
            },
            {
                "id": "seed-fork",
                "user_id": "alice",
                "agent_name": "planner",
                "title": "Fork of Trip",
                "metadata": {},
                "created_at": _at(4),
                "updated_at": _at(4),
                "message_count": 2,
                "parent_thread_id": "seed-root",
                "fork_message_index": 1,
            },
            {
                "id": "seed-empty",
                "user_id": "bob",
                "agent_name": "helper",
                "title": None,
                "metadata": {},
                "created_at": _at(5),
                "updated_at": _at(5),
                "message_count": 0,
                "parent_thread_id": None,
                "fork_message_index": None,
            },
        ],
    )
    rows = [
        {
            "thread_id": "seed-root",
            "seq": seq,
            "role": role,
            "content": content,
            "metadata": meta,
            "timestamp": _at(seq + 1),
        }
        for seq, (role, content, meta) in enumerate(_ROOT_MESSAGES)
    ]
    rows += [{**row, "thread_id": "seed-fork", "timestamp": _at(4)} for row in rows[:2]]
    conn.execute(sa.insert(_messages), rows)
    answer_id = conn.execute(
        sa.select(_messages.c.id).where(_messages.c.thread_id == "seed-root", _messages.c.seq == 2)
    ).scalar_one()
    conn.execute(
        sa.insert(_feedback),
        [
            {
                "thread_id": "seed-root",
                "user_id": "alice",
                "agent_name": "planner",
                "rating": 5,
                "comment": "great",
                "message_id": answer_id,
                "feedback_type": "thumbs",
                "query": "Lisbon in May?",
                "response": "Yes — mild and sunny.",
                "correction": None,
                "created_at": _at(6),
            },
            {
                "thread_id": "seed-root",
                "user_id": "alice",
                "agent_name": "planner",
                "rating": None,
                "comment": None,
                "message_id": None,
                "feedback_type": "correction",
                "query": None,
                "response": None,
                "correction": "Mention the rain.",
                "created_at": _at(7),
            },
        ],
    )
    conn.execute(
        sa.insert(_suspended),
        {
            "id": "seed-approval",
            "thread_id": "seed-root",
            "agent_name": "planner",
            "node_name": "book",
            "state_snapshot": _STATE,
            "created_at": _at(8),
            "expires_at": datetime(2100, 1, 1, tzinfo=UTC),
        },
    )
    conn.execute(
        sa.insert(_checkpoints),
        [
            {
                "thread_id": "seed-graph-only",
                "checkpoint_ns": "",
                "checkpoint_id": "cp-1",
                "parent_checkpoint_id": None,
                "checkpoint": {"v": 1, "id": "cp-1", "channel_values": {}},
                "metadata": {"step": 0},
                "created_at": _at(9),
            },
            {
                "thread_id": "seed-graph-only",
                "checkpoint_ns": "",
                "checkpoint_id": "cp-2",
                "parent_checkpoint_id": "cp-1",
                "checkpoint": _CHECKPOINT,
                "metadata": {"step": 1, "source": "loop"},
                "created_at": _at(10),
            },
        ],
    )


async def _check_initial(store: BaseStore) -> None:
    root = await store.get_thread("seed-root")
    assert root is not None
    assert root["user_id"] == "alice"
    assert root["agent_name"] == "planner"
    assert root["title"] == "Trip"
    assert root["metadata"] == _ROOT_META
    assert root["created_at"] == _iso(0)
    assert root["updated_at"] == _iso(3)
    assert root["message_count"] == 3
    empty = await store.get_thread("seed-empty")
    assert empty is not None
    assert empty["title"] is None
    assert empty["metadata"] == {}

    messages = await store.get_messages("seed-root")
    assert [(m["seq"], m["role"], m["content"], m["metadata"]) for m in messages] == [
        (seq, role, content, meta) for seq, (role, content, meta) in enumerate(_ROOT_MESSAGES)
    ]
    assert [m["timestamp"] for m in messages] == [_iso(1), _iso(2), _iso(3)]
    fork_messages = await store.get_messages("seed-fork")
    assert [m["content"] for m in fork_messages] == [c for _, c, _ in _ROOT_MESSAGES[:2]]

    lineage = await store.get_thread_lineage("seed-fork")
    assert [t["id"] for t in lineage["ancestors"]] == ["seed-root"]
    fork = await store.get_thread("seed-fork")
    assert fork is not None
    assert fork["parent_thread_id"] == "seed-root"
    assert fork["fork_message_index"] == 1

    feedback = await store.get_feedback(thread_id="seed-root")
    by_type = {f["feedback_type"]: f for f in feedback}
    assert set(by_type) == {"thumbs", "correction"}
    assert by_type["thumbs"]["rating"] == 5
    assert by_type["thumbs"]["message_id"] == messages[2]["id"]
    assert by_type["thumbs"]["response"] == "Yes — mild and sunny."
    assert by_type["correction"]["rating"] is None
    assert by_type["correction"]["correction"] == "Mention the rain."

    state = await store.get_suspended_state("seed-approval")
    assert state is not None
    assert state["state_snapshot"] == _STATE
    assert state["node_name"] == "book"
    assert state["expires_at"] == "2100-01-01T00:00:00.000000+00:00"

    latest = await store.get_checkpoint("seed-graph-only", "", "")
    assert latest is not None
    assert latest["checkpoint_id"] == "cp-2"
    assert latest["parent_checkpoint_id"] == "cp-1"
    assert latest["checkpoint"] == _CHECKPOINT
    assert latest["metadata"] == {"step": 1, "source": "loop"}
    listed = await store.list_checkpoints("seed-graph-only", "")
    assert [c["checkpoint_id"] for c in listed] == ["cp-2", "cp-1"]


# -- 0002: context items, their routes, agent topics and permissions -------------

_context_items = sa.table(
    "threadstore_context_items",
    sa.column("scope", sa.String),
    sa.column("key", sa.String),
    sa.column("value", _json()),
    sa.column("subscribers", _json()),
    sa.column("topics", _json()),
    sa.column("posted_by", sa.String),
    sa.column("ttl", sa.Float),
    sa.column("created_at", _TS),
    sa.column("expires_at", _TS),
)
_context_routes = sa.table(
    "threadstore_context_routes",
    sa.column("scope", sa.String),
    sa.column("key", sa.String),
    sa.column("kind", sa.String),
    sa.column("name", sa.String),
)
_agent_topics = sa.table(
    "threadstore_agent_topics",
    sa.column("scope", sa.String),
    sa.column("agent_name", sa.String),
    sa.column("topic", sa.String),
    sa.column("position", sa.Integer),
)
_agent_permissions = sa.table(
    "threadstore_agent_permissions",
    sa.column("scope", sa.String),
    sa.column("agent_name", sa.String),
    sa.column("allowed_topics", _json()),
)
_BRIEF = {"destination": "Lisbon", "days": 4, "budget": None, "tags": ["ß", "✈"]}


def _write_context(conn: Connection) -> None:
    item = {"posted_by": None, "ttl": None, "expires_at": None}
    conn.execute(
        sa.insert(_context_items),
        [
            {
                **item,
                "scope": "",
                "key": "deployment",
                "value": {"model": "v7"},
                "subscribers": [],
                "topics": [],
                "created_at": _at(11),
            },
            {
                **item,
                "scope": "alice",
                "key": "brief",
                "value": _BRIEF,
                "subscribers": ["writer"],
                "topics": ["research"],
                "posted_by": "planner",
                "ttl": 3600.5,
                "created_at": _at(12),
                "expires_at": datetime(2100, 1, 1, tzinfo=UTC),
            },
            {
                **item,
                "scope": "alice",
                "key": "nothing",
                "value": sa.JSON.NULL,
                "subscribers": [],
                "topics": [],
                "created_at": _at(13),
            },
        ],
    )
    conn.execute(
        sa.insert(_context_routes),
        [
            {"scope": "alice", "key": "brief", "kind": "subscriber", "name": "writer"},
            {"scope": "alice", "key": "brief", "kind": "topic", "name": "research"},
        ],
    )
    conn.execute(
        sa.insert(_agent_topics),
        [
            {"scope": "alice", "agent_name": "analyst", "topic": "research", "position": 0},
            {"scope": "alice", "agent_name": "analyst", "topic": "drafts", "position": 1},
        ],
    )
    conn.execute(
        sa.insert(_agent_permissions),
        {"scope": "alice", "agent_name": "researcher", "allowed_topics": ["research"]},
    )


async def _check_context(store: BaseStore) -> None:
    deployment = await store.get_context_item("deployment", agent_name="anyone")
    assert deployment is not None
    assert (deployment["value"], deployment["user_id"]) == ({"model": "v7"}, None)
    assert deployment["created_at"] == _iso(11)
    assert await store.get_context_item("deployment", user_id="alice") is None

    brief = await store.get_context_item("brief", user_id="alice")
    assert brief == {
        "key": "brief",
        "value": _BRIEF,
        "subscribers": ["writer"],
        "topics": ["research"],
        "ttl": 3600.5,
        "created_at": _iso(12),
        "expires_at": "2100-01-01T00:00:00.000000+00:00",
        "user_id": "alice",
        "posted_by": "planner",
    }
    nothing = await store.get_context_item("nothing", user_id="alice")
    assert nothing is not None
    assert nothing["value"] is None
    # Routing reads the route rows and the topic rows.
    for agent, keys in (("writer", ["brief", "nothing"]), ("analyst", ["brief", "nothing"])):
        items = await store.get_all_context_items(user_id="alice", agent_name=agent)
        assert [i["key"] for i in items] == keys
    items = await store.get_all_context_items(user_id="alice", agent_name="other")
    assert [i["key"] for i in items] == ["nothing"]
    assert await store.get_agent_topics("analyst", user_id="alice") == ["research", "drafts"]
    assert await store.get_all_agent_permissions(user_id="alice") == {"researcher": ["research"]}


# -- 0003: LangGraph payloads, run ids and pending writes ---------------------------

_CHANNELS = {"channel_values": {"messages": ["hi", "nul\x00 kept"], "blob": b"\x00\x01"}}
_HEADER = {"v": 4, "id": "lg-1", "ts": "2025-06-01T12:20:00+00:00", "channel_versions": {}}

_lg_checkpoints = sa.table(
    "threadstore_checkpoints",
    sa.column("thread_id", sa.String),
    sa.column("checkpoint_ns", sa.String),
    sa.column("checkpoint_id", sa.String),
    sa.column("parent_checkpoint_id", sa.String),
    sa.column("checkpoint", _json()),
    sa.column("metadata", _json()),
    sa.column("created_at", _TS),
    sa.column("payload_type", sa.String),
    sa.column("payload", sa.LargeBinary),
    sa.column("run_id", sa.String),
)
_lg_writes = sa.table(
    "threadstore_checkpoint_writes",
    sa.column("thread_id", sa.String),
    sa.column("checkpoint_ns", sa.String),
    sa.column("checkpoint_id", sa.String),
    sa.column("task_id", sa.String),
    sa.column("idx", sa.Integer),
    sa.column("channel", sa.Text),
    sa.column("task_path", sa.Text),
    sa.column("value_type", sa.String),
    sa.column("value", sa.LargeBinary),
)


def _serde() -> Any:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer()


def _write_langgraph(conn: Connection) -> None:
    serde = _serde()
    payload_type, payload = serde.dumps_typed(_CHANNELS)
    conn.execute(
        sa.insert(_lg_checkpoints),
        {
            "thread_id": "seed-graph",
            "checkpoint_ns": "",
            "checkpoint_id": "lg-1",
            "parent_checkpoint_id": None,
            "checkpoint": _HEADER,
            "metadata": {"step": 2, "run_id": "run-7"},
            "created_at": _at(20),
            "payload_type": payload_type,
            "payload": payload,
            "run_id": "run-7",
        },
    )
    value_type, value = serde.dumps_typed({"approved": True})
    conn.execute(
        sa.insert(_lg_writes),
        {
            "thread_id": "seed-graph",
            "checkpoint_ns": "",
            "checkpoint_id": "lg-1",
            "task_id": "task-1",
            "idx": 0,
            "channel": "__interrupt__",
            "task_path": "",
            "value_type": value_type,
            "value": value,
        },
    )


async def _check_langgraph(store: BaseStore) -> None:
    from threadstore.langgraph import ThreadstoreSaver

    header = await store.get_checkpoint("seed-graph", "", "")
    assert header is not None
    assert header["checkpoint"] == _HEADER
    assert header["metadata"] == {"step": 2, "run_id": "run-7"}
    saver = ThreadstoreSaver(store)
    found = await saver.aget_tuple({"configurable": {"thread_id": "seed-graph"}})
    assert found is not None
    assert found.checkpoint["channel_values"] == _CHANNELS["channel_values"]
    assert found.pending_writes == [("task-1", "__interrupt__", {"approved": True})]
    await saver.adelete_for_runs(["run-7"])
    assert await store.get_checkpoint("seed-graph", "", "") is None


# -- 0004: thread versions and idempotency keys ----------------------------------

_v4_threads = sa.table(
    "threadstore_threads",
    *(sa.column(c.name, c.type) for c in _threads.c),
    sa.column("version", sa.Integer),
)
_v4_messages = sa.table(
    "threadstore_messages",
    *(sa.column(c.name, c.type) for c in _messages.c if c.name != "id"),
    sa.column("idempotency_key", sa.String),
)
_KEYED_MESSAGES = [
    ("user", "Book Lisbon.", "req-1"),
    ("assistant", "Booking…", None),
    ("assistant", "Booked ✈", "req-2"),
]


def _versions(conn: Connection, *thread_ids: str) -> dict[str, int]:
    query = sa.select(_v4_threads.c.id, _v4_threads.c.version).where(
        _v4_threads.c.id.in_(thread_ids)
    )
    return {row.id: row.version for row in conn.execute(query)}


def _keys(conn: Connection, thread_id: str) -> list[str | None]:
    query = (
        sa.select(_v4_messages.c.idempotency_key)
        .where(_v4_messages.c.thread_id == thread_id)
        .order_by(_v4_messages.c.seq)
    )
    return list(conn.execute(query).scalars())


def _check_initial_rows(conn: Connection) -> None:
    """0004 starts every existing thread at version 1 and leaves messages without keys."""
    assert _versions(conn, "seed-root", "seed-fork", "seed-empty") == {
        "seed-root": 1,
        "seed-fork": 1,
        "seed-empty": 1,
    }
    assert _keys(conn, "seed-root") == [None, None, None]
    assert _keys(conn, "seed-fork") == [None, None]


def _write_keyed(conn: Connection) -> None:
    thread = {
        "user_id": "carol",
        "agent_name": "booker",
        "title": None,
        "metadata": {},
        "created_at": _at(30),
        "updated_at": _at(31),
        "parent_thread_id": None,
        "fork_message_index": None,
    }
    conn.execute(
        sa.insert(_v4_threads), {**thread, "id": "seed-keyed", "message_count": 3, "version": 5}
    )
    # No version: the server default gives 1.
    conn.execute(sa.insert(_threads), {**thread, "id": "seed-keyed-2", "message_count": 1})
    row = {"metadata": {}, "timestamp": _at(31)}
    conn.execute(
        sa.insert(_v4_messages),
        [
            {
                **row,
                "thread_id": "seed-keyed",
                "seq": seq,
                "role": role,
                "content": content,
                "idempotency_key": key,
            }
            for seq, (role, content, key) in enumerate(_KEYED_MESSAGES)
        ]
        # The same key in another thread is another message.
        + [
            {
                **row,
                "thread_id": "seed-keyed-2",
                "seq": 0,
                "role": "user",
                "content": "Again.",
                "idempotency_key": "req-1",
            }
        ],
    )


async def _check_keyed(store: BaseStore) -> None:
    thread = await store.get_thread("seed-keyed")
    assert thread is not None
    assert (thread["user_id"], thread["message_count"]) == ("carol", 3)
    messages = await store.get_messages("seed-keyed")
    assert [(m["seq"], m["role"], m["content"]) for m in messages] == [
        (seq, role, content) for seq, (role, content, _) in enumerate(_KEYED_MESSAGES)
    ]
    assert [m["content"] for m in await store.get_messages("seed-keyed-2")] == ["Again."]


def _check_keyed_rows(conn: Connection) -> None:
    assert _versions(conn, "seed-keyed", "seed-keyed-2") == {"seed-keyed": 5, "seed-keyed-2": 1}
    assert _keys(conn, "seed-keyed") == [key for _, _, key in _KEYED_MESSAGES]
    assert _keys(conn, "seed-keyed-2") == ["req-1"]


SEEDS: dict[str, Seed | None] = {
    # None only for a revision that adds no new kind of data (an index, say).
    "0001": Seed(write=_write_initial, check=_check_initial, check_rows=_check_initial_rows),
    "0002": Seed(write=_write_context, check=_check_context),
    "0003": Seed(write=_write_langgraph, check=_check_langgraph),
    "0004": Seed(write=_write_keyed, check=_check_keyed, check_rows=_check_keyed_rows),
    "0005": None,  # keyset-paging indexes only
    "0006": Seed(write=seeds_runs.write, check=seeds_runs.check),
    "0007": None,  # query indexes only
    "0008": Seed(write=seeds_search.write, check=seeds_search.check),
    "0009": Seed(write=seeds_memory.write, check=seeds_memory.check),
    "0010": Seed(write=seeds_keys.write, check=seeds_keys.check),
    "0011": Seed(
        write=seeds_search.write_vector,
        check=seeds_search.check_vector,
        check_rows=seeds_search.check_vector_rows,
    ),
    "0012": Seed(
        write=seeds_memory.write_array,
        check=seeds_memory.check_array,
        check_rows=seeds_memory.check_array_rows,
    ),
    "0013": None,  # covering indexes for aggregate_stats only
}
