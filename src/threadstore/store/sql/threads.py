"""Threads, forks, lineage and counts in SQL."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import CursorResult

from threadstore.records import ThreadRecord
from threadstore.store.inputs import ThreadInput, ThreadUpdate, fork_title, version_conflict
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.ports import Counts
from threadstore.store.scoping import refuse_foreign_user
from threadstore.store.sql.direct import RecordShape
from threadstore.store.sql.keyset import keyset
from threadstore.store.sql.run_tables import tool_calls
from threadstore.store.sql.scoping import OWNER, thread_owned
from threadstore.store.sql.tables import (
    THREAD_RECORD,
    checkpoint_writes,
    checkpoints,
    context_items,
    feedback,
    messages,
    suspended,
    thread_record,
    threads,
)

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlThreads"]

_MAX_LINEAGE_DEPTH = 100_000
_COUNTED = {
    "threads": threads,
    "messages": messages,
    "feedback": feedback,
    "suspended_states": suspended,
    "checkpoints": checkpoints,
    "context_items": context_items,
}
_COUNTS = select(
    *(
        select(func.count()).select_from(table).scalar_subquery().label(name)
        for name, table in _COUNTED.items()
    )
)


def _counts_of(owner: str) -> Any:
    """The counts of one user's data: their threads, what hangs off them, their scope."""

    def mine(name: str, table: Any) -> list[ColumnElement[bool]]:
        if name == "threads":
            return [threads.c.user_id == owner]
        if name == "context_items":
            return [context_items.c.scope == owner]
        return thread_owned(table.c.thread_id, owner)

    return select(
        *(
            select(func.count())
            .select_from(table)
            .where(*mine(name, table))
            .scalar_subquery()
            .label(name)
            for name, table in _COUNTED.items()
        )
    )


_INSERT = insert(threads)
"""A new thread (built once, so SQLite's driver path keeps it compiled)."""
_BY_ID = select(threads).where(threads.c.id == bindparam("thread_id"))
"""One thread (built once: building a statement costs more than running this one)."""
_BY_ID_OWNED = _BY_ID.where(threads.c.user_id == OWNER)


@functools.cache
def _find_query(*, scoped: bool, by_agent: bool, by_user: bool) -> Any:
    """Threads, most recently updated first, by offset; built once per shape."""
    return (
        select(threads)
        .where(
            *([threads.c.user_id == OWNER] if scoped else []),
            *([threads.c.agent_name == bindparam("agent_name")] if by_agent else []),
            *([threads.c.user_id == bindparam("user_id")] if by_user else []),
        )
        .order_by(threads.c.updated_at.desc(), threads.c.id.desc())
        .limit(bindparam("limit", type_=BigInteger()))
        .offset(bindparam("offset", type_=BigInteger()))
    )


@functools.cache
def _lineage_query(*, scoped: bool) -> Any:
    """A thread's ancestors (depth > 0) and children (depth -1), built once per shape."""
    thread_id = bindparam("thread_id", type_=String())
    mine = [threads.c.user_id == OWNER] if scoped else []
    chain = (
        select(threads.c.id, threads.c.parent_thread_id, literal(0).label("depth"))
        .where(threads.c.id == thread_id, *mine)
        .cte("lineage", recursive=True)
    )
    parent = threads.alias("parent")
    chain = chain.union_all(
        select(parent.c.id, parent.c.parent_thread_id, chain.c.depth + 1).where(
            parent.c.id == chain.c.parent_thread_id, chain.c.depth < _MAX_LINEAGE_DEPTH
        )
    )
    ancestors = (
        select(threads, chain.c.depth)
        .join(chain, threads.c.id == chain.c.id)
        .where(chain.c.depth > 0, *mine)
    )
    own_parent = threads.c.parent_thread_id.in_(
        select(threads.c.id).where(threads.c.id == thread_id, *mine)
    )
    children = select(threads, literal(-1).label("depth")).where(
        threads.c.parent_thread_id == thread_id, *mine, *([own_parent] if scoped else [])
    )
    return union_all(ancestors, children)


_LINEAGE_ROW: RecordShape[dict[str, Any]] = RecordShape(
    (*ThreadRecord.__annotations__, "depth"),
    lambda row: {**thread_record(row), "depth": row["depth"]},
)
"""A lineage row: the thread's record and its depth (>0 an ancestor, -1 a child)."""


class SqlThreads:
    """See :class:`~threadstore.store.ports.ThreadRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def create(self, args: ThreadInput) -> ThreadRecord:
        """See :meth:`ThreadRepository.create`."""
        refuse_foreign_user(self._unit.owner, args.user_id)
        values = args.new_thread(self._unit.ctx.clock())
        duplicate = f"thread {args.thread_id!r}"
        await self._unit.write_one(_INSERT, values, duplicate=duplicate)
        return thread_record(values)

    def _mine(self) -> list[ColumnElement[bool]]:
        owner = self._unit.owner
        return [] if owner is None else [threads.c.user_id == owner]

    async def get(self, thread_id: str) -> ThreadRecord | None:
        """See :meth:`ThreadRepository.get`."""
        owner = self._unit.owner
        query, params = _BY_ID, {"thread_id": thread_id}
        if owner is not None:
            query, params["owner"] = _BY_ID_OWNED, owner
        found = await self._unit.fetch_records(query, params, THREAD_RECORD)
        return found[0] if found else None

    async def exists(self, thread_id: str) -> bool:
        """See :meth:`ThreadRepository.exists`."""
        query = select(threads.c.id).where(threads.c.id == thread_id, *self._mine())
        return (await self._unit.execute(query)).first() is not None

    async def find(
        self, agent_name: str | None, user_id: str | None, limit: int, offset: int
    ) -> list[ThreadRecord]:
        """See :meth:`ThreadRepository.find`."""
        owner = self._unit.owner
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for name, value in (("owner", owner), ("agent_name", agent_name), ("user_id", user_id)):
            if value is not None:
                params[name] = value
        query = _find_query(
            scoped=owner is not None, by_agent=agent_name is not None, by_user=user_id is not None
        )
        return await self._unit.fetch_records(query, params, THREAD_RECORD)

    async def page(
        self, agent_name: str | None, user_id: str | None, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """See :meth:`ThreadRepository.page`; a range of ``(filter, sort, id)``."""
        where, order = keyset([threads.c[sort], threads.c.id], page)
        query = select(threads).where(*self._mine(), *where).order_by(*order).limit(page.limit)
        if agent_name is not None:
            query = query.where(threads.c.agent_name == agent_name)
        if user_id is not None:
            query = query.where(threads.c.user_id == user_id)
        return await self._unit.fetch_records(query, None, THREAD_RECORD, per_call=True)

    async def update(self, thread_id: str, change: ThreadUpdate) -> ThreadRecord | None:
        """See :meth:`ThreadRepository.update`; a compare-and-swap on ``version``.

        A plain change is one UPDATE. A metadata patch reads the thread under
        the write lock (SQLite) or a row lock (PostgreSQL), merges, and writes
        in the same transaction, so concurrent patches never lose a key.
        """
        values: dict[str, Any] = {
            "updated_at": self._unit.ctx.clock(),
            "version": threads.c.version + 1,
        }
        if change.set_title:
            values["title"] = change.title
        if change.metadata is not None:
            values["metadata"] = change.metadata
        expected = change.expected_version
        conditions = [threads.c.id == thread_id, *self._mine()]
        if change.patch is not None:
            locked = select(threads.c.metadata, threads.c.version).where(*conditions)
            current = (
                (await self._unit.execute(locked.with_for_update(), write=True)).mappings().first()
            )
            if current is None:
                return None
            if expected is not None and current["version"] != expected:
                raise version_conflict(thread_id, expected, current["version"])
            values["metadata"] = {**current["metadata"], **change.patch}
        if expected is not None:
            conditions.append(threads.c.version == expected)
        statement = update(threads).where(*conditions).values(values).returning(*threads.c)
        result = await self._unit.execute(statement, write=True)
        row = result.mappings().first()
        if row is not None:
            return thread_record(row)
        if expected is not None:
            query = select(threads.c.version).where(threads.c.id == thread_id, *self._mine())
            version = (await self._unit.execute(query)).scalar_one_or_none()
            if version is not None:
                raise version_conflict(thread_id, expected, version)
        return None

    async def delete(self, thread_id: str) -> bool:
        """See :meth:`ThreadRepository.delete`; children go by ON DELETE CASCADE.

        Tool calls and checkpoints name the thread without a foreign key and are
        deleted here; runs (invocation logs) are kept, as Agentomatic keeps them.
        """
        if self._unit.owner is not None and not await self.exists(thread_id):
            return False
        for table in (tool_calls, checkpoint_writes, checkpoints):
            await self._unit.execute(
                delete(table).where(table.c.thread_id == thread_id), write=True
            )
        result = await self._unit.execute(
            delete(threads).where(threads.c.id == thread_id), write=True
        )
        return cast(CursorResult[Any], result).rowcount > 0

    async def fork(
        self, parent_thread_id: str, index: int, new_thread_id: str, title: str | None
    ) -> ThreadRecord | None:
        """See :meth:`ThreadRepository.fork`; messages are copied by one INSERT ... SELECT."""
        now = self._unit.ctx.clock()
        query = select(threads).where(threads.c.id == parent_thread_id, *self._mine())
        parent = (await self._unit.execute(query)).mappings().first()
        if parent is None or not 0 <= index < parent["message_count"]:
            return None
        values = {
            "id": new_thread_id,
            "user_id": parent["user_id"],
            "agent_name": parent["agent_name"],
            "title": title or fork_title(parent["title"], parent["id"]),
            "metadata": parent["metadata"],
            "created_at": now,
            "updated_at": now,
            "message_count": index + 1,
            "parent_thread_id": parent["id"],
            "fork_message_index": index,
            "version": 1,
        }
        duplicate = f"thread {new_thread_id!r}"
        await self._unit.execute(insert(threads), values, write=True, duplicate=duplicate)
        columns = ["seq", "role", "content", "metadata", "timestamp"]
        source = select(
            literal(new_thread_id, threads.c.id.type).label("thread_id"),
            *(messages.c[name] for name in columns),
        ).where(messages.c.thread_id == parent["id"], messages.c.seq <= index)
        await self._unit.execute(
            insert(messages).from_select(["thread_id", *columns], source), write=True
        )
        return thread_record(values)

    async def lineage(self, thread_id: str) -> tuple[list[ThreadRecord], list[ThreadRecord]]:
        """See :meth:`ThreadRepository.lineage`; one recursive query at any depth."""
        owner = self._unit.owner
        params = (
            {"thread_id": thread_id} if owner is None else {"thread_id": thread_id, "owner": owner}
        )
        query = _lineage_query(scoped=owner is not None)
        rows = await self._unit.fetch_records(query, params, _LINEAGE_ROW)
        up = sorted((r for r in rows if r["depth"] > 0), key=lambda r: -r["depth"])
        # ISO 8601 text in UTC sorts as the times do
        down = sorted((r for r in rows if r["depth"] < 0), key=lambda r: (r["created_at"], r["id"]))
        for row in rows:
            del row["depth"]
        return cast("list[ThreadRecord]", up), cast("list[ThreadRecord]", down)

    async def counts(self) -> Counts:
        """See :meth:`ThreadRepository.counts`; one query."""
        owner = self._unit.owner
        query = _COUNTS if owner is None else _counts_of(owner)
        row = (await self._unit.execute(query)).mappings().one()
        return {name: int(row[name]) for name in _COUNTED}
