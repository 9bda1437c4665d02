"""The LangGraph saver's rows in threadstore's SQL tables (SQLite and PostgreSQL).

Every call takes its own connection through :meth:`SQLAlchemyStore._connect`
(transactions, SQLite write lock, error translation) and releases it before
returning; hot statements are built once with bound parameters. Reads fetch
checkpoints and their pending writes in one statement (a UNION ALL of the
selected checkpoints and the writes joined to them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    TextClause,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from threadstore.langgraph.rows import (
    CheckpointKey,
    CheckpointRow,
    Found,
    ListCursor,
    ListQuery,
    WriteRow,
)
from threadstore.models.checkpoint import run_id_of
from threadstore.store.sqlalchemy import SQLAlchemyStore, checkpoint_writes, checkpoints

__all__ = ["SQLCheckpointRows"]

_c = checkpoints.c
_w = checkpoint_writes.c
_CHECKPOINT_COLUMNS = (
    _c.thread_id,
    _c.checkpoint_ns,
    _c.checkpoint_id,
    _c.parent_checkpoint_id,
    _c.checkpoint,
    _c.metadata,
    _c.payload_type,
    _c.payload,
)
_MAX_ROWS_PER_INSERT = 500
"""Rows per multi-row INSERT (9 parameters each; SQLite allows 32,766, asyncpg 32,767)."""
_MAX_WRITE_SHAPES = 256
"""Multi-row INSERT statements kept built, by (row count, replace)."""
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def _with_writes(checkpoints_query: Select[Any]) -> CompoundSelect[Any]:
    """One statement returning the selected checkpoints (kind 0) and their writes (kind 1)."""
    page = checkpoints_query.cte("page")
    selected = select(
        literal_column("0").label("kind"),
        page.c.thread_id,
        page.c.checkpoint_ns,
        page.c.checkpoint_id,
        page.c.parent_checkpoint_id,
        page.c.checkpoint,
        page.c.metadata,
        page.c.payload_type,
        page.c.payload,
        null().label("task_id"),
        null().label("idx"),
        null().label("channel"),
        null().label("task_path"),
    )
    writes = select(
        literal_column("1"),
        _w.thread_id,
        _w.checkpoint_ns,
        _w.checkpoint_id,
        null(),
        null(),
        null(),
        _w.value_type,
        _w.value,
        _w.task_id,
        _w.idx,
        _w.channel,
        _w.task_path,
    ).join_from(
        checkpoint_writes,
        page,
        and_(
            page.c.thread_id == _w.thread_id,
            page.c.checkpoint_ns == _w.checkpoint_ns,
            page.c.checkpoint_id == _w.checkpoint_id,
        ),
    )
    return union_all(selected, writes)


def _found(rows: Sequence[Any]) -> list[Found]:
    """Split UNION rows into checkpoints (newest id first) with their writes."""
    checkpoints_found: list[CheckpointRow] = []
    writes: dict[CheckpointKey, list[WriteRow]] = {}
    for row in rows:
        if row.kind == 0:
            checkpoints_found.append(
                CheckpointRow(
                    thread_id=row.thread_id,
                    checkpoint_ns=row.checkpoint_ns,
                    checkpoint_id=row.checkpoint_id,
                    parent_checkpoint_id=row.parent_checkpoint_id,
                    checkpoint=row.checkpoint,
                    metadata=row.metadata,
                    payload_type=row.payload_type,
                    payload=row.payload,
                )
            )
        else:
            key = (row.thread_id, row.checkpoint_ns, row.checkpoint_id)
            writes.setdefault(key, []).append(
                WriteRow(
                    task_id=row.task_id,
                    idx=row.idx,
                    channel=row.channel,
                    value_type=row.payload_type,
                    value=row.payload,
                    task_path=row.task_path,
                )
            )
    checkpoints_found.sort(
        key=lambda r: (r.checkpoint_id, r.thread_id, r.checkpoint_ns), reverse=True
    )
    return [(row, writes.get(row.key, [])) for row in checkpoints_found]


class SQLCheckpointRows:
    """Saver rows in ``threadstore_checkpoints`` and ``threadstore_checkpoint_writes``."""

    runs_without_loop = False

    def __init__(self, store: SQLAlchemyStore) -> None:
        self._store = store
        self._dialect = store.engine.dialect.name
        in_namespace = and_(
            _c.thread_id == bindparam("thread_id"), _c.checkpoint_ns == bindparam("ns")
        )
        self._latest = (
            select(*_CHECKPOINT_COLUMNS)
            .where(in_namespace)
            .order_by(_c.checkpoint_id.desc())
            .limit(1)
        )
        self._by_id = select(*_CHECKPOINT_COLUMNS).where(
            in_namespace, _c.checkpoint_id == bindparam("checkpoint_id")
        )
        self._get_latest = _with_writes(self._latest)
        self._get_by_id = _with_writes(self._by_id)
        upsert = store._upsert(checkpoints)
        self._put = upsert.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id],
            set_={
                name: upsert.excluded[name]  # type: ignore[attr-defined]
                for name in (
                    "parent_checkpoint_id",
                    "checkpoint",
                    "metadata",
                    "created_at",
                    "payload_type",
                    "payload",
                    "run_id",
                )
            },
        )
        self._write_statements: dict[tuple[int, bool], TextClause] = {}

    def _writes_statement(self, count: int, replace: bool) -> TextClause:
        """One INSERT of ``count`` rows (params ``<column>_<i>``), built once per shape.

        Written as text because SQLAlchemy does not cache multi-row VALUES
        constructs (it would compile one per call); the SQL is the same on
        SQLite and PostgreSQL.
        """
        statement = self._write_statements.get((count, replace))
        if statement is not None:
            return statement
        names = [column.name for column in checkpoint_writes.c]
        rows = ", ".join(
            "(" + ", ".join(f":{name}_{i}" for name in names) + ")" for i in range(count)
        )
        if replace:
            action = "DO UPDATE SET " + ", ".join(
                f"{name} = excluded.{name}"
                for name in ("channel", "value_type", "value", "task_path")
            )
        else:
            action = "DO NOTHING"
        statement = text(
            f"INSERT INTO {checkpoint_writes.name} ({', '.join(names)}) VALUES {rows} "
            f"ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) {action}"
        )
        if len(self._write_statements) < _MAX_WRITE_SHAPES:
            self._write_statements[(count, replace)] = statement
        return statement

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
            "created_at": self._store._clock(),
            "payload_type": row.payload_type,
            "payload": row.payload,
            "run_id": run_id_of(row.metadata),
        }
        async with self._store._connect(
            write=True, thread_id=row.thread_id, one_statement=True
        ) as conn:
            await conn.execute(self._put, params)

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
        if len(rows) > _MAX_ROWS_PER_INSERT:  # stay under the drivers' parameter limits
            statement = self._writes_statement(1, replace)
            many = [{f"{name}_0": value for name, value in row.items()} for row in rows]
            async with self._store._connect(write=True, thread_id=thread_id) as conn:
                await conn.execute(statement, many)
            return
        params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
        statement = self._writes_statement(len(rows), replace)
        async with self._store._connect(
            write=True, thread_id=thread_id, one_statement=True
        ) as conn:
            await conn.execute(statement, params)

    # -- reads -------------------------------------------------------------------

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Found | None:
        """See :meth:`CheckpointRows.get`; one statement, a primary-key probe plus writes."""
        params = {"thread_id": thread_id, "ns": checkpoint_ns}
        statement = self._get_latest
        if checkpoint_id:
            params["checkpoint_id"] = checkpoint_id
            statement = self._get_by_id
        async with self._store._connect(write=False) as conn:
            rows = (await conn.execute(statement, params)).all()
        found = _found(rows)
        return found[0] if found else None

    async def page(self, query: ListQuery, after: ListCursor | None, size: int) -> list[Found]:
        """See :meth:`CheckpointRows.page`; one keyset-paged statement."""
        statement = select(*_CHECKPOINT_COLUMNS)
        if query.thread_id is not None:
            statement = statement.where(_c.thread_id == query.thread_id)
        if query.checkpoint_ns is not None:
            statement = statement.where(_c.checkpoint_ns == query.checkpoint_ns)
        if query.checkpoint_id is not None:
            statement = statement.where(_c.checkpoint_id == query.checkpoint_id)
        if query.before is not None:
            statement = statement.where(_c.checkpoint_id < query.before)
        for condition in self._metadata_conditions(query.metadata):
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
        async with self._store._connect(write=False) as conn:
            rows = (await conn.execute(_with_writes(statement))).all()
        return _found(rows)

    def _metadata_conditions(self, metadata: dict[str, str | int]) -> list[ColumnElement[bool]]:
        """SQL for the exact-match filters: JSONB containment, or json_extract on SQLite."""
        if not metadata:
            return []
        if self._dialect == "postgresql":
            return [type_coerce(_c.metadata, JSONB).contains(metadata)]
        return [
            func.json_extract(_c.metadata, f'$."{key}"') == value
            for key, value in metadata.items()
            if _SAFE_KEY.match(key)
        ]

    async def threads_with_metadata_key(self, thread_ids: Sequence[str], key: str) -> list[str]:
        """See :meth:`CheckpointRows.threads_with_metadata_key`."""
        statement = (
            select(_c.thread_id)
            .where(_c.thread_id.in_(list(thread_ids)), _c.metadata[key].as_string().is_not(None))
            .distinct()
        )
        async with self._store._connect(write=False) as conn:
            return sorted((await conn.execute(statement)).scalars().all())

    # -- bulk changes --------------------------------------------------------------

    async def delete_threads(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_threads`; one transaction."""
        ids = list(thread_ids)
        async with self._store._connect(write=True) as conn:
            for table in (checkpoint_writes, checkpoints):
                await conn.execute(delete(table).where(table.c.thread_id.in_(ids)))

    async def copy_thread(self, source: str, target: str) -> None:
        """See :meth:`CheckpointRows.copy_thread`; two INSERT ... SELECT in one transaction."""
        async with self._store._connect(write=True, thread_id=target) as conn:
            for table in (checkpoints, checkpoint_writes):
                names = [col.name for col in table.c if col.name != "thread_id"]
                source_rows = select(
                    literal(target, table.c.thread_id.type).label("thread_id"),
                    *(table.c[name] for name in names),
                ).where(table.c.thread_id == source)
                statement = (
                    self._store._upsert(table)
                    .from_select(["thread_id", *names], source_rows)
                    .on_conflict_do_nothing()  # type: ignore[attr-defined]
                )
                await conn.execute(statement)

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

        async with self._store._connect(write=True) as conn:
            await conn.execute(
                delete(checkpoint_writes).where(
                    _w.thread_id.in_(ids),
                    superseded(_w.thread_id, _w.checkpoint_ns, _w.checkpoint_id),
                )
            )
            await conn.execute(
                delete(checkpoints).where(
                    _c.thread_id.in_(ids),
                    superseded(_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id),
                )
            )
            await self._detach_orphans(conn, ids)

    async def delete_runs(self, run_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_runs`; one transaction, by the run_id index."""
        in_runs = _c.run_id.in_(list(run_ids))
        owned = exists().where(
            _c.thread_id == _w.thread_id,
            _c.checkpoint_ns == _w.checkpoint_ns,
            _c.checkpoint_id == _w.checkpoint_id,
            in_runs,
        )
        async with self._store._connect(write=True) as conn:
            await conn.execute(delete(checkpoint_writes).where(owned))
            threads = (
                await conn.execute(delete(checkpoints).where(in_runs).returning(_c.thread_id))
            ).scalars()
            await self._detach_orphans(conn, sorted(set(threads)))

    async def _detach_orphans(self, conn: AsyncConnection, thread_ids: list[str]) -> None:
        """Clear parent ids that name a checkpoint no longer stored."""
        if not thread_ids:
            return
        parent = checkpoints.alias("parent")
        await conn.execute(
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
            .values(parent_checkpoint_id=None)
        )
