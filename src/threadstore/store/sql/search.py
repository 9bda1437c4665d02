"""Full-text search over messages and thread titles in SQL (statements: :mod:`.search_dialects`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import text

from threadstore.clock import stamp
from threadstore.records import SearchHitRecord, ThreadHitRecord
from threadstore.store.paging import KeysetPage
from threadstore.store.search_inputs import SearchInput
from threadstore.store.sql.direct import RecordShape
from threadstore.store.sql.search_dialects import FTS_TABLES, MESSAGES, THREADS, Target, statement

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlSearch", "purge_erased_terms"]

_THREAD_JOIN = " JOIN threadstore_threads AS t ON t.id = d.thread_id"
_H = TypeVar("_H", SearchHitRecord, ThreadHitRecord)


def _message_hit(row: Mapping[str, Any]) -> SearchHitRecord:
    return {
        "message_id": row["message_id"],
        "thread_id": row["thread_id"],
        "seq": row["seq"],
        "role": row["role"],
        "content": row["content"],
        "created_at": stamp(row["created_at"]),
        "score": float(row["score"]),
        "snippet": row["snippet"],
    }


def _thread_hit(row: Mapping[str, Any]) -> ThreadHitRecord:
    return {
        "thread_id": row["thread_id"],
        "user_id": row["user_id"],
        "agent_name": row["agent_name"],
        "title": row["title"],
        "created_at": stamp(row["created_at"]),
        "updated_at": stamp(row["updated_at"]),
        "score": float(row["score"]),
        "snippet": row["snippet"],
    }


# a hit's columns are its keys, in order (search_dialects' targets): built straight from rows
_MESSAGE_HIT = RecordShape(tuple(SearchHitRecord.__annotations__), _message_hit)
_THREAD_HIT = RecordShape(tuple(ThreadHitRecord.__annotations__), _thread_hit)


async def purge_erased_terms(unit: SqlUnit) -> None:
    """Rewrite SQLite's FTS5 indexes so deleted rows' words leave their pages too.

    FTS5 deletes by adding tombstones: an erased message's words stay in older
    index segments until they are merged. ``optimize`` merges every segment
    (time grows with the index), so ``erase_user`` leaves no trace of the
    user's words. PostgreSQL's GIN indexes drop dead entries at VACUUM.
    """
    if unit.ctx.dialect == "sqlite":
        for table in FTS_TABLES:
            await unit.execute(
                text(f"INSERT INTO {table}({table}) VALUES ('optimize')"), write=True
            )


class SqlSearch:
    """See :class:`~threadstore.store.ports_search.SearchRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def _run(
        self,
        target: Target,
        args: SearchInput,
        page: KeysetPage,
        conditions: dict[str, tuple[str, Any]],
        join: str,
        shape: RecordShape[_H],
    ) -> list[_H]:
        """One statement: the index finds the matches, the filters and keyset narrow them."""
        params: dict[str, Any] = {"limit": page.limit}
        where: list[str] = []
        for name, (column, value) in conditions.items():
            if value is not None:
                where.append(f"{column} = :{name}")
                params[name] = value
        if page.after is not None:
            params["after_score"], params["after_id"] = page.after
        query, extra, per_call = statement(
            self._unit.ctx.dialect, target, args, where, join, page.after is not None
        )
        return await self._unit.fetch_records(query, {**params, **extra}, shape, per_call=per_call)

    async def messages(self, args: SearchInput, page: KeysetPage) -> list[SearchHitRecord]:
        """See :meth:`SearchRepository.messages`."""
        by_thread = {
            "owner": ("t.user_id", self._unit.owner),
            "user_id": ("t.user_id", args.user_id),
            "agent_name": ("t.agent_name", args.agent_name),
        }
        join = _THREAD_JOIN if any(value for _, value in by_thread.values()) else ""
        conditions = {
            **by_thread,
            "thread_id": ("d.thread_id", args.thread_id),
            "role": ("d.role", args.role),
        }
        return await self._run(MESSAGES, args, page, conditions, join, _MESSAGE_HIT)

    async def threads(self, args: SearchInput, page: KeysetPage) -> list[ThreadHitRecord]:
        """See :meth:`SearchRepository.threads`."""
        conditions = {
            "owner": ("d.user_id", self._unit.owner),
            "user_id": ("d.user_id", args.user_id),
            "agent_name": ("d.agent_name", args.agent_name),
        }
        return await self._run(THREADS, args, page, conditions, "", _THREAD_HIT)
