"""Declarative base: the naming convention and the column types every model uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.compiler import DDLCompiler

from threadstore.types import JSONDocument, UTCDateTime

__all__ = [
    "NAMING_CONVENTION",
    "SEARCH_TABLE_PREFIX",
    "SQLITE_ROWID_KEY",
    "TABLE_PREFIX",
    "Base",
    "primary_key_columns",
]

TABLE_PREFIX = "threadstore_"
SEARCH_TABLE_PREFIX = f"{TABLE_PREFIX}search_"
"""SQLite's full-text search tables (revision 0008: FTS5 tables, their shadow tables and a row
map): no model, no data of their own (derived from messages and threads), so never exported,
compared or counted."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


SQLITE_ROWID_KEY = "sqlite_rowid_key"
"""``Table.info`` key naming the column that stays the primary key on SQLite.

Messages and feedback are keyed ``(thread_id, id)`` (the shard column first, as
Citus needs) on PostgreSQL, but on SQLite keep ``id INTEGER PRIMARY KEY``: the
rowid itself, which assigns the global ids and makes a lookup by id a rowid
seek. There a unique index on ``(thread_id, id)`` (``ddl_if`` SQLite) holds the
pair instead. Revision 0010 creates both layouts; nothing shards SQLite.
"""


@compiles(CreateColumn, "sqlite")
def _sqlite_rowid_column(element: CreateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    """On SQLite, the :data:`SQLITE_ROWID_KEY` column of a table is its rowid (for create_all)."""
    column = element.element
    table = column.table
    if isinstance(table, Table) and table.info.get(SQLITE_ROWID_KEY) == column.name:
        return f"{compiler.preparer.format_column(column)} INTEGER NOT NULL PRIMARY KEY"
    return str(compiler.visit_create_column(element, **kw))  # type: ignore[no-untyped-call]


def primary_key_columns(table: Table, dialect: str) -> tuple[str, ...]:
    """The columns of ``table``'s primary key as created on ``dialect`` ("sqlite", "postgresql")."""
    if dialect == "sqlite" and SQLITE_ROWID_KEY in table.info:
        return (str(table.info[SQLITE_ROWID_KEY]),)
    return tuple(column.name for column in table.primary_key.columns)


class Base(DeclarativeBase):
    """Base of every threadstore table; its metadata is what Alembic compares."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
    }
