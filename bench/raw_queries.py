"""bench/bench_queries.py's reference: each query as one would write it by hand on the driver.

The SQL is what a developer who knows the schema writes directly: the same
indexes, the natural statement shape (a JOIN to the thread for per-user
filters, ``json_extract`` for a metadata key on SQLite, ``@>`` on PostgreSQL,
FTS5 ``MATCH``/``bm25()`` and ``@@``/``ts_rank()``, one GROUP BY per table for
the aggregates), nothing threadstore-specific beyond the table layout.
JSON columns (metadata) are decoded with ``json.loads``, as code using the
rows must, and as bench/hot_paths.py's reference does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bench.rawdb import RawDB

_THREAD_COLUMNS = (
    "id, user_id, agent_name, title, metadata, created_at, updated_at, message_count, "
    "parent_thread_id, fork_message_index, version"
)
_MESSAGE_COLUMNS = "m.thread_id, m.seq, m.id, m.role, m.content, m.metadata, m.timestamp"
_NEWEST = "ORDER BY m.timestamp DESC, m.thread_id DESC, m.seq DESC LIMIT ?"
_PG_SEARCH = """
SELECT hit.*, ts_headline(threadstore_search_config(), hit.content, to_tsquery(
           threadstore_search_config(), ?), 'StartSel="[", StopSel="]", MaxWords=20, MinWords=6')
FROM (
    SELECT d.id, d.thread_id, d.seq, d.role, d.content, d.timestamp,
           ts_rank({vector}, q, 1) AS score
    FROM threadstore_messages AS d{join}, to_tsquery(threadstore_search_config(), ?) AS q
    WHERE {vector} @@ q{where}
    ORDER BY score DESC, d.id DESC
    LIMIT ?
) AS hit
ORDER BY hit.score DESC, hit.id DESC
"""
_SQLITE_SEARCH = """
SELECT d.id, d.thread_id, d.seq, d.role, d.content, d.timestamp,
       -bm25(threadstore_search_messages) AS score,
       snippet(threadstore_search_messages, 0, '[', ']', '…', 12) AS snippet
FROM threadstore_search_messages
JOIN threadstore_messages AS d ON d.id = threadstore_search_messages.rowid{join}
WHERE threadstore_search_messages MATCH ?{where}
ORDER BY score DESC, d.id DESC
LIMIT ?
"""
_USER_JOIN = " JOIN threadstore_threads AS t ON t.id = d.thread_id"


def _json_at(rows: list[Any], index: int) -> list[tuple[Any, ...]]:
    """``rows`` with the JSON text at ``index`` decoded."""
    return [(*row[:index], json.loads(row[index]), *row[index + 1 :]) for row in rows]


class RawQueries:
    """The hand-written twin of each benchmarked threadstore call."""

    def __init__(self, raw: RawDB) -> None:
        self.raw = raw
        self.pg = raw.name == "asyncpg"
        self.vector = "to_tsvector(threadstore_search_config(), d.content)"

    async def prepare(self) -> None:
        """Use the stored tsvector column where the schema has one (else the expression)."""
        if self.pg and await self.raw.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE "
            "table_name = 'threadstore_messages' AND column_name = 'search_vector'"
        ):
            self.vector = "d.search_vector"

    async def user_threads(self, user: str, limit: int, after: Any) -> list[Any]:
        sql = f"SELECT {_THREAD_COLUMNS} FROM threadstore_threads WHERE user_id = ?"
        args: list[Any] = [user]
        if after is not None:
            sql += " AND (updated_at, id) < (?, ?)"
            args += [self.raw.stamp(after[0]), after[1]]
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ?"
        return _json_at(await self.raw.fetch(sql, *args, limit), 4)

    async def flagged_messages(self, limit: int) -> list[Any]:
        if self.pg:
            where, args = "m.metadata @> ?::jsonb", [json.dumps({"flagged": True})]
        else:
            where, args = "json_extract(m.metadata, '$.flagged') = 1", []
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM threadstore_messages AS m WHERE {where} {_NEWEST}"
        return _json_at(await self.raw.fetch(sql, *args, limit), 5)

    async def user_intent_messages(self, user: str, intent: str, limit: int) -> list[Any]:
        if self.pg:
            where, needle = "m.metadata @> ?::jsonb", json.dumps({"intent": intent})
        else:
            where, needle = "json_extract(m.metadata, '$.intent') = ?", intent
        sql = (
            f"SELECT {_MESSAGE_COLUMNS} FROM threadstore_messages AS m "
            "JOIN threadstore_threads AS t ON t.id = m.thread_id "
            f"WHERE t.user_id = ? AND {where} {_NEWEST}"
        )
        return _json_at(await self.raw.fetch(sql, user, needle, limit), 5)

    async def search(self, word: str, user: str | None, limit: int) -> list[Any]:
        join, where = (_USER_JOIN, " AND t.user_id = ?") if user else ("", "")
        filters = [user] if user else []
        if self.pg:
            sql = _PG_SEARCH.format(join=join, where=where, vector=self.vector)
            return await self.raw.fetch(sql, f"'{word}'", f"'{word}'", *filters, limit)
        sql = _SQLITE_SEARCH.format(join=join, where=where)
        return await self.raw.fetch(sql, f'"{word}"', *filters, limit)

    def _bucket(self, column: str, bucket: str | None) -> str:
        if bucket is None:
            return "NULL"
        if self.pg:
            return f"date_trunc('{bucket}', timezone('UTC', {column}))"
        return f"strftime('%Y-%m-%d 00:00:00', {column})"

    async def aggregate(
        self, agent: str, since: datetime, bucket: str | None
    ) -> tuple[int, dict[str, int], int, int, int]:
        """Five GROUP BYs (threads, messages, feedback, runs, tool calls) added up."""
        stamp = self.raw.stamp(since)
        by = bool(bucket)

        async def grouped(table: str, time: str, columns: str, keys: str, where: str) -> list[Any]:
            start = self._bucket(time, bucket)
            group = ", ".join(part for part in (start if by else "", keys) if part)
            sql = f"SELECT {start}, {columns} FROM {table} WHERE {where} AND {time} >= ?" + (
                f" GROUP BY {group}" if group else ""
            )
            return await self.raw.fetch(sql, agent, stamp)

        threads = await grouped(
            "threadstore_threads", "created_at", "count(*)", "", "agent_name = ?"
        )
        messages = await grouped(
            "threadstore_messages AS m JOIN threadstore_threads AS t ON t.id = m.thread_id",
            "m.timestamp",
            "m.role, count(*)",
            "m.role",
            "t.agent_name = ?",
        )
        feedback = await grouped(
            "threadstore_feedback",
            "created_at",
            "count(*), count(rating), coalesce(sum(rating), 0)",
            "",
            "agent_name = ?",
        )
        runs = await grouped(
            "threadstore_invocation_logs",
            "timestamp",
            "status, count(*), coalesce(sum(input_tokens), 0), "
            "coalesce(sum(output_tokens), 0), coalesce(sum(cost), 0)",
            "status",
            "agent_name = ?",
        )
        calls = await grouped(
            "threadstore_tool_calls",
            "created_at",
            "tool_name, is_error, count(*)",
            "tool_name, is_error",
            "agent_name = ?",
        )
        by_role: dict[str, int] = {}
        for _, role, count in messages:
            by_role[role] = by_role.get(role, 0) + count
        buckets = {row[0] for rows in (threads, messages, runs, calls) for row in rows}
        buckets |= {row[0] for row in feedback if row[1]}
        return (
            sum(row[1] for row in threads),
            by_role,
            sum(row[2] for row in runs),
            sum(row[3] for row in calls),
            len(buckets) if by else 0,
        )
