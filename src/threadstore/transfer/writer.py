"""Export: stream a database's tables into a versioned JSON Lines file."""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table
from sqlalchemy.engine import URL

from threadstore.errors import RecordNotFoundError, ValidationError
from threadstore.store.sql.connections import Conn
from threadstore.transfer.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    column_kind,
    dump_line,
    encode_value,
)
from threadstore.transfer.session import ProgressCallback, open_database
from threadstore.transfer.tables import (
    Selection,
    check_revision,
    count_rows,
    keyset_page,
    primary_key,
    transfer_tables,
)

__all__ = ["ExportSummary", "export_database", "open_text_writer"]

logger = logging.getLogger("threadstore.transfer")

DEFAULT_BATCH = 1000


@dataclass
class ExportSummary:
    """What an export wrote: the file, the schema revision and rows per table."""

    path: Path
    schema_revision: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows written, all tables together."""
        return sum(self.rows.values())


@contextlib.contextmanager
def open_text_writer(path: Path) -> Iterator[IO[str]]:
    """Open ``path`` for UTF-8 text; gzip (reproducible: no name, no mtime) for ``.gz``."""
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(path.open("wb"))
        if path.name.removesuffix(".partial").endswith(".gz"):
            gz = stack.enter_context(gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0))
            yield stack.enter_context(io.TextIOWrapper(gz, encoding="utf-8", newline="\n"))
        else:
            yield stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8", newline="\n"))


async def export_database(
    url: str | URL,
    path: str | os.PathLike[str],
    *,
    thread_id: str | None = None,
    user_id: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressCallback | None = None,
) -> ExportSummary:
    """Write the database at ``url`` (or one thread's or one user's data) to ``path``.

    The rows are read in one consistent snapshot (a single read transaction),
    in batches of ``batch_size`` by primary key, so memory stays flat. The file
    is written next to ``path`` and renamed into place when complete; gzip when
    the name ends in ``.gz``. See :mod:`threadstore.transfer.format`.

    Raises:
        ValidationError: bad arguments (both a thread and a user, empty ids).
        RecordNotFoundError: the thread or user selected has no rows.
        SchemaOutOfDateError: the database is not at this threadstore's head.
        PersistenceConnectionError: the database cannot be reached.
    """
    selection = Selection(thread_id=thread_id, user_id=user_id)
    if batch_size < 1:
        raise ValidationError("batch_size must be at least 1", suggestion="Pass e.g. 1000.")
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    async with (
        open_database(url, role="source") as db,
        db.translated(),
        db.engine.connect() as conn,
    ):
        conn = await conn.execution_options(**db.read_options())
        async with conn.begin():
            revision = await conn.run_sync(check_revision, role="source", where=db.where)
            summary = ExportSummary(path=target, schema_revision=revision)
            try:
                with open_text_writer(partial) as out:
                    out.write(dump_line(_header(revision, selection)))
                    for table in transfer_tables():
                        summary.rows[table.name] = await _write_table(
                            conn, out, table, selection, batch_size, progress
                        )
                    out.write(dump_line({"end": {"rows": summary.rows}}))
                if not selection.whole and summary.total == 0:
                    raise RecordNotFoundError(
                        f"nothing to export for {_described(selection)} in {db.where}",
                        suggestion="Check the id: --thread takes a thread id, --user a user id.",
                    )
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    partial.replace(target)
    logger.info("exported %d rows from %s to %s", summary.total, db.where, target)
    return summary


async def _write_table(
    conn: Conn,
    out: IO[str],
    table: Table,
    selection: Selection,
    batch_size: int,
    progress: ProgressCallback | None,
) -> int:
    """Write the selected rows of one table in key order; return how many."""
    where = selection.where(table)
    total = await conn.run_sync(count_rows, table, where)
    kinds = [column_kind(c) for c in table.c]
    key = [table.c.keys().index(c.key) for c in primary_key(table)]
    written, after = 0, None
    while True:
        rows = (await conn.execute(keyset_page(table, where, after, batch_size))).all()
        for row in rows:
            values = [encode_value(k, v) for k, v in zip(kinds, row, strict=True)]
            out.write(dump_line({"table": table.name, "row": values}))
        written += len(rows)
        if progress is not None and rows:
            progress(table.name, written, total)
        if len(rows) < batch_size:
            return written
        after = [rows[-1][i] for i in key]


def _described(selection: Selection) -> str:
    if selection.thread_id is not None:
        return f"thread {selection.thread_id!r}"
    return f"user {selection.user_id!r}"


def _header(revision: str, selection: Selection) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "schema_revision": revision,
        "selection": selection.as_json(),
        "tables": {table.name: [c.name for c in table.c] for table in transfer_tables()},
    }
