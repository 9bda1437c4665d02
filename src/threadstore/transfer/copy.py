"""DSN-to-DSN copy in bounded memory, resumable, verified.

Rows move table by table (parents first), in batches by primary key (keyset,
never OFFSET). Each batch is one target transaction; after it commits, the
position reached is saved in a small JSON *state file* (not in either
database, so no schema revision is needed). A re-run with the same source,
target and state file continues from there; the first batch after a resume
skips rows that already exist, so a crash between a commit and the state save
never duplicates a row. The state file is removed when the copy completes.

The source is read in one transaction (one consistent snapshot on
PostgreSQL's REPEATABLE READ and SQLite's WAL). On PostgreSQL the target's
batches go through asyncpg's COPY, and id sequences are advanced past the
copied ids at the end. Self-references (a fork's parent) are set in a final
pass. The copy ends by comparing row counts and checksums per table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, Text, cast, text, true
from sqlalchemy.engine import URL, Row

from threadstore.config import resolve_url
from threadstore.errors import PersistenceError, ValidationError
from threadstore.store.sql.connections import Conn
from threadstore.transfer.format import Kind, column_kind, decode_value, encode_value
from threadstore.transfer.session import Database, ProgressCallback, open_database
from threadstore.transfer.tables import (
    check_revision,
    count_rows,
    insert_statement,
    keyset_page,
    link_statement,
    nonempty_tables,
    primary_key,
    reset_sequences,
    self_references,
    transfer_tables,
)
from threadstore.transfer.verify import VerifyReport, compare_summaries, summarize_connection

__all__ = ["AfterBatch", "CopySummary", "VerificationError", "copy_database", "default_state_file"]

logger = logging.getLogger("threadstore.transfer")

AfterBatch = Callable[[str, int], Awaitable[None] | None]
"""Called as ``after_batch(table, batch_number)`` once a batch has committed."""

_STATE_VERSION = 1


class VerificationError(PersistenceError):
    """After a copy, a table's row count or checksum differs between source and target."""

    default_suggestion = (
        "Was the source written to during the copy? Copy again into an empty target."
    )


@dataclass
class CopySummary:
    """What a copy did: rows per table, batches, whether it resumed, the verification."""

    rows: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    resumed: bool = False
    sequences: list[str] = field(default_factory=list)
    verification: VerifyReport | None = None


def default_state_file(source: URL, target: URL) -> Path:
    """``.threadstore-copy-<hash of both URLs>.json`` in the working directory."""
    pair = "\n".join(u.render_as_string(hide_password=False) for u in (source, target))
    return Path.cwd() / f".threadstore-copy-{hashlib.sha256(pair.encode()).hexdigest()[:16]}.json"


class _State:
    """The state file: per table, the last key copied and whether it is done."""

    def __init__(self, path: Path, source: Database, target: Database, revision: str) -> None:
        self.path = path
        self.identity = {"source": source.where, "target": target.where, "revision": revision}
        self.tables: dict[str, dict[str, Any]] = {}
        self.links_done = False
        self.existed = path.exists()
        if self.existed:
            self._load()

    def _load(self) -> None:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(
                f"cannot read the copy state file {self.path}: {exc}",
                suggestion="Delete it to start over (into an empty target).",
            ) from exc
        if document.get("version") != _STATE_VERSION or document.get("copy") != self.identity:
            raise ValidationError(
                f"the copy state file {self.path} belongs to another copy ({document.get('copy')})",
                suggestion="Pass the same source and target as the interrupted copy, "
                "or another --state file.",
            )
        self.tables = dict(document.get("tables", {}))
        self.links_done = bool(document.get("links_done"))

    def save(self) -> None:
        document = {
            "version": _STATE_VERSION,
            "copy": self.identity,
            "tables": self.tables,
            "links_done": self.links_done,
        }
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps(document, indent=1), encoding="utf-8")
        os.replace(partial, self.path)

    def table(self, name: str) -> dict[str, Any]:
        return self.tables.setdefault(name, {"after": None, "rows": 0, "done": False})


async def copy_database(
    source_url: str | URL,
    target_url: str | URL,
    *,
    merge: bool = False,
    batch_size: int = 5000,
    state_file: str | os.PathLike[str] | None = None,
    verify: bool = True,
    progress: ProgressCallback | None = None,
    after_batch: AfterBatch | None = None,
) -> CopySummary:
    """Copy every threadstore row from ``source_url`` to ``target_url``.

    Both databases must be migrated to this threadstore's head. The target must
    be empty unless ``merge`` (rows whose key exists are skipped) or a state
    file of an interrupted copy of the same pair exists (it resumes).

    Args:
        source_url: The database to read.
        target_url: The database to fill.
        merge: Copy into a non-empty target, skipping existing records
            (verification then reports differences without failing).
        batch_size: Rows per batch (and per target transaction).
        state_file: Where the resumable position is kept (default:
            :func:`default_state_file`); removed when the copy completes.
        verify: Compare row counts and checksums per table at the end.
        progress: Called as ``progress(table, rows_done, rows_total)``.
        after_batch: Called after each committed batch, before the state is
            saved (tests inject failures here).

    Raises:
        ValidationError: bad arguments, a non-empty target, a foreign state file.
        SchemaOutOfDateError: either database is not at this threadstore's head.
        VerificationError: counts or checksums differ after the copy.
    """
    if batch_size < 1:
        raise ValidationError("batch_size must be at least 1", suggestion="Pass e.g. 5000.")
    if resolve_url(source_url) == resolve_url(target_url):
        raise ValidationError(
            "the source and the target are the same database",
            suggestion="Name two different databases.",
        )
    async with (
        open_database(source_url, role="source") as source,
        open_database(target_url, role="target") as target,
        source.translated(),
        source.engine.connect() as reader,
    ):
        reader = await reader.execution_options(**source.read_options())
        path = Path(state_file) if state_file else default_state_file(source.url, target.url)
        async with reader.begin():
            revision = await reader.run_sync(check_revision, role="source", where=source.where)
            async with target.translated(), target.engine.connect() as writer:
                writer = await writer.execution_options(**target.write_options())
                await _check_target(writer, target, merge, path)
                state = _State(path, source, target, revision)
                summary = CopySummary(resumed=state.existed)
                run = _Run(reader, writer, target, state, summary, merge, batch_size)
                for table in transfer_tables():
                    await run.table(table, progress, after_batch)
                await run.links()
                async with writer.begin():
                    summary.sequences = await writer.run_sync(reset_sequences)
                if verify:
                    summary.verification = await _verify(reader, writer, merge)
    path.unlink(missing_ok=True)
    logger.info(
        "copied %d rows from %s to %s", sum(summary.rows.values()), source.where, target.where
    )
    return summary


async def _check_target(writer: Conn, target: Database, merge: bool, path: Path) -> None:
    async with writer.begin():
        await writer.run_sync(check_revision, role="target", where=target.where)
        filled = await writer.run_sync(nonempty_tables)
    if filled and not merge and not path.exists():  # noqa: ASYNC240 - one stat
        raise ValidationError(
            f"the target {target.where} already holds rows in {', '.join(filled)}",
            suggestion="Copy into an empty, migrated database, pass --merge to skip the "
            "records that already exist, or pass the --state file of the interrupted copy.",
        )


async def _verify(reader: Conn, writer: Conn, merge: bool) -> VerifyReport:
    source = await reader.run_sync(summarize_connection)
    async with writer.begin():
        target = await writer.run_sync(summarize_connection)
    report = VerifyReport(source, target, compare_summaries(source, target))
    if report.mismatched and not merge:
        detail = ", ".join(
            f"{name} ({source[name].rows} vs {target[name].rows} rows)"
            for name in report.mismatched
        )
        raise VerificationError(f"the copy differs from the source in {detail}")
    return report


class _Run:
    """One copy's moving parts: both connections, the state, the counters."""

    def __init__(
        self,
        reader: Conn,
        writer: Conn,
        target: Database,
        state: _State,
        summary: CopySummary,
        merge: bool,
        batch_size: int,
    ) -> None:
        self.reader, self.writer, self.target = reader, writer, target
        self.state, self.summary = state, summary
        self.merge, self.batch_size = merge, batch_size
        self.resuming = state.existed

    async def table(
        self, table: Table, progress: ProgressCallback | None, after_batch: AfterBatch | None
    ) -> None:
        """Copy one table from where the state says it stopped."""
        entry = self.state.table(table.name)
        if entry["done"]:
            self.summary.rows[table.name] = int(entry["rows"])
            return
        key = primary_key(table)
        kinds = [column_kind(c) for c in key]
        where = f"state file {self.state.path.name}"
        after = entry["after"]
        after = (
            None
            if after is None
            else [decode_value(k, v, where=where) for k, v in zip(kinds, after, strict=True)]
        )
        total = await self.reader.run_sync(count_rows, table, true())
        positions = [table.c.keys().index(c.key) for c in key]
        nulls = {ref.column.key for ref in self_references(table)}
        # COPY into PostgreSQL takes JSON as text: read it as stored, unparsed
        json_text = [
            cast(c, Text).label(c.name) if column_kind(c) is Kind.JSON else c for c in table.c
        ]
        while True:
            skip = self.merge or self.resuming
            fast = self.target.dialect == "postgresql" and not skip
            page = keyset_page(table, true(), after, self.batch_size, json_text if fast else None)
            rows = (await self.reader.execute(page)).all()
            if rows:
                async with self.writer.begin():
                    if fast:
                        await self._copy_records(table, rows, nulls)
                    else:
                        await self._insert(table, rows, nulls, skip=skip)
                self.resuming = False
                self.summary.batches += 1
                entry["rows"] = int(entry["rows"]) + len(rows)
                after = [rows[-1][i] for i in positions]
                entry["after"] = [encode_value(k, v) for k, v in zip(kinds, after, strict=True)]
                if after_batch is not None:
                    awaited = after_batch(table.name, self.summary.batches)
                    if awaited is not None:
                        await awaited
                if progress is not None:
                    progress(table.name, int(entry["rows"]), total)
            if len(rows) < self.batch_size:
                entry["done"] = True
            self.state.save()
            if entry["done"]:
                self.summary.rows[table.name] = int(entry["rows"])
                return

    async def _insert(
        self, table: Table, rows: Sequence[Row[Any]], nulls: set[str], *, skip: bool
    ) -> None:
        keys = table.c.keys()
        params = [
            {k: (None if k in nulls else v) for k, v in zip(keys, row, strict=True)} for row in rows
        ]
        statement = insert_statement(table, self.target.dialect, skip_existing=skip)
        await self.writer.execute(statement, params)

    async def _copy_records(self, table: Table, rows: Sequence[Row[Any]], nulls: set[str]) -> None:
        """Write a batch with asyncpg's COPY, values converted by the columns' own types.

        JSON columns arrive as JSON text, which is what asyncpg's JSONB codec takes.
        """
        dialect = self.writer.dialect
        processors = [
            None
            if c.key in nulls or column_kind(c) is Kind.JSON
            else c.type.dialect_impl(dialect).bind_processor(dialect)
            for c in table.c
        ]
        records = [
            tuple(
                None if c.key in nulls else (p(v) if p is not None else v)
                for c, p, v in zip(table.c, processors, row, strict=True)
            )
            for row in rows
        ]
        await self.writer.execute(text("SELECT 1"))  # make the adapter open the transaction
        raw = await self.writer.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            table.name, records=records, columns=[c.name for c in table.c]
        )

    async def links(self) -> None:
        """Set the self-references (fork parents) written NULL, batch by batch."""
        if self.state.links_done:
            return
        for table in transfer_tables():
            key = primary_key(table)
            for ref in self_references(table):
                statement = link_statement(table, ref, only_unset=True)
                after: list[Any] | None = None
                while True:
                    query = keyset_page(table, ref.column.is_not(None), after, self.batch_size)
                    rows = (await self.reader.execute(query)).all()
                    if rows:
                        params = [
                            {
                                **{f"key_{c.name}": row._mapping[c] for c in key},
                                "link_value": row._mapping[ref.column],
                            }
                            for row in rows
                        ]
                        async with self.writer.begin():
                            for one in params:
                                await self.writer.execute(statement, one)
                    if len(rows) < self.batch_size:
                        break
                    after = [rows[-1]._mapping[c] for c in key]
        self.state.links_done = True
        self.state.save()
