"""Verification: row counts and a checksum per table, computed alike on every backend.

A table's checksum is the sum (mod 2**128) of a SHA-256 digest of each row's
canonical encoding (:func:`threadstore.transfer.format.canonical_digest`):
independent of row order and of how a backend orders JSON keys, so a SQLite
database and its PostgreSQL copy give the same value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, true
from sqlalchemy.engine import URL, Connection

from threadstore.transfer.format import canonical_digest, column_kind
from threadstore.transfer.session import open_database
from threadstore.transfer.tables import keyset_page, primary_key, transfer_tables

__all__ = [
    "TableCheck",
    "VerifyReport",
    "compare_summaries",
    "summarize_connection",
    "verify_databases",
]

_MODULUS = 1 << 128


@dataclass(frozen=True)
class TableCheck:
    """One table's row count and checksum (32 hex digits)."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class VerifyReport:
    """Both sides' summaries and the tables where they differ."""

    source: dict[str, TableCheck]
    target: dict[str, TableCheck]
    mismatched: list[str]

    @property
    def ok(self) -> bool:
        """Whether every table has the same count and checksum on both sides."""
        return not self.mismatched


def _summarize_table(conn: Connection, table: Table, batch_size: int) -> TableCheck:
    kinds = [column_kind(c) for c in table.c]
    key = [table.c.keys().index(c.key) for c in primary_key(table)]
    total = count = 0
    after: list[Any] | None = None
    while True:
        rows = conn.execute(keyset_page(table, true(), after, batch_size)).all()
        for row in rows:
            total = (total + canonical_digest(table, kinds, tuple(row))) % _MODULUS
        count += len(rows)
        if len(rows) < batch_size:
            return TableCheck(rows=count, checksum=f"{total:032x}")
        after = [rows[-1][i] for i in key]


def summarize_connection(conn: Connection, batch_size: int = 5000) -> dict[str, TableCheck]:
    """Count and checksum every threadstore table on ``conn``."""
    return {table.name: _summarize_table(conn, table, batch_size) for table in transfer_tables()}


def compare_summaries(source: dict[str, TableCheck], target: dict[str, TableCheck]) -> list[str]:
    """Name the tables whose count or checksum differ."""
    return sorted(
        name for name in source.keys() | target.keys() if source.get(name) != target.get(name)
    )


async def _summarize(url: str | URL, role: str, batch_size: int) -> dict[str, TableCheck]:
    async with open_database(url, role=role) as db, db.translated(), db.engine.connect() as conn:
        conn = await conn.execution_options(**db.read_options())
        async with conn.begin():
            return await conn.run_sync(summarize_connection, batch_size)


async def verify_databases(
    source_url: str | URL, target_url: str | URL, *, batch_size: int = 5000
) -> VerifyReport:
    """Compare every table of two databases by row count and checksum."""
    source = await _summarize(source_url, "source", batch_size)
    target = await _summarize(target_url, "target", batch_size)
    return VerifyReport(source, target, compare_summaries(source, target))
