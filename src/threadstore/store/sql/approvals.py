"""Suspended (human-approval) states in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, func, select
from sqlalchemy.engine import CursorResult

from threadstore.errors import ThreadNotFoundError
from threadstore.records import SuspendedStateRecord
from threadstore.store.inputs import SuspendedInput, approval_of_other_thread
from threadstore.store.paging import KeysetPage
from threadstore.store.sql.keyset import keyset
from threadstore.store.sql.scoping import require_owned_thread, thread_owned
from threadstore.store.sql.tables import suspended, suspended_record, threads

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlApprovals"]

_APPROVAL_LOCKS = 0x61707072  # "appr": the advisory lock class of approval ids (two-key form)
_KEY = ("thread_id", "id")


class SqlApprovals:
    """See :class:`~threadstore.store.ports.ApprovalRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def save(self, args: SuspendedInput) -> SuspendedStateRecord:
        """See :meth:`ApprovalRepository.save`; an upsert on ``(thread_id, id)``.

        The key holds the thread (Citus), so approval ids are kept unique across
        threads here: on PostgreSQL a transaction lock on the id serialises saves
        of one id (SQLite writers already hold the write lock); another thread's
        live state under the id refuses the save, an expired one is dropped.
        """
        await require_owned_thread(self._unit, args.thread_id)
        now = self._unit.ctx.clock()
        if self._unit.ctx.dialect == "postgresql":
            lock = func.pg_advisory_xact_lock(_APPROVAL_LOCKS, func.hashtext(args.approval_id))
            await self._unit.execute(select(lock), write=True)
        others = select(suspended.c.thread_id, suspended.c.expires_at).where(
            suspended.c.id == args.approval_id, suspended.c.thread_id != args.thread_id
        )
        rows = (await self._unit.execute(others, write=True)).mappings()
        held = [(str(row["thread_id"]), row["expires_at"]) for row in rows]
        if any(expires_at > now for _thread, expires_at in held):
            # a missing thread is reported first, as on every backend
            exists = select(threads.c.id).where(threads.c.id == args.thread_id)
            if (await self._unit.execute(exists)).first() is None:
                raise ThreadNotFoundError(args.thread_id)
            raise approval_of_other_thread(args.approval_id)
        if held:
            stale = delete(suspended).where(
                suspended.c.id == args.approval_id,
                suspended.c.thread_id.in_([thread for thread, _expires in held]),
            )
            await self._unit.execute(stale, write=True)
        values: dict[str, Any] = {
            "id": args.approval_id,
            "thread_id": args.thread_id,
            "agent_name": args.agent_name,
            "node_name": args.node_name,
            "state_snapshot": args.state,
            "created_at": now,
            "expires_at": now + args.lifetime,
        }
        statement = self._unit.ctx.upsert(suspended).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[suspended.c.thread_id, suspended.c.id],
            set_={key: statement.excluded[key] for key in values if key not in _KEY},
        )
        await self._unit.execute(statement, write=True, thread_id=args.thread_id)
        return suspended_record(values)

    def _mine(self) -> list[Any]:
        return thread_owned(suspended.c.thread_id, self._unit.owner)

    async def get(self, approval_id: str) -> SuspendedStateRecord | None:
        """See :meth:`ApprovalRepository.get`."""
        query = select(suspended).where(
            suspended.c.id == approval_id,
            suspended.c.expires_at > self._unit.ctx.clock(),
            *self._mine(),
        )
        row = (await self._unit.execute(query)).mappings().first()
        return None if row is None else suspended_record(row)

    async def find(
        self, thread_id: str | None, agent_name: str | None, page: KeysetPage
    ) -> list[SuspendedStateRecord]:
        """See :meth:`ApprovalRepository.find`; a range of ``(filter, created_at, id)``."""
        where, order = keyset([suspended.c.created_at, suspended.c.id], page)
        query = (
            select(suspended)
            .where(suspended.c.expires_at > self._unit.ctx.clock(), *self._mine(), *where)
            .order_by(*order)
            .limit(page.limit)
        )
        if thread_id is not None:
            query = query.where(suspended.c.thread_id == thread_id)
        if agent_name is not None:
            query = query.where(suspended.c.agent_name == agent_name)
        rows = (await self._unit.execute(query)).mappings().all()
        return [suspended_record(row) for row in rows]

    async def delete(self, approval_id: str) -> bool:
        """See :meth:`ApprovalRepository.delete`."""
        statement = delete(suspended).where(suspended.c.id == approval_id, *self._mine())
        result = await self._unit.execute(statement, write=True)
        return cast(CursorResult[Any], result).rowcount > 0

    async def cleanup(self) -> int:
        """See :meth:`ApprovalRepository.cleanup`."""
        statement = delete(suspended).where(
            suspended.c.expires_at <= self._unit.ctx.clock(), *self._mine()
        )
        result = await self._unit.execute(statement, write=True)
        return cast(CursorResult[Any], result).rowcount
