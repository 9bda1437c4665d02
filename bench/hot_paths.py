"""Hot-path cases: each store call next to the same statements and transactions by hand.

The reference side is what a careful application would write on the raw
driver: the same SQL threadstore sends (or the straightforward equivalent),
the same transaction boundaries, and the JSON decoding of the columns it reads.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from bench.harness import Case
from bench.rawdb import RawDB
from threadstore import BaseStore

DEPTH = 2_000
"""Messages in the paged threads; pages start at seq 1,000."""
THREADS = 2_000
"""Threads in the store when list_threads pages them."""
LINEAGE = 50
"""Forks in the chain whose lineage is read."""

_THREAD_COLUMNS = (
    "id, user_id, agent_name, title, metadata, created_at, updated_at, message_count, "
    "parent_thread_id, fork_message_index, version"
)
_MESSAGE_COLUMNS = "thread_id, seq, role, content, metadata, timestamp, idempotency_key"


def _now() -> datetime:
    return datetime.now(UTC)


def _decoded(rows: list[Any], column: int) -> list[Any]:
    return [
        json.loads(row[column]) if isinstance(row[column], str) else row[column] for row in rows
    ]


async def seed(store: BaseStore, raw: RawDB) -> None:
    """Two copies of every fixture: one read by threadstore, one by the reference."""
    filler = [{"role": "user", "content": "x" * 200, "metadata": {"k": 1}}] * 100
    for side in ("ours", "raw"):
        await store.create_thread(f"{side}-page", "u", "a")
        for _ in range(DEPTH // len(filler)):
            await store.add_messages(f"{side}-page", filler)
        await store.create_thread(f"{side}-append", "u", "a")
        await store.create_thread(f"{side}-0", "u", "chain")
        await store.add_message(f"{side}-0", "user", "root")
        for depth in range(1, LINEAGE + 1):
            await store.fork_thread(f"{side}-{depth - 1}", 0, f"{side}-{depth}")
        for step in range(20):
            await store.save_checkpoint(
                f"{side}-page", "", f"cp-{step:04d}", None, {"v": step, "c": ["x"] * 20}, {}
            )
    async with store.transaction() as tx:
        for n in range(THREADS):
            await tx.create_thread(f"list-{n:05d}", f"user-{n % 10}", "lister", title="t")


def cases(store: BaseStore, raw: RawDB) -> list[Case]:
    """The hot paths of issue 12, items 1 and 4."""
    counter = itertools.count()

    async def ours_create() -> object:
        return await store.create_thread(f"ours-new-{next(counter)}", "u", "a", title="t")

    async def raw_create() -> object:
        now = raw.stamp(_now())
        await raw.begin_write()
        await raw.execute(
            "INSERT INTO threadstore_threads (id, user_id, agent_name, title, metadata, "
            "created_at, updated_at, message_count, version) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1)",
            f"raw-new-{next(counter)}",
            "u",
            "a",
            "t",
            "{}",
            now,
            now,
        )
        await raw.commit()
        return None

    async def raw_get_thread() -> object:
        rows = await raw.fetch(
            f"SELECT {_THREAD_COLUMNS} FROM threadstore_threads WHERE id = ?", "raw-page"
        )
        return _decoded(rows, 4)

    async def raw_append() -> object:
        now = raw.stamp(_now())
        await raw.begin_write()
        count = await raw.fetchval(
            "UPDATE threadstore_threads SET message_count = message_count + 1, updated_at = ?, "
            "version = version + 1 WHERE id = ? RETURNING message_count",
            now,
            "raw-append",
        )
        await raw.execute(
            f"INSERT INTO threadstore_messages ({_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            "raw-append",
            count - 1,
            "user",
            "hello",
            json.dumps({"k": 1}),
            now,
            None,
        )
        await raw.commit()
        return None

    batch = [{"role": "user", "content": f"m{i}", "metadata": {"i": i}} for i in range(20)]

    async def raw_append_batch() -> object:
        now = raw.stamp(_now())
        await raw.begin_write()
        count = await raw.fetchval(
            "UPDATE threadstore_threads SET message_count = message_count + ?, updated_at = ?, "
            "version = version + 1 WHERE id = ? RETURNING message_count",
            len(batch),
            now,
            "raw-append",
        )
        first = count - len(batch)
        for i, item in enumerate(batch):
            await raw.execute(
                f"INSERT INTO threadstore_messages ({_MESSAGE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                "raw-append",
                first + i,
                item["role"],
                item["content"],
                json.dumps(item["metadata"]),
                now,
                None,
            )
        await raw.commit()
        return None

    async def raw_page() -> object:
        rows = await raw.fetch(
            f"SELECT id, {_MESSAGE_COLUMNS} FROM threadstore_messages "
            "WHERE thread_id = ? AND seq > ? ORDER BY seq LIMIT 50",
            "raw-page",
            1000,
        )
        return _decoded(rows, 5)

    async def raw_list() -> object:
        rows = await raw.fetch(
            f"SELECT {_THREAD_COLUMNS} FROM threadstore_threads "
            "ORDER BY updated_at DESC, id DESC LIMIT 50"
        )
        return _decoded(rows, 4)

    checkpoints = itertools.count()

    async def ours_save_checkpoint() -> object:
        step = next(checkpoints)
        await store.save_checkpoint(
            "ours-append", "", f"w-{step:08d}", None, {"v": step, "c": ["x"] * 20}, {"s": 1}
        )
        return None

    async def raw_save_checkpoint() -> object:
        step = next(checkpoints)
        await raw.execute(
            "INSERT INTO threadstore_checkpoints (thread_id, checkpoint_ns, checkpoint_id, "
            "parent_checkpoint_id, checkpoint, metadata, created_at, payload_type, payload, "
            "run_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL) "
            "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET "
            "parent_checkpoint_id = excluded.parent_checkpoint_id, "
            "checkpoint = excluded.checkpoint, metadata = excluded.metadata, "
            "created_at = excluded.created_at",
            "raw-append",
            "",
            f"w-{step:08d}",
            None,
            json.dumps({"v": step, "c": ["x"] * 20}),
            json.dumps({"s": 1}),
            raw.stamp(_now()),
        )
        return None

    async def raw_get_checkpoint() -> object:
        rows = await raw.fetch(
            "SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, "
            "metadata, created_at FROM threadstore_checkpoints "
            "WHERE thread_id = ? AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1",
            "raw-page",
            "",
        )
        return _decoded(rows, 4) + _decoded(rows, 5)

    async def raw_lineage() -> object:
        rows = await raw.fetch(
            "WITH RECURSIVE lineage(id, parent_thread_id, depth) AS ("
            " SELECT id, parent_thread_id, 0 FROM threadstore_threads WHERE id = ?"
            " UNION ALL SELECT p.id, p.parent_thread_id, l.depth + 1"
            " FROM threadstore_threads p JOIN lineage l ON p.id = l.parent_thread_id"
            " WHERE l.depth < 1000)"
            " SELECT t.*, l.depth FROM threadstore_threads t JOIN lineage l ON t.id = l.id"
            " WHERE l.depth > 0"
            " UNION ALL SELECT t.*, -1 FROM threadstore_threads t WHERE t.parent_thread_id = ?",
            f"raw-{LINEAGE}",
            f"raw-{LINEAGE}",
        )
        return sorted(_decoded(rows, 4), key=str)

    return [
        Case("create_thread", ours_create, raw_create),
        Case("get_thread", lambda: store.get_thread("ours-page"), raw_get_thread, 50),
        Case(
            "add_message",
            lambda: store.add_message("ours-append", "user", "hello", metadata={"k": 1}),
            raw_append,
        ),
        Case(
            "add_messages (batch of 20)",
            lambda: store.add_messages("ours-append", batch),
            raw_append_batch,
            10,
        ),
        Case(
            "get_messages (keyset page of 50)",
            lambda: store.get_messages("ours-page", limit=50, after_seq=1000),
            raw_page,
            50,
        ),
        Case("list_threads (page of 50)", lambda: store.list_threads(limit=50), raw_list, 20),
        Case("save_checkpoint", ours_save_checkpoint, raw_save_checkpoint),
        Case(
            "get_checkpoint (latest)",
            lambda: store.get_checkpoint("ours-page", "", ""),
            raw_get_checkpoint,
            50,
        ),
        Case(
            f"get_thread_lineage (depth {LINEAGE})",
            lambda: store.get_thread_lineage(f"ours-{LINEAGE}"),
            raw_lineage,
            20,
        ),
    ]
