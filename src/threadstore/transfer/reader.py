"""Import: load an export file into a migrated database, in one transaction."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, true
from sqlalchemy.engine import URL, Connection

from threadstore.errors import MigrationError, ValidationError
from threadstore.transfer.format import FORMAT_NAME, FORMAT_VERSION, Kind, column_kind, decode_value
from threadstore.transfer.session import Linker, ProgressCallback, open_database
from threadstore.transfer.tables import (
    check_revision,
    count_rows,
    insert_statement,
    nonempty_tables,
    reset_sequences,
    transfer_tables,
)

__all__ = ["ExportFile", "ImportSummary", "import_database", "open_text_reader"]

logger = logging.getLogger("threadstore.transfer")

_GZIP_MAGIC = b"\x1f\x8b"
_DAMAGED = "The file is not a complete threadstore export; export it again."


@dataclass
class ImportSummary:
    """What an import did: rows read and rows inserted per table (merge skips the rest)."""

    schema_revision: str
    read: dict[str, int] = field(default_factory=dict)
    inserted: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        """Rows of the file that already existed in the target (``merge=True``)."""
        return sum(self.read.values()) - sum(self.inserted.values())


@contextlib.contextmanager
def open_text_reader(path: Path) -> Iterator[IO[str]]:
    """Open an export file for reading; gzip is recognised by its magic bytes."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ValidationError(
            f"cannot open the export file {path}: {exc.strerror or exc}",
            suggestion="Check the path and its permissions.",
        ) from exc
    with contextlib.ExitStack() as stack:
        stack.enter_context(raw)
        binary: IO[bytes] = raw
        if raw.read(2) == _GZIP_MAGIC:
            raw.seek(0)
            binary = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))  # type: ignore[arg-type]
        else:
            raw.seek(0)
        yield stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8", newline="\n"))


class ExportFile:
    """An export file being read: its header, then its rows, then its trailer."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self._stream = stream
        self.name = name
        self.line = 0
        self.header = self._header()
        self.revision = str(self.header["schema_revision"])
        self.selection: dict[str, Any] = dict(self.header.get("selection") or {})
        self.tables = self._tables()
        self.trailer: dict[str, int] | None = None

    def _next(self) -> Any:
        try:
            text = self._stream.readline()
        except (UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile) as exc:
            raise ValidationError(f"{self.name}: unreadable ({exc})", suggestion=_DAMAGED) from exc
        if not text:
            return None
        self.line += 1
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{self.name} line {self.line}: not JSON ({exc.msg})", suggestion=_DAMAGED
            ) from exc

    def _header(self) -> dict[str, Any]:
        header = self._next()
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise ValidationError(
                f"{self.name} is not a threadstore export (no {FORMAT_NAME!r} header)",
                suggestion="Pass a file written by `threadstore export`.",
            )
        version = header.get("format_version")
        if version != FORMAT_VERSION:
            raise ValidationError(
                f"{self.name} uses export format version {version!r}; this threadstore "
                f"reads version {FORMAT_VERSION}",
                suggestion="Import it with the threadstore release that wrote it (or a newer "
                "one), or export the data again with this release.",
            )
        if not isinstance(header.get("schema_revision"), str):
            raise ValidationError(
                f"{self.name}: the header names no schema revision", suggestion=_DAMAGED
            )
        return header

    def _tables(self) -> dict[str, tuple[Table, list[Kind]]]:
        known = {table.name: table for table in transfer_tables()}
        found: dict[str, tuple[Table, list[Kind]]] = {}
        listed = self.header.get("tables")
        if not isinstance(listed, dict):
            raise ValidationError(f"{self.name}: the header lists no tables", suggestion=_DAMAGED)
        for name, columns in listed.items():
            table = known.get(name)
            if table is None or columns != [c.name for c in table.c]:
                raise ValidationError(
                    f"{self.name}: table {name} does not match this threadstore's schema "
                    f"at revision {self.revision}",
                    suggestion="The file was edited, or written by a threadstore whose schema "
                    "differs at the same revision; export the data again.",
                )
            found[name] = (table, [column_kind(c) for c in table.c])
        return found

    def rows(self) -> Iterator[tuple[Table, dict[str, Any]]]:
        """Yield each row as (table, values keyed by column key), decoded."""
        while True:
            document = self._next()
            if document is None:
                raise ValidationError(
                    f"{self.name} ends after line {self.line} without its end marker (truncated)",
                    suggestion=_DAMAGED,
                )
            if isinstance(document, dict) and isinstance(document.get("end"), dict):
                rows = document["end"].get("rows")
                self.trailer = {str(k): int(v) for k, v in (rows or {}).items()}
                return
            if not isinstance(document, dict) or document.get("table") not in self.tables:
                raise ValidationError(
                    f"{self.name} line {self.line}: not a row of a listed table",
                    suggestion=_DAMAGED,
                )
            table, kinds = self.tables[document["table"]]
            values = document.get("row")
            if not isinstance(values, list) or len(values) != len(kinds):
                raise ValidationError(
                    f"{self.name} line {self.line}: expected {len(kinds)} values",
                    suggestion=_DAMAGED,
                )
            where = f"{self.name} line {self.line}"
            yield (
                table,
                {
                    column.key: decode_value(kind, value, where=f"{where}, {column.name}")
                    for column, kind, value in zip(table.c, kinds, values, strict=True)
                },
            )


def _check_revision(file: ExportFile, target: str, where: str) -> None:
    if file.revision == target:
        return
    raise MigrationError(
        f"{file.name} holds data at schema revision {file.revision}; the target {where} is "
        f"at {target}",
        suggestion=f"Import it into a database at revision {file.revision} with the threadstore "
        "release that wrote it, upgrade that database with `threadstore db upgrade`, and "
        "export again (or copy it with `threadstore copy`).",
    )


async def import_database(
    url: str | URL,
    path: str | os.PathLike[str],
    *,
    merge: bool = False,
    batch_size: int = 1000,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Load the export file at ``path`` into the migrated database at ``url``.

    Everything happens in one transaction: a failure (a damaged file, a
    truncated one, a constraint) leaves the target as it was. Rows keep their
    ids; PostgreSQL's id sequences are then advanced past them.

    Args:
        url: The target database, at this threadstore's schema head.
        path: A file written by :func:`~threadstore.transfer.export_database`.
        merge: Load into a database that already holds rows, skipping rows whose
            primary key (or another unique key) already exists.
        batch_size: Rows per INSERT.
        progress: Called as ``progress(table, rows_done, -1)`` after each batch.

    Raises:
        ValidationError: not an export file, an unknown format version, a damaged
            or truncated file, or a non-empty target without ``merge``.
        MigrationError: the file's schema revision is not the target's.
        SchemaOutOfDateError: the target is not migrated to this threadstore's head.
    """
    if batch_size < 1:
        raise ValidationError("batch_size must be at least 1", suggestion="Pass e.g. 1000.")
    source = Path(path)
    with open_text_reader(source) as stream:
        file = ExportFile(stream, source.name)
        async with (
            open_database(url, role="target") as db,
            db.translated(),
            db.engine.connect() as conn,
        ):
            conn = await conn.execution_options(**db.write_options())
            async with conn.begin():
                revision = await conn.run_sync(check_revision, role="target", where=db.where)
                _check_revision(file, revision, db.where)
                summary = ImportSummary(schema_revision=revision)
                await conn.run_sync(_load, file, summary, merge, batch_size, progress)
    logger.info(
        "imported %d rows into %s (%d skipped)",
        sum(summary.inserted.values()),
        db.where,
        summary.skipped,
    )
    return summary


def _load(
    conn: Connection,
    file: ExportFile,
    summary: ImportSummary,
    merge: bool,
    batch_size: int,
    progress: ProgressCallback | None,
) -> None:
    filled = nonempty_tables(conn)
    if filled and not merge:
        raise ValidationError(
            f"the target already holds rows in {', '.join(filled)}",
            suggestion="Import into an empty, migrated database, or pass merge=True "
            "(--merge) to skip the records that already exist.",
        )
    before = {t.name: count_rows(conn, t, true()) for t in transfer_tables()} if merge else {}
    linkers = {name: Linker(table, only_unset=merge) for name, (table, _) in file.tables.items()}
    batch: list[dict[str, Any]] = []
    current: Table | None = None

    def flush() -> None:
        if current is not None and batch:
            conn.execute(insert_statement(current, conn.dialect.name, skip_existing=merge), batch)
            summary.read[current.name] = summary.read.get(current.name, 0) + len(batch)
            if progress is not None:
                progress(current.name, summary.read[current.name], -1)
            batch.clear()

    for table, row in file.rows():
        if table is not current or len(batch) >= batch_size:
            flush()
            current = table
        batch.append(linkers[table.name].defer(row))
    flush()
    for linker in linkers.values():
        linker.apply(conn)
    expected = {name: count for name, count in (file.trailer or {}).items() if count}
    if expected != {name: count for name, count in summary.read.items() if count}:
        raise ValidationError(
            f"{file.name}: the rows read do not match the counts its end marker gives",
            suggestion=_DAMAGED,
        )
    for table in transfer_tables():
        read = summary.read.get(table.name, 0)
        if merge:
            summary.inserted[table.name] = count_rows(conn, table, true()) - before[table.name]
        else:
            summary.inserted[table.name] = read
        summary.read.setdefault(table.name, 0)
    reset_sequences(conn)
