"""The statements of the LangGraph saver's SQL rows, built once per store.

Reads fetch checkpoints and their pending writes in one statement (a UNION ALL
of the selected checkpoints and the writes joined to them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    TextClause,
    and_,
    bindparam,
    func,
    literal_column,
    null,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB

from threadstore.store.checkpoint_rows import CheckpointKey, CheckpointRow, Found, WriteRow
from threadstore.store.sql.tables import checkpoint_writes, checkpoints, upsert

__all__ = [
    "MAX_ROWS_PER_INSERT",
    "SAVER_COLUMNS",
    "SaverStatements",
    "found",
    "metadata_conditions",
    "with_writes",
]

_c = checkpoints.c
_w = checkpoint_writes.c
SAVER_COLUMNS = (
    _c.thread_id,
    _c.checkpoint_ns,
    _c.checkpoint_id,
    _c.parent_checkpoint_id,
    _c.checkpoint,
    _c.metadata,
    _c.payload_type,
    _c.payload,
)
MAX_ROWS_PER_INSERT = 500
"""Rows per multi-row INSERT (9 parameters each; SQLite allows 32,766, asyncpg 32,767)."""
_MAX_WRITE_SHAPES = 256
"""Multi-row INSERT statements kept built, by (row count, replace)."""
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def with_writes(
    checkpoints_query: Select[Any], thread_id: ColumnElement[Any] | str | None = None
) -> CompoundSelect[Any]:
    """One statement returning the selected checkpoints (kind 0) and their writes (kind 1).

    ``thread_id``, when the selection is one thread's, is repeated on the writes
    so the planner reads one partition of them (the partitioned layout).
    """
    page = checkpoints_query.cte("page")
    writes = _writes_select().join_from(
        checkpoint_writes,
        page,
        and_(
            page.c.thread_id == _w.thread_id,
            page.c.checkpoint_ns == _w.checkpoint_ns,
            page.c.checkpoint_id == _w.checkpoint_id,
        ),
    )
    if thread_id is not None:
        writes = writes.where(_w.thread_id == thread_id)
    return union_all(_checkpoints_select(page.c), writes)


def one_with_writes(*, by_id: bool) -> CompoundSelect[Any]:
    """:func:`with_writes` for one checkpoint of a namespace: its id given, or the newest.

    Params ``thread_id``, ``ns`` (and ``checkpoint_id``). Both halves probe
    their primary key with the full key, the newest id found by one backward
    index probe; no CTE, which SQLite's planner (3.51) otherwise drives from
    the writes' thread prefix instead of the one selected checkpoint.
    """
    thread: BindParameter[Any] = bindparam("thread_id")
    ns: BindParameter[Any] = bindparam("ns")
    chosen: ColumnElement[Any] = bindparam("checkpoint_id")
    if not by_id:
        chosen = (
            select(_c.checkpoint_id)
            .where(_c.thread_id == thread, _c.checkpoint_ns == ns)
            .order_by(_c.checkpoint_id.desc())
            .limit(1)
            .scalar_subquery()
        )
    checkpoint = _checkpoints_select(_c).where(
        _c.thread_id == thread, _c.checkpoint_ns == ns, _c.checkpoint_id == chosen
    )
    writes = _writes_select().where(
        _w.thread_id == thread, _w.checkpoint_ns == ns, _w.checkpoint_id == chosen
    )
    return union_all(checkpoint, writes)


def _checkpoints_select(columns: Any) -> Select[Any]:
    """The checkpoint half of the UNION: kind 0, the saver's columns, no write columns."""
    return select(
        literal_column("0").label("kind"),
        columns.thread_id,
        columns.checkpoint_ns,
        columns.checkpoint_id,
        columns.parent_checkpoint_id,
        columns.checkpoint,
        columns.metadata,
        columns.payload_type,
        columns.payload,
        null().label("task_id"),
        null().label("idx"),
        null().label("channel"),
        null().label("task_path"),
    )


def _writes_select() -> Select[Any]:
    """The writes half of the UNION: kind 1, payload columns carrying the write's value."""
    return select(
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
    )


def found(rows: Sequence[Mapping[Any, Any]]) -> list[Found]:
    """Split UNION rows (as mappings) into checkpoints (newest id first) with their writes."""
    checkpoints_found: list[CheckpointRow] = []
    writes: dict[CheckpointKey, list[WriteRow]] = {}
    for row in rows:
        if row["kind"] == 0:
            checkpoints_found.append(
                CheckpointRow(
                    thread_id=row["thread_id"],
                    checkpoint_ns=row["checkpoint_ns"],
                    checkpoint_id=row["checkpoint_id"],
                    parent_checkpoint_id=row["parent_checkpoint_id"],
                    checkpoint=row["checkpoint"],
                    metadata=row["metadata"],
                    payload_type=row["payload_type"],
                    payload=row["payload"],
                )
            )
        else:
            key = (row["thread_id"], row["checkpoint_ns"], row["checkpoint_id"])
            writes.setdefault(key, []).append(
                WriteRow(
                    task_id=row["task_id"],
                    idx=row["idx"],
                    channel=row["channel"],
                    value_type=row["payload_type"],
                    value=row["payload"],
                    task_path=row["task_path"],
                )
            )
    checkpoints_found.sort(
        key=lambda r: (r.checkpoint_id, r.thread_id, r.checkpoint_ns), reverse=True
    )
    return [(row, writes.get(row.key, [])) for row in checkpoints_found]


@dataclass
class SaverStatements:
    """The saver's hot statements for one dialect, plus the multi-row INSERT shapes built."""

    get_latest: CompoundSelect[Any]
    get_by_id: CompoundSelect[Any]
    put: Any
    write_shapes: dict[tuple[int, bool], TextClause]

    @classmethod
    def build(cls, dialect: str) -> SaverStatements:
        """Build the statements for ``dialect``."""
        statement = upsert(dialect, checkpoints)
        put = statement.on_conflict_do_update(
            index_elements=[_c.thread_id, _c.checkpoint_ns, _c.checkpoint_id],
            set_={
                name: statement.excluded[name]
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
        return cls(one_with_writes(by_id=False), one_with_writes(by_id=True), put, {})

    def writes(self, count: int, replace: bool) -> TextClause:
        """One INSERT of ``count`` rows (params ``<column>_<i>``), built once per shape.

        Written as text because SQLAlchemy does not cache multi-row VALUES
        constructs (it would compile one per call); the SQL is the same on
        SQLite and PostgreSQL.
        """
        statement = self.write_shapes.get((count, replace))
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
        if len(self.write_shapes) < _MAX_WRITE_SHAPES:
            self.write_shapes[(count, replace)] = statement
        return statement


def metadata_conditions(dialect: str, metadata: dict[str, str | int]) -> list[ColumnElement[bool]]:
    """SQL for the exact-match filters: JSONB containment, or json_extract on SQLite."""
    if not metadata:
        return []
    if dialect == "postgresql":
        return [type_coerce(_c.metadata, JSONB).contains(metadata)]
    return [
        func.json_extract(_c.metadata, f'$."{key}"') == value
        for key, value in metadata.items()
        if _SAFE_KEY.match(key)
    ]
