"""Messages in SQL: appends that reserve gap-free seqs, keyset page reads."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql

from threadstore.clock import isoformat
from threadstore.errors import ThreadNotFoundError
from threadstore.records import MessageRecord
from threadstore.store.inputs import MessageInput, MessagePage, key_reused
from threadstore.store.sql.driver_calls import SHORT_WRITE_CHARS
from threadstore.store.sql.scoping import OWNER, owned_by_param
from threadstore.store.sql.tables import MESSAGE_RECORD, message_record, messages, threads
from threadstore.types import UTCDateTime

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit
    from threadstore.store.sql.write_steps import Steps

__all__ = ["SqlMessages"]

_PG_APPEND_SQL = f"""
    WITH bumped AS (
        UPDATE {threads.name}
        SET message_count = message_count + :n, updated_at = :now, version = version + 1
        WHERE id = :thread_id{{scope}}
        RETURNING message_count
    )
    INSERT INTO {messages.name} (thread_id, seq, role, content, metadata, timestamp{{key}})
    SELECT :thread_id, bumped.message_count - :n + item.ord - 1,
           item.role, item.content, CAST(item.metadata AS JSONB), :now{{key_value}}
    FROM bumped,
         unnest(:roles, :contents, :metadata{{keys}}) WITH ORDINALITY
            AS item(role, content, metadata{{key_name}}, ord)
    RETURNING id, seq
    """
_PG_PARAMS = (
    bindparam("thread_id", type_=String()),
    bindparam("n", type_=Integer()),
    bindparam("now", type_=UTCDateTime()),
    bindparam("roles", type_=postgresql.ARRAY(Text())),
    bindparam("contents", type_=postgresql.ARRAY(Text())),
    bindparam("metadata", type_=postgresql.ARRAY(Text())),
)
_SHORT_BATCH = 20
"""Messages an append may write and still count as short (see ``write_steps``)."""


def _content_size(batch: Sequence[MessageInput]) -> int:
    return sum(len(item.content) for item in batch)


_UNKEYED = {"key": "", "key_value": "", "keys": "", "key_name": ""}
_KEYED = {
    "key": ", idempotency_key",
    "key_value": ", item.idempotency_key",
    "keys": ", :keys",
    "key_name": ", idempotency_key",
}
_PG_APPEND = text(_PG_APPEND_SQL.format(scope="", **_UNKEYED)).bindparams(*_PG_PARAMS)
"""Append messages on PostgreSQL: reserve seqs and insert in one atomic statement."""
_PG_APPEND_SCOPED = text(
    _PG_APPEND_SQL.format(scope=" AND user_id = :owner", **_UNKEYED)
).bindparams(*_PG_PARAMS, bindparam("owner", type_=String()))
"""The same, for a user-scoped view: only the owner's thread is bumped."""
_PG_APPEND_KEYED = text(_PG_APPEND_SQL.format(scope="", **_KEYED)).bindparams(
    *_PG_PARAMS, bindparam("keys", type_=postgresql.ARRAY(Text()))
)
"""The same with idempotency keys, run after the thread row was locked and checked."""

_MESSAGE_COLUMNS = (
    "thread_id",
    "seq",
    "role",
    "content",
    "metadata",
    "timestamp",
    "idempotency_key",
)
_INSERT_RETURNING_IDS = (
    insert(messages)
    .values({name: bindparam(name) for name in _MESSAGE_COLUMNS})
    .returning(messages.c.seq, messages.c.id)
)
"""Insert messages, returning their seq and id: one multi-row INSERT through SQLAlchemy
(insertmanyvalues, rows back in any order, so they carry their seq: asking SQLAlchemy to
keep the parameters' order makes it insert row by row on SQLite), or one row per
statement on SQLite's driver."""


@functools.cache
def _reserve_query(*, scoped: bool) -> Any:
    """Bump a thread's message counter by ``p_n``, returning it; built once per shape."""
    return (
        update(threads)
        .where(
            threads.c.id == bindparam("p_thread_id"),
            *([threads.c.user_id == OWNER] if scoped else []),
        )
        .values(
            message_count=threads.c.message_count + bindparam("p_n", type_=Integer()),
            updated_at=bindparam("p_now", type_=UTCDateTime()),
            version=threads.c.version + 1,
        )
        .returning(threads.c.message_count)
    )


@functools.cache
def _page_query(*, scoped: bool, after: bool, before: bool, newest_first: bool) -> Select[Any]:
    """A page of one thread's messages, built once per shape."""
    seq = messages.c.seq
    query = select(messages).where(
        messages.c.thread_id == bindparam("thread_id"),
        *([owned_by_param(messages.c.thread_id)] if scoped else []),
        *([seq > bindparam("after_seq")] if after else []),
        *([seq < bindparam("before_seq")] if before else []),
    )
    order = seq.desc() if newest_first else seq.asc()
    return (
        query.order_by(order)
        .limit(bindparam("limit", type_=BigInteger()))
        .offset(bindparam("offset", type_=BigInteger()))
    )


class SqlMessages:
    """See :class:`~threadstore.store.ports.MessageRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def append(self, thread_id: str, batch: Sequence[MessageInput]) -> list[MessageRecord]:
        """Reserve ``len(batch)`` seqs by bumping the counter and insert the rows, atomically.

        The counter UPDATE locks the thread row until the insert commits, so
        concurrent appenders get consecutive, gap-free ranges and
        ``message_count`` stays exact. PostgreSQL does both in one statement.
        """
        now = self._unit.ctx.clock()
        if any(item.idempotency_key is not None for item in batch):
            return await self._append_keyed(thread_id, batch, now)
        return await self._insert(thread_id, batch, now, keyed=False)

    async def _append_keyed(
        self, thread_id: str, batch: Sequence[MessageInput], now: datetime
    ) -> list[MessageRecord]:
        """Lock the thread, return what its keys already name, append the rest.

        The lock (the SQLite write lock, or the thread's row lock) serialises
        retries of one key, so racing retries find the first one's message.
        """
        unit = self._unit
        owned = [] if unit.owner is None else [threads.c.user_id == unit.owner]
        lock = select(threads.c.id).where(threads.c.id == thread_id, *owned).with_for_update()
        if (await unit.execute(lock, write=True)).first() is None:
            raise ThreadNotFoundError(thread_id)
        keys = [item.idempotency_key for item in batch if item.idempotency_key is not None]
        query = select(messages).where(
            messages.c.thread_id == thread_id, messages.c.idempotency_key.in_(keys)
        )
        stored = {row["idempotency_key"]: row for row in (await unit.execute(query)).mappings()}
        found: list[MessageRecord | None] = []
        for item in batch:
            row = None if item.idempotency_key is None else stored.get(item.idempotency_key)
            if row is not None and not item.same_as(row):
                raise key_reused(row["idempotency_key"], thread_id)
            found.append(None if row is None else message_record(row))
        fresh = [item for item, record in zip(batch, found, strict=True) if record is None]
        added = iter(await self._insert(thread_id, fresh, now, keyed=True) if fresh else [])
        return [record if record is not None else next(added) for record in found]

    async def _insert(
        self, thread_id: str, batch: Sequence[MessageInput], now: datetime, *, keyed: bool
    ) -> list[MessageRecord]:
        if self._unit.ctx.dialect == "postgresql":
            first, ids = await self._append_postgresql(thread_id, batch, now, keyed=keyed)
        else:
            first, ids = await self._append_portable(thread_id, batch, now)
        stamp = isoformat(now)
        return [
            {
                "id": message_id,
                "thread_id": thread_id,
                "seq": first + offset,
                "role": item.role,
                "content": item.content,
                "metadata": item.metadata,
                "timestamp": stamp,
            }
            for offset, (item, message_id) in enumerate(zip(batch, ids, strict=True))
        ]

    async def _append_portable(
        self, thread_id: str, batch: Sequence[MessageInput], now: datetime
    ) -> tuple[int, list[int]]:
        owner = self._unit.owner
        params: dict[str, Any] = {"p_thread_id": thread_id, "p_n": len(batch), "p_now": now}
        if owner is not None:
            params["owner"] = owner
        reserve = _reserve_query(scoped=owner is not None)

        def reserve_and_insert(steps: Steps) -> tuple[int, list[int]] | None:
            bumped = steps.rows(reserve, params)
            if not bumped:
                return None
            first = bumped[0]["message_count"] - len(batch)
            rows = [
                {
                    "thread_id": thread_id,
                    "seq": first + offset,
                    "role": item.role,
                    "content": item.content,
                    "metadata": item.metadata,
                    "timestamp": now,
                    "idempotency_key": item.idempotency_key,
                }
                for offset, item in enumerate(batch)
            ]
            inserted = steps.each(_INSERT_RETURNING_IDS, rows)
            return first, [row["id"] for row in sorted(inserted, key=lambda row: row["seq"])]

        # both statements in one trip to SQLite's worker thread
        short = len(batch) <= _SHORT_BATCH and _content_size(batch) <= SHORT_WRITE_CHARS
        done = await self._unit.write_steps(
            reserve_and_insert, (reserve, _INSERT_RETURNING_IDS), thread_id=thread_id, short=short
        )
        if done is None:
            raise ThreadNotFoundError(thread_id)
        return done

    async def _append_postgresql(
        self, thread_id: str, batch: Sequence[MessageInput], now: datetime, *, keyed: bool
    ) -> tuple[int, list[int]]:
        params = {
            "thread_id": thread_id,
            "n": len(batch),
            "now": now,
            "roles": [item.role for item in batch],
            "contents": [item.content for item in batch],
            "metadata": [json.dumps(item.metadata) for item in batch],
        }
        statement = _PG_APPEND
        if keyed:
            statement, params["keys"] = _PG_APPEND_KEYED, [i.idempotency_key for i in batch]
        elif self._unit.owner is not None:
            statement, params["owner"] = _PG_APPEND_SCOPED, self._unit.owner
        result = await self._unit.execute(
            statement, params, write=True, one_statement=True, thread_id=thread_id
        )
        rows = sorted(result.all(), key=lambda r: r.seq)
        if not rows:
            raise ThreadNotFoundError(thread_id)
        return rows[0].seq, [row.id for row in rows]

    async def page(self, thread_id: str, page: MessagePage) -> list[MessageRecord]:
        """See :meth:`MessageRepository.page`; one range scan of (thread_id, seq)."""
        owner = self._unit.owner
        params: dict[str, Any] = {
            "thread_id": thread_id,
            "limit": page.limit,
            "offset": page.offset,
        }
        if owner is not None:
            params["owner"] = owner
        if page.after_seq is not None:
            params["after_seq"] = page.after_seq
        if page.before_seq is not None:
            params["before_seq"] = page.before_seq
        query = _page_query(
            scoped=owner is not None,
            after=page.after_seq is not None,
            before=page.before_seq is not None,
            newest_first=page.newest_first,
        )
        return await self._unit.fetch_records(query, params, MESSAGE_RECORD)

    async def pop(self, thread_id: str) -> MessageRecord | None:
        """See :meth:`MessageRepository.pop`: lower the counter, then delete that seq.

        The counter UPDATE locks the thread row (the write lock on SQLite)
        until commit, so concurrent pops take distinct messages; the DELETE is
        a statement of its own, so on PostgreSQL it sees appends committed
        while the UPDATE waited for the lock.
        """
        count = await self._bump(thread_id, threads.c.message_count - 1, nonempty=True)
        if count is None:
            return None
        gone = (
            delete(messages)
            .where(messages.c.thread_id == thread_id, messages.c.seq == count)
            .returning(*messages.c)
        )
        row = (await self._unit.execute(gone, write=True, thread_id=thread_id)).mappings().first()
        return None if row is None else message_record(row)

    async def clear(self, thread_id: str) -> int:
        """See :meth:`MessageRepository.clear`."""
        if await self._bump(thread_id, 0, nonempty=True) is None:
            return 0
        gone = delete(messages).where(messages.c.thread_id == thread_id)
        result = await self._unit.execute(gone, write=True, thread_id=thread_id)
        return int(getattr(result, "rowcount", 0))

    async def _bump(self, thread_id: str, count: object, *, nonempty: bool) -> int | None:
        """Set the thread's message_count (locking its row); None if it has no messages."""
        owner = self._unit.owner
        change = (
            update(threads)
            .where(
                threads.c.id == thread_id,
                *([threads.c.message_count > 0] if nonempty else []),
                *([] if owner is None else [threads.c.user_id == owner]),
            )
            .values(
                message_count=count,
                updated_at=self._unit.ctx.clock(),
                version=threads.c.version + 1,
            )
            .returning(threads.c.message_count)
        )
        result = await self._unit.execute(change, write=True, thread_id=thread_id)
        value = result.scalar_one_or_none()
        return None if value is None else int(value)
