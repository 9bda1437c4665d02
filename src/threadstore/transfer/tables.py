"""Table-level building blocks shared by export, import and copy.

Everything here works from ``threadstore.models.Base.metadata``: every table,
every column, in primary-key order, so a later revision's tables and columns
move without code changes. Nothing here knows the store's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    false,
    func,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import BindParameter

import threadstore.models as models
from threadstore.errors import MigrationError, SchemaOutOfDateError, ValidationError
from threadstore.migrations import head_revision
from threadstore.schema_state import current_revision

__all__ = [
    "Selection",
    "SelfReference",
    "check_revision",
    "count_rows",
    "insert_statement",
    "keyset_page",
    "link_statement",
    "nonempty_tables",
    "primary_key",
    "reset_sequences",
    "self_references",
    "transfer_tables",
]

_THREADS = models.Thread.__tablename__


def transfer_tables() -> list[Table]:
    """Every threadstore table, parents before children."""
    return list(models.Base.metadata.sorted_tables)


def primary_key(table: Table) -> list[Column[Any]]:
    """The table's primary-key columns, in key order (the order rows move in)."""
    return list(table.primary_key.columns)


@dataclass(frozen=True)
class Selection:
    """Which rows an export takes: everything, one thread, or one user's data.

    A thread selection takes the thread and every row whose ``thread_id`` is
    its id; a user selection takes the user's threads, every row whose
    ``thread_id`` is one of them, every row whose ``scope`` is the user
    (context items, routes, topics, permissions), and every row of a table
    naming its owner column in ``info["owner"]`` (runs and tool calls, with
    or without a thread) whose owner is the user. Tables with none of these
    columns (log analyses, optimization runs) are left out of a partial export.
    """

    thread_id: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        """Refuse both at once, and empty ids."""
        if self.thread_id is not None and self.user_id is not None:
            raise ValidationError(
                "choose either a thread or a user to export, not both",
                suggestion="Pass --thread ID or --user ID (or neither, for the whole database).",
            )
        for name, value in (("thread", self.thread_id), ("user", self.user_id)):
            if value is not None and not value.strip():
                raise ValidationError(f"the {name} id is empty", suggestion=f"Pass a {name} id.")

    @property
    def whole(self) -> bool:
        """Whether every row is selected."""
        return self.thread_id is None and self.user_id is None

    def as_json(self) -> dict[str, str | None]:
        """The selection as written in a file's header."""
        return {"thread": self.thread_id, "user": self.user_id}

    def where(self, table: Table) -> ColumnElement[bool]:
        """The condition a row of ``table`` must meet to be exported."""
        if self.whole:
            return true()
        threads = models.Base.metadata.tables[_THREADS]
        if table.name == _THREADS:
            if self.thread_id is not None:
                return threads.c.id == self.thread_id
            return threads.c.user_id == self.user_id
        owner = table.info.get("owner")
        if owner is not None and self.user_id is not None:
            return table.c[owner] == self.user_id
        if "thread_id" in table.c:
            if self.thread_id is not None:
                return table.c.thread_id == self.thread_id
            owned = select(threads.c.id).where(threads.c.user_id == self.user_id)
            return table.c.thread_id.in_(owned.scalar_subquery())
        if "scope" in table.c and self.user_id is not None:
            return table.c.scope == self.user_id
        return false()


def keyset_page(
    table: Table,
    where: ColumnElement[bool],
    after: Sequence[Any] | None,
    limit: int,
    columns: Sequence[ColumnElement[Any]] | None = None,
) -> Select[Any]:
    """Select the next ``limit`` rows of ``table`` after the key ``after``.

    ``columns`` replaces the table's columns in the result (same order).
    """
    key = primary_key(table)
    query = select(*(columns or table.c)).where(where).order_by(*key).limit(limit)
    if after is not None:
        if len(key) == 1:
            query = query.where(key[0] > after[0])
        else:
            query = query.where(tuple_(*key) > tuple_(*after))
    return query


@dataclass(frozen=True)
class SelfReference:
    """A foreign key from a table to itself (a fork's parent thread).

    Rows move in key order, so a child may come before its parent: the column
    is written NULL first and set once the whole table has moved.
    """

    column: Column[Any]
    target: Column[Any]


def self_references(table: Table) -> list[SelfReference]:
    """The table's single-column foreign keys to itself."""
    found = []
    for constraint in table.foreign_key_constraints:
        if constraint.referred_table is table and len(constraint.elements) == 1:
            element = constraint.elements[0]
            found.append(SelfReference(element.parent, element.column))
    return found


def link_statement(table: Table, ref: SelfReference, *, only_unset: bool) -> Update:
    """UPDATE setting ``ref.column`` for one row, only when the referred row exists."""
    key = primary_key(table)
    alias = table.alias("referred")
    exists = select(alias.c[ref.target.name]).where(
        alias.c[ref.target.name] == _bind(ref.column, "link_value")
    )
    conditions = [column == _bind(column, f"key_{column.name}") for column in key]
    conditions.append(exists.exists())
    if only_unset:
        conditions.append(ref.column.is_(None))
    return (
        table.update()
        .where(and_(*conditions))
        .values({ref.column.key: _bind(ref.column, "link_value")})
    )


def _bind(column: Column[Any], name: str) -> BindParameter[Any]:
    return bindparam(name, type_=column.type)


def insert_statement(table: Table, dialect: str, *, skip_existing: bool) -> Insert:
    """INSERT for ``table``; with ``skip_existing``, rows whose key exists are skipped."""
    if not skip_existing:
        return table.insert()
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise ValidationError(f"unsupported database {dialect!r}")


def count_rows(connection: Connection, table: Table, where: ColumnElement[bool]) -> int:
    """Count the rows of ``table`` meeting ``where``."""
    return int(
        connection.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    )


def nonempty_tables(connection: Connection) -> list[str]:
    """Name the threadstore tables holding at least one row."""
    return [
        table.name
        for table in transfer_tables()
        if connection.execute(select(text("1")).select_from(table).limit(1)).first()
    ]


def check_revision(connection: Connection, *, role: str, where: str) -> str:
    """Return the database's revision; refuse one that is not this code's head.

    Raises:
        SchemaOutOfDateError: no schema, or an older revision.
        MigrationError: a revision this code does not know.
    """
    head = head_revision()
    revision = current_revision(connection)
    if revision == head:
        return head
    if revision is None:
        raise SchemaOutOfDateError(
            f"the {role} database {where} has no threadstore schema",
            suggestion=f"Run `threadstore db upgrade --url URL` on the {role} first.",
        )
    from threadstore.migrations import known_revisions

    if revision not in known_revisions():
        raise MigrationError(
            f"the {role} database {where} is at revision {revision}, unknown to this "
            f"threadstore (head {head})",
            suggestion="Run the threadstore release that migrated it (or a newer one).",
        )
    raise SchemaOutOfDateError(
        f"the {role} database {where} is at revision {revision}; this threadstore moves "
        f"data at revision {head}",
        suggestion=f"Run `threadstore db upgrade --url URL` on the {role} first.",
    )


def reset_sequences(connection: Connection) -> list[str]:
    """Advance PostgreSQL's id sequences past the largest id of each table.

    Covers every serial/identity column (``messages.id``, ``feedback.id``, and
    any later table's); a no-op on SQLite, which numbers from the largest rowid.
    Returns the ``table.column`` names whose sequence was set.
    """
    if connection.dialect.name != "postgresql":
        return []
    done = []
    for table in transfer_tables():
        column = table.autoincrement_column
        if column is None:
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        if sequence is None:
            continue
        largest = connection.execute(select(func.max(column))).scalar()
        if largest is None:
            connection.execute(text("SELECT setval(:seq, 1, false)"), {"seq": sequence})
        else:
            connection.execute(
                text("SELECT setval(:seq, :value, true)"), {"seq": sequence, "value": largest}
            )
        done.append(f"{table.name}.{column.name}")
    return done
