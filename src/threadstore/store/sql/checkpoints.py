"""Checkpoints as plain records in SQL (the saver's binary payload is never read here)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, select

from threadstore.models.checkpoint import run_id_of
from threadstore.records import CheckpointRecord
from threadstore.store.sql.scoping import owned_by_param, require_owned_thread, thread_owned
from threadstore.store.sql.tables import (
    CHECKPOINT_RECORD,
    CHECKPOINT_RECORD_COLUMNS,
    checkpoint_record,
    checkpoints,
)

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlCheckpoints"]


def _of(thread_id: str, checkpoint_ns: str, owner: str | None) -> Any:
    return (
        select(*CHECKPOINT_RECORD_COLUMNS)
        .where(
            checkpoints.c.thread_id == thread_id,
            checkpoints.c.checkpoint_ns == checkpoint_ns,
            *thread_owned(checkpoints.c.thread_id, owner),
        )
        .order_by(checkpoints.c.checkpoint_id.desc())
    )


@functools.cache
def _one(*, scoped: bool, by_id: bool) -> Select[Any]:
    """One checkpoint (the latest, or by id) as a statement built once per shape."""
    query = select(*CHECKPOINT_RECORD_COLUMNS).where(
        checkpoints.c.thread_id == bindparam("thread_id"),
        checkpoints.c.checkpoint_ns == bindparam("checkpoint_ns"),
        *([owned_by_param(checkpoints.c.thread_id)] if scoped else []),
        *([checkpoints.c.checkpoint_id == bindparam("checkpoint_id")] if by_id else []),
    )
    return query.order_by(checkpoints.c.checkpoint_id.desc()).limit(1)


class SqlCheckpoints:
    """See :class:`~threadstore.store.ports.CheckpointRepository`."""

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit

    async def save(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """See :meth:`CheckpointRepository.save`; one upsert."""
        await require_owned_thread(self._unit, thread_id)
        values: dict[str, Any] = {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
            "parent_checkpoint_id": parent_checkpoint_id,
            "checkpoint": checkpoint,
            "metadata": metadata,
            "created_at": self._unit.ctx.clock(),
            "payload_type": None,
            "payload": None,
            "run_id": run_id_of(metadata),
        }
        # the saver's upsert (built once per store): a save again replaces all but the key
        statement = self._unit.ctx.saver_statements.put
        await self._unit.write_one(statement, values, thread_id=thread_id)

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """See :meth:`CheckpointRepository.get`; the latest is one index probe."""
        owner = self._unit.owner
        params = {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns}
        if owner is not None:
            params["owner"] = owner
        if checkpoint_id:
            params["checkpoint_id"] = checkpoint_id
        query = _one(scoped=owner is not None, by_id=bool(checkpoint_id))
        found = await self._unit.fetch_records(query, params, CHECKPOINT_RECORD)
        return found[0] if found else None

    async def find(
        self, thread_id: str, checkpoint_ns: str, before: str | None, limit: int | None
    ) -> list[CheckpointRecord]:
        """See :meth:`CheckpointRepository.find`."""
        query = _of(thread_id, checkpoint_ns, self._unit.owner)
        if before is not None:
            query = query.where(checkpoints.c.checkpoint_id < before)
        if limit is not None:
            query = query.limit(limit)
        rows = (await self._unit.execute(query)).mappings().all()
        return [checkpoint_record(row) for row in rows]
