"""The LangGraph saver's rows in threadstore's SQL tables (SQLite and PostgreSQL).

Every call runs in the unit it is given (its own, or a ``transaction()``
block's); hot statements are built once per store with bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, literal, or_, select, update

from threadstore.errors import PermissionDeniedError
from threadstore.models.checkpoint import run_id_of
from threadstore.store.checkpoint_rows import (
    CheckpointKey,
    CheckpointRow,
    Found,
    ListCursor,
    ListQuery,
    WriteRow,
)
from threadstore.store.sql.checkpoint_queries import (
    MAX_ROWS_PER_INSERT,
    SAVER_COLUMNS,
    SaverStatements,
    found,
    metadata_conditions,
    with_writes,
)
from threadstore.store.sql.tables import checkpoint_writes, checkpoints

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit

__all__ = ["SqlCheckpointRows"]

_c = checkpoints.c
_w = checkpoint_writes.c


class SqlCheckpointRows:
    """See :class:`~threadstore.store.checkpoint_rows.CheckpointRows`."""

    def __init__(self, unit: SqlUnit) -> None:
        if unit.owner is not None:
            raise PermissionDeniedError(
                "the LangGraph saver cannot be bound to a for_user(...) view yet",
                suggestion="Bind ThreadstoreSaver to the store or to a transaction of it.",
            )
        self._unit = unit
        self._dialect = unit.ctx.dialect
        self._statements: SaverStatements = unit.ctx.saver_statements

    # -- writes ------------------------------------------------------------------

    async def put_checkpoint(self, row: CheckpointRow) -> None:
        """See :meth:`CheckpointRows.put_checkpoint`; one upsert."""
        params = {
            "thread_id": row.thread_id,
            "checkpoint_ns": row.checkpoint_ns,
            "checkpoint_id": row.checkpoint_id,
            "parent_checkpoint_id": row.parent_checkpoint_id,
            "checkpoint": row.checkpoint,
            "metadata": row.metadata,
            "created_at": self._unit.ctx.clock(),
            "payload_type": row.payload_type,
            "payload": row.payload,
            "run_id": run_id_of(row.metadata),
        }
        await self._unit.write_one(self._statements.put, params, thread_id=row.thread_id)

    async def put_writes(
        self, key: CheckpointKey, writes: Sequence[WriteRow], *, replace: bool
    ) -> None:
        """See :meth:`CheckpointRows.put_writes`; one multi-row INSERT."""
        thread_id, ns, checkpoint_id = key
        rows = [
            {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
                "task_id": w.task_id,
                "idx": w.idx,
                "channel": w.channel,
                "task_path": w.task_path,
                "value_type": w.value_type,
                "value": w.value,
            }
            for w in writes
        ]
        if len(rows) > MAX_ROWS_PER_INSERT:  # stay under the drivers' parameter limits
            many = [{f"{name}_0": value for name, value in row.items()} for row in rows]
            statement = self._statements.writes(1, replace)
            await self._unit.execute(statement, many, write=True, thread_id=thread_id)
            return
        params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
        statement = self._statements.writes(len(rows), replace)
        await self._unit.write_one(statement, params, thread_id=thread_id)

    # -- reads -------------------------------------------------------------------

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Found | None:
        """See :meth:`CheckpointRows.get`; one statement, a primary-key probe plus writes."""
        params = {"thread_id": thread_id, "ns": checkpoint_ns}
        statement = self._statements.get_latest
        if checkpoint_id:
            params["checkpoint_id"] = checkpoint_id
            statement = self._statements.get_by_id
        checkpoints_found = found(await self._unit.fetch(statement, params))
        return checkpoints_found[0] if checkpoints_found else None

    async def page(self, query: ListQuery, after: ListCursor | None, size: int) -> list[Found]:
        """See :meth:`CheckpointRows.page`; one keyset-paged statement."""
        statement = select(*SAVER_COLUMNS)
        if query.thread_id is not None:
            statement = statement.where(_c.thread_id == query.thread_id)
        if query.checkpoint_ns is not None:
            statement = statement.where(_c.checkpoint_ns == query.checkpoint_ns)
        if query.checkpoint_id is not None:
            statement = statement.where(_c.checkpoint_id == query.checkpoint_id)
        if query.before is not None:
            statement = statement.where(_c.checkpoint_id < query.before)
        for condition in metadata_conditions(self._dialect, query.metadata):
            statement = statement.where(condition)
        if after is not None:
            cid, thread_id, ns = after
            statement = statement.where(
                or_(
                    _c.checkpoint_id < cid,
                    and_(
                        _c.checkpoint_id == cid,
                        or_(
                            _c.thread_id < thread_id,
                            and_(_c.thread_id == thread_id, _c.checkpoint_ns < ns),
                        ),
                    ),
                )
            )
        statement = statement.order_by(
            _c.checkpoint_id.desc(), _c.thread_id.desc(), _c.checkpoint_ns.desc()
        ).limit(size)
        return found(await self._unit.fetch(with_writes(statement, query.thread_id), per_call=True))

    async def threads_with_metadata_key(self, thread_ids: Sequence[str], key: str) -> list[str]:
        """See :meth:`CheckpointRows.threads_with_metadata_key`."""
        statement = (
            select(_c.thread_id)
            .where(_c.thread_id.in_(list(thread_ids)), _c.metadata[key].as_string().is_not(None))
            .distinct()
        )
        return sorted((await self._unit.execute(statement)).scalars().all())

    # -- bulk changes --------------------------------------------------------------

    async def delete_threads(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_threads`; one transaction."""
        ids = list(thread_ids)
        for table in (checkpoint_writes, checkpoints):
            await self._unit.execute(delete(table).where(table.c.thread_id.in_(ids)), write=True)

    async def copy_thread(self, source: str, target: str) -> None:
        """See :meth:`CheckpointRows.copy_thread`; two INSERT ... SELECT in one transaction."""
        for table in (checkpoints, checkpoint_writes):
            names = [col.name for col in table.c if col.name != "thread_id"]
            source_rows = select(
                literal(target, table.c.thread_id.type).label("thread_id"),
                *(table.c[name] for name in names),
            ).where(table.c.thread_id == source)
            statement = (
                self._unit.ctx.upsert(table)
                .from_select(["thread_id", *names], source_rows)
                .on_conflict_do_nothing()
            )
            await self._unit.execute(statement, write=True, thread_id=target)

    async def keep_latest(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.keep_latest`; set-based, in one transaction."""
        ids = list(thread_ids)
        newer = checkpoints.alias("newer")

        def superseded(thread: Any, ns: Any, checkpoint_id: Any) -> Any:
            return exists().where(
                newer.c.thread_id == thread,
                newer.c.checkpoint_ns == ns,
                newer.c.checkpoint_id > checkpoint_id,
            )

        await self._unit.execute(
            delete(checkpoint_writes).where(
                _w.thread_id.in_(ids), superseded(_w.thread_id, _w.checkpoint_ns, _w.checkpoint_id)
            ),
            write=True,
        )
        await self._unit.execute(
            delete(checkpoints).where(
                _c.thread_id.in_(ids), superseded(_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id)
            ),
            write=True,
        )
        await self._detach_orphans(ids)

    async def delete_runs(self, run_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_runs`; one transaction, by the run_id index."""
        in_runs = _c.run_id.in_(list(run_ids))
        owned = exists().where(
            _c.thread_id == _w.thread_id,
            _c.checkpoint_ns == _w.checkpoint_ns,
            _c.checkpoint_id == _w.checkpoint_id,
            in_runs,
        )
        await self._unit.execute(delete(checkpoint_writes).where(owned), write=True)
        deleted = delete(checkpoints).where(in_runs).returning(_c.thread_id)
        threads = (await self._unit.execute(deleted, write=True)).scalars().all()
        await self._detach_orphans(sorted(set(threads)))

    async def _detach_orphans(self, thread_ids: list[str]) -> None:
        """Clear parent ids that name a checkpoint no longer stored."""
        if not thread_ids:
            return
        parent = checkpoints.alias("parent")
        await self._unit.execute(
            update(checkpoints)
            .where(
                _c.thread_id.in_(thread_ids),
                _c.parent_checkpoint_id.is_not(None),
                ~exists().where(
                    parent.c.thread_id == _c.thread_id,
                    parent.c.checkpoint_ns == _c.checkpoint_ns,
                    parent.c.checkpoint_id == _c.parent_checkpoint_id,
                ),
            )
            .values(parent_checkpoint_id=None),
            write=True,
        )
