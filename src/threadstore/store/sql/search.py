"""Full-text search over messages in SQL (statements per dialect: :mod:`.search_dialects`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from threadstore.clock import isoformat
from threadstore.records import SearchHitRecord
from threadstore.store.paging import KeysetPage
from threadstore.store.search_inputs import SearchInput
from threadstore.store.sql.search_dialects import FTS_TABLE, statement

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlSearch", "purge_erased_terms"]

_SQLITE_OPTIMIZE = text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


async def purge_erased_terms(unit: SqlUnit) -> None:
    """Rewrite SQLite's FTS5 index so deleted messages' words leave its pages too.

    FTS5 deletes by adding tombstones: an erased message's words stay in older
    index segments until they are merged. ``optimize`` merges every segment
    (time grows with the index), so ``erase_user`` leaves no trace of the
    user's words. PostgreSQL's GIN index drops dead entries at VACUUM.
    """
    if unit.ctx.dialect == "sqlite":
        await unit.execute(_SQLITE_OPTIMIZE, write=True)


class SqlSearch:
    """See :class:`~threadstore.store.ports_search.SearchRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def messages(self, args: SearchInput, page: KeysetPage) -> list[SearchHitRecord]:
        """One statement: the index finds the matches, the filters and keyset narrow them."""
        owner = self._unit.owner
        params: dict[str, Any] = {"limit": page.limit}
        conditions: list[str] = []
        thread_filters = {"owner": owner, "user_id": args.user_id, "agent_name": args.agent_name}
        for name, value in thread_filters.items():
            if value is not None:
                column = "user_id" if name == "owner" else name
                conditions.append(f"t.{column} = :{name}")
                params[name] = value
        for name, value in (("thread_id", args.thread_id), ("role", args.role)):
            if value is not None:
                conditions.append(f"m.{name} = :{name}")
                params[name] = value
        if page.after is not None:
            params["after_score"], params["after_id"] = page.after
        join = any(value is not None for value in thread_filters.values())
        query, extra = statement(
            self._unit.ctx.dialect, args, conditions, join, page.after is not None
        )
        rows = (await self._unit.execute(query, {**params, **extra})).mappings().all()
        return [
            {
                "message_id": row["message_id"],
                "thread_id": row["thread_id"],
                "seq": row["seq"],
                "role": row["role"],
                "content": row["content"],
                "created_at": isoformat(row["created_at"]),
                "score": float(row["score"]),
                "snippet": row["snippet"],
            }
            for row in rows
        ]
