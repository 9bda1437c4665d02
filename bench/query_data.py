"""The data set of bench/bench_queries.py, generated deterministically and loaded fast.

``generate(messages)`` builds threads, messages, runs, tool calls and feedback
as plain tuples (one per row, in the tables' column order). The loaders write
them through the raw driver (``executemany`` on aiosqlite, ``COPY`` on
asyncpg) into a schema that :mod:`threadstore.migrations` created, as the
store itself would have written them: every message appended one at a time,
so a thread's ``seq`` runs 0..n-1, ``message_count`` is n, ``version`` is
1 + n and ``updated_at`` is its last message's timestamp; rows are inserted in
time order (threads interleaved), as a live store would have written them.
The SQLite FTS5 triggers fire on every insert; PostgreSQL computes its search
vector from the rows. Both are ANALYZEd afterwards.

Content is English-ish: a Zipf-distributed vocabulary, plus two planted
words for search: :data:`COMMON_WORD` (in about 5 % of the messages) and
:data:`RARE_WORD` (about 1 in 20,000).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite
import asyncpg

AGENTS = ("support", "sales", "billing", "research", "triage", "onboarding")
INTENTS = ("question", "refund", "cancel", "upgrade", "bug", "billing", "praise", "other")
LANGS = ("en", "en", "en", "en", "de", "fr", "es", "ja")
TOOLS = ("lookup_order", "issue_refund", "search_docs", "send_email", "create_ticket", "get_plan")
COMMON_WORD = "refund"
COMMON_SHARE = 0.05
RARE_WORD = "zanzibar"
RARE_SHARE = 1 / 20_000
FLAGGED_SHARE = 0.002
"""Messages whose metadata has ``"flagged": true`` (the selective metadata filter)."""
DAYS = 90
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _split(text: str, separator: str = " ") -> list[str]:
    return text.split(separator)


_BASE_WORDS = _split(
    "the to and a of i you is it that for in my on this with your can be have order we "
    "not are please what was will at do me an if account thanks help so just but from "
    "how there get would when need any all could our here they time one about know like "
    "also see new check payment invoice shipping delivery package tracking number email "
    "support team issue problem working update password login plan price subscription "
    "card charge error message screen app page report data export settings change cancel "
    "service product quality return replace item size color week month today tomorrow "
    "yesterday address phone call reply ticket status agent manager customer business"
)
_SYLLABLES = ("ka", "lo", "mi", "ren", "tor", "vel", "sun", "dra", "pe", "qui", "zo", "bar")


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    words = list(dict.fromkeys(_BASE_WORDS))
    seen = set(words) | {COMMON_WORD, RARE_WORD}
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


@dataclass
class DataSet:
    """Rows of each table: tuples in :data:`COLUMNS` order, JSON columns as JSON text."""

    messages: int
    users: list[str]
    threads: list[tuple[Any, ...]] = field(default_factory=list)
    message_rows: list[tuple[Any, ...]] = field(default_factory=list)
    runs: list[tuple[Any, ...]] = field(default_factory=list)
    tool_calls: list[tuple[Any, ...]] = field(default_factory=list)
    feedback: list[tuple[Any, ...]] = field(default_factory=list)


COLUMNS = {
    "threadstore_threads": _split(
        "id, user_id, agent_name, title, metadata, created_at, updated_at, message_count, "
        "parent_thread_id, fork_message_index, version",
        ", ",
    ),
    "threadstore_messages": _split(
        "thread_id, seq, role, content, metadata, timestamp, idempotency_key",
        ", ",
    ),
    "threadstore_invocation_logs": _split(
        "id, agent_name, resource_type, user_id, thread_id, run_id, endpoint, input, output, "
        "metadata, error, status, duration_ms, input_tokens, output_tokens, cost, timestamp",
        ", ",
    ),
    "threadstore_tool_calls": _split(
        "id, tool_name, agent_name, user_id, thread_id, run_id, input, output, is_error, "
        "error, approval, duration_ms, metadata, created_at",
        ", ",
    ),
    "threadstore_feedback": _split(
        "thread_id, user_id, agent_name, rating, comment, message_id, feedback_type, query, "
        "response, correction, created_at",
        ", ",
    ),
}


def _content(rng: random.Random, words: list[str], weights: list[float], rare: bool) -> str:
    chosen = rng.choices(words, cum_weights=weights, k=rng.randint(6, 40))
    if rng.random() < COMMON_SHARE:
        chosen.insert(rng.randrange(len(chosen) + 1), COMMON_WORD)
    if rare:
        chosen.insert(rng.randrange(len(chosen) + 1), RARE_WORD)
    chosen[0] = chosen[0].capitalize()
    return " ".join(chosen) + rng.choice((".", ".", "?", "!"))


def _message_metadata(rng: random.Random, role: str, flagged: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"intent": rng.choice(INTENTS), "lang": rng.choice(LANGS)}
    if role == "assistant":
        found["model"] = rng.choice(("small", "medium", "large"))
    if flagged:
        found["flagged"] = True
    return found


def generate(messages: int, seed: int = 11) -> DataSet:
    """``messages`` messages over messages/100 threads and messages/10,000 users."""
    rng = random.Random(seed)
    thread_count = max(10, messages // 100)
    users = [f"user-{u:04d}" for u in range(max(2, messages // 10_000))]
    words = _vocabulary(rng)
    weights, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1) ** 1.05
        weights.append(total)
    lengths = [1] * thread_count
    for _ in range(messages - thread_count):
        lengths[rng.randrange(thread_count)] += 1
    data = DataSet(messages, users)
    # Planted at fixed strides, so that even a small smoke-test data set has a few of each.
    rare_every = max(1, min(round(1 / RARE_SHARE), messages // 5))
    flagged_every = max(1, min(round(1 / FLAGGED_SHARE), messages // 10))
    start = NOW - timedelta(days=DAYS)
    for t, length in enumerate(lengths):
        thread_id, user, agent = f"thread-{t:06d}", rng.choice(users), rng.choice(AGENTS)
        created = start + timedelta(seconds=rng.uniform(0, (DAYS - 2) * 86400))
        moment, seq = created, 0
        for seq in range(length):
            moment += timedelta(seconds=rng.expovariate(1 / 900), microseconds=1)
            role = "user" if seq % 2 == 0 else ("tool" if seq % 10 == 5 else "assistant")
            data.message_rows.append(
                (
                    thread_id,
                    seq,
                    role,
                    _content(rng, words, weights, len(data.message_rows) % rare_every == 7),
                    json.dumps(
                        _message_metadata(rng, role, len(data.message_rows) % flagged_every == 3)
                    ),
                    moment,
                    None,
                )
            )
            if seq % 20 == 1:
                run_id = f"run-{t}-{seq}"
                error = rng.random() < 0.05
                data.runs.append(
                    (
                        f"invlog_{rng.getrandbits(128):032x}",
                        agent,
                        "agent",
                        user,
                        thread_id,
                        run_id,
                        "invoke",
                        json.dumps({"query": f"message {seq}"}),
                        json.dumps({} if error else {"answer": "done"}),
                        "{}",
                        "upstream timeout" if error else None,
                        "error" if error else "ok",
                        rng.uniform(200, 4000),
                        rng.randint(200, 4000),
                        rng.randint(20, 800),
                        round(rng.uniform(0.0001, 0.01), 6),
                        moment,
                    )
                )
            if seq % 10 == 3:
                failed = rng.random() < 0.03
                data.tool_calls.append(
                    (
                        f"toolcall_{rng.getrandbits(128):032x}",
                        rng.choice(TOOLS),
                        agent,
                        user,
                        thread_id,
                        f"run-{t}-{seq - seq % 20 + 1}",
                        json.dumps({"arg": seq}),
                        json.dumps("failed" if failed else {"ok": True}),
                        failed,
                        "tool failed" if failed else None,
                        "approved" if rng.random() < 0.02 else None,
                        rng.uniform(5, 500),
                        "{}",
                        moment,
                    )
                )
            if rng.random() < 0.01:
                rating = rng.randint(1, 5)
                data.feedback.append(
                    (thread_id, user, agent, rating, None, None, "thumbs", "", "", None, moment)
                )
        title = " ".join(rng.choices(words[:300], k=3)).capitalize()
        metadata = {"channel": rng.choice(("web", "email", "slack")), "tier": rng.choice("abc")}
        row = (thread_id, user, agent, title, json.dumps(metadata), created, moment, length)
        data.threads.append((*row, None, None, length + 1))
    # Rows go in in the order the store would have written them: by time, threads interleaved.
    for rows, at in (
        (data.threads, 5),
        (data.message_rows, 5),
        (data.runs, 16),
        (data.tool_calls, 13),
        (data.feedback, 10),
    ):
        rows.sort(key=lambda row, at=at: row[at])
    return data


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy writes it on SQLite: naive UTC text, 0/1."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def _tables(data: DataSet) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "threadstore_threads": data.threads,
        "threadstore_messages": data.message_rows,
        "threadstore_invocation_logs": data.runs,
        "threadstore_tool_calls": data.tool_calls,
        "threadstore_feedback": data.feedback,
    }


async def load_sqlite(path: str, data: DataSet) -> None:
    """Insert every row with executemany in one transaction (the FTS5 triggers fire), ANALYZE."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("BEGIN IMMEDIATE")
        for table, rows in _tables(data).items():
            columns = COLUMNS[table]
            quoted = ", ".join(f'"{name}"' for name in columns)
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(columns))})"
            await conn.executemany(
                sql,
                (tuple(_sqlite_value(value) for value in row) for row in rows),
            )
        await conn.execute("COMMIT")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def load_postgres(dsn: str, data: DataSet) -> None:
    """COPY every table (the search expression and indexes are computed by PostgreSQL), ANALYZE."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for table, rows in _tables(data).items():
                columns = COLUMNS[table]
                for first in range(0, len(rows), 50_000):
                    await conn.copy_records_to_table(
                        table, records=rows[first : first + 50_000], columns=columns
                    )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
