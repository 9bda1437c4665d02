"""Erasure and retention in SQL: set-based deletes, each batch bounded by its keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, delete, exists, select, tuple_, update
from sqlalchemy.engine import CursorResult

from threadstore.store.checkpoint_rows import DELTA_METADATA_KEY
from threadstore.store.ports import PRUNED_KINDS, THREAD_KINDS, Counts, NamespaceKey
from threadstore.store.sql.memory_items import SqlMemoryItems, memory_items, memory_vectors
from threadstore.store.sql.run_tables import invocation_logs, tool_calls
from threadstore.store.sql.scoping import thread_owned
from threadstore.store.sql.search import purge_erased_terms
from threadstore.store.sql.tables import (
    agent_permissions,
    agent_topics,
    checkpoint_writes,
    checkpoints,
    context_items,
    context_routes,
    feedback,
    messages,
    suspended,
    threads,
)

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlMaintenance"]

_c = checkpoints.c
_w = checkpoint_writes.c


def _without_delta_channel() -> ColumnElement[bool]:
    """The checkpoint's namespace holds no checkpoint of a DeltaChannel graph."""
    other = checkpoints.alias("delta")
    return ~exists().where(
        other.c.thread_id == _c.thread_id,
        other.c.checkpoint_ns == _c.checkpoint_ns,
        other.c.metadata[DELTA_METADATA_KEY].as_string().is_not(None),
    )


class SqlMaintenance:
    """See :class:`~threadstore.store.ports.MaintenanceRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    def now(self) -> datetime:
        """See :meth:`MaintenanceRepository.now`."""
        return self._unit.ctx.clock()

    async def _rows(self, statement: Any) -> int:
        result = await self._unit.execute(statement, write=True)
        return cast(CursorResult[Any], result).rowcount

    async def _delete_threads(
        self, ids: Any, others: ColumnElement[bool], gave_feedback: str | None = None
    ) -> Counts:
        """Delete the threads ``ids`` (a list or a subquery) with their rows.

        ``others`` selects the threads whose fork links are cleared (those not
        deleted); ``gave_feedback`` also deletes that user's feedback anywhere.
        """
        counts: Counts = {}
        for name, table in (("checkpoint_writes", checkpoint_writes), ("checkpoints", checkpoints)):
            counts[name] = await self._rows(delete(table).where(table.c.thread_id.in_(ids)))
        counts["messages"] = await self._rows(delete(messages).where(messages.c.thread_id.in_(ids)))
        counts["tool_calls"] = await self._rows(
            delete(tool_calls).where(tool_calls.c.thread_id.in_(ids))
        )
        counts["feedback"] = await self._rows(delete(feedback).where(feedback.c.thread_id.in_(ids)))
        if gave_feedback is not None:  # a second statement: each one an index range
            counts["feedback"] += await self._rows(
                delete(feedback).where(feedback.c.user_id == gave_feedback)
            )
        counts["suspended_states"] = await self._rows(
            delete(suspended).where(suspended.c.thread_id.in_(ids))
        )
        counts["forks_detached"] = await self._rows(
            update(threads)
            .where(threads.c.parent_thread_id.in_(ids), others)
            .values(parent_thread_id=None)
        )
        counts["threads"] = await self._rows(delete(threads).where(threads.c.id.in_(ids)))
        return counts

    async def erase_user(self, user_id: str) -> Counts:
        """See :meth:`MaintenanceRepository.erase_user`; all in the unit's transaction."""
        owned = select(threads.c.id).where(threads.c.user_id == user_id)
        if self._unit.ctx.dialect == "postgresql":  # appends to them wait, then find them gone
            await self._unit.execute(owned.with_for_update(), write=True)
        counts = await self._delete_threads(
            owned, threads.c.user_id != user_id, gave_feedback=user_id
        )
        counts["tool_calls"] += await self._rows(
            delete(tool_calls).where(tool_calls.c.user_id == user_id)
        )
        counts["runs"] = await self._rows(
            delete(invocation_logs).where(invocation_logs.c.user_id == user_id)
        )
        await self._rows(delete(context_routes).where(context_routes.c.scope == user_id))
        for name, table in (
            ("context_items", context_items),
            ("topics", agent_topics),
            ("permissions", agent_permissions),
        ):
            counts[name] = await self._rows(delete(table).where(table.c.scope == user_id))
        await self._rows(delete(memory_vectors).where(memory_vectors.c.scope == user_id))
        counts["memory_items"] = await self._rows(
            delete(memory_items).where(memory_items.c.scope == user_id)
        )
        if counts["messages"]:
            await purge_erased_terms(self._unit)
        return counts

    async def delete_idle(self, before: datetime, limit: int) -> Counts:
        """See :meth:`MaintenanceRepository.delete_idle`; the batch's ids are locked first."""
        query = (
            select(threads.c.id)
            .where(threads.c.updated_at < before)
            .order_by(threads.c.updated_at, threads.c.id)
            .limit(limit)
        )
        if self._unit.owner is not None:
            query = query.where(threads.c.user_id == self._unit.owner)
        if self._unit.ctx.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids: Sequence[str] = (await self._unit.execute(query, write=True)).scalars().all()
        if not ids:
            return dict.fromkeys(THREAD_KINDS, 0)
        return await self._delete_threads(list(ids), threads.c.id.not_in(list(ids)))

    async def prune_checkpoints(
        self, keep_last: int, thread_id: str | None, after: NamespaceKey | None, limit: int
    ) -> tuple[Counts, NamespaceKey | None]:
        """See :meth:`MaintenanceRepository.prune_checkpoints`; a keyset walk of the primary key.

        A checkpoint goes when it is older than its namespace's ``keep_last``-th
        newest, looked up per row in the primary key (``OFFSET keep_last - 1``),
        so a batch reads from ``after`` only until it has found ``limit``.
        """
        newer = checkpoints.alias("newer")
        threshold = (
            select(newer.c.checkpoint_id)
            .where(newer.c.thread_id == _c.thread_id, newer.c.checkpoint_ns == _c.checkpoint_ns)
            .order_by(newer.c.checkpoint_id.desc())
            .offset(keep_last - 1)
            .limit(1)
            .scalar_subquery()
        )
        conditions = [
            _c.checkpoint_id < threshold,
            _without_delta_channel(),
            *thread_owned(_c.thread_id, self._unit.owner),
        ]
        if thread_id is not None:
            conditions.append(_c.thread_id == thread_id)
        if after is not None:
            conditions.append(tuple_(_c.thread_id, _c.checkpoint_ns) >= tuple_(*after))
        victims = (
            select(_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id)
            .where(*conditions)
            .order_by(_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id)
            .limit(limit)
        )
        keys = [tuple(row) for row in (await self._unit.execute(victims, write=True)).all()]
        if not keys:
            return dict.fromkeys(PRUNED_KINDS, 0), None
        threads_of = sorted({key[0] for key in keys})  # an index range first, then the keys
        counts = {
            "checkpoint_writes": await self._rows(
                delete(checkpoint_writes).where(
                    _w.thread_id.in_(threads_of),
                    tuple_(_w.thread_id, _w.checkpoint_ns, _w.checkpoint_id).in_(keys),
                )
            ),
            "checkpoints": await self._rows(
                delete(checkpoints).where(
                    _c.thread_id.in_(threads_of),
                    tuple_(_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id).in_(keys),
                )
            ),
        }
        await self._rows(
            update(checkpoints)
            .where(
                _c.thread_id.in_(threads_of),
                _c.parent_checkpoint_id.is_not(None),
                tuple_(_c.thread_id, _c.checkpoint_ns, _c.parent_checkpoint_id).in_(keys),
            )
            .values(parent_checkpoint_id=None)
        )
        reached: NamespaceKey = (keys[-1][0], keys[-1][1])
        return counts, reached if len(keys) == limit else None

    async def purge_expired(self, limit: int) -> Counts:
        """See :meth:`MaintenanceRepository.purge_expired`; ranges of the expiry indexes."""
        now = self._unit.ctx.clock()
        states = (
            select(suspended.c.thread_id, suspended.c.id)
            .where(
                suspended.c.expires_at <= now,
                *thread_owned(suspended.c.thread_id, self._unit.owner),
            )
            .order_by(suspended.c.expires_at, suspended.c.id)
            .limit(limit)
        )
        items = (
            select(context_items.c.scope, context_items.c.key)
            .where(context_items.c.expires_at <= now)
            .order_by(context_items.c.expires_at, context_items.c.scope, context_items.c.key)
            .limit(limit)
        )
        if self._unit.owner is not None:
            items = items.where(context_items.c.scope == self._unit.owner)
        return {
            "suspended_states": await self._rows(
                delete(suspended).where(tuple_(suspended.c.thread_id, suspended.c.id).in_(states))
            ),
            "context_items": await self._rows(
                delete(context_items).where(
                    tuple_(context_items.c.scope, context_items.c.key).in_(items)
                )
            ),
            "memory_items": await SqlMemoryItems(self._unit).sweep(now, limit),
        }
