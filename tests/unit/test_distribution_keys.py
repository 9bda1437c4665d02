"""Citus readiness, read from the SQLAlchemy metadata so it stays true.

A table sharded by thread (Citus ``create_distributed_table(..., 'thread_id')``,
or ``PARTITION BY HASH (thread_id)``) needs the thread in every primary key and
unique constraint, and a foreign key between two such tables must carry the
thread on both sides (colocated rows). The context and long-term memory
tables are keyed by ``scope`` instead and obey the same rule with ``scope``.

Keys are read per dialect: Citus runs on PostgreSQL, where the rule holds
for every table. On SQLite (never sharded) messages and feedback keep their
rowid ``id`` as the primary key and hold ``(thread_id, id)`` in a unique index
(``SQLITE_ROWID_KEY``); ``SQLITE_ROWID_KEYS`` pins exactly that difference.
The one reference that crosses shards, a fork's parent, is listed in
``KNOWN_FOREIGN_KEY_VIOLATIONS`` (see docs/scaling.md). The tests compare with
those lists exactly, so a new violation fails and so does a fixed one that was
not struck off. tests/migrations/test_thread_keys.py checks the migrated
databases have these keys.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Index, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

import threadstore.models  # noqa: F401 - completes Base.metadata
from threadstore.models import Base
from threadstore.models.base import primary_key_columns

DIALECTS = {"postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}

THREAD_KEY = {"threadstore_threads": "id"}
"""The distribution column of each thread-scoped table: ``thread_id`` unless listed."""

SCOPE_TABLES = {
    "threadstore_context_items",
    "threadstore_context_routes",
    "threadstore_agent_topics",
    "threadstore_agent_permissions",
    "threadstore_memory_items",
    "threadstore_memory_vectors",
}
"""Tables keyed by ``scope`` (a user id, or "" for the global scope), not by thread."""

BY_OWN_ID = {
    "threadstore_invocation_logs",
    "threadstore_tool_calls",
    "threadstore_log_analyses",
    "threadstore_optimization_runs",
}
"""Records that need no thread (a run or tool call may name none): sharded by their own id."""

SQLITE_ROWID_KEYS = {
    ("threadstore_messages", "pk_threadstore_messages", ("id",)),
    ("threadstore_feedback", "pk_threadstore_feedback", ("id",)),
}
"""SQLite only: the rowid primary keys (global ids SQLite assigns); none on PostgreSQL."""

KNOWN_FOREIGN_KEY_VIOLATIONS = {
    ("threadstore_threads", ("parent_thread_id",), "threadstore_threads"),
}
"""A fork's parent may live on another shard: this reference crosses shards."""


def _tables() -> dict[str, Table]:
    return dict(Base.metadata.tables)


def distribution_column(table: Table) -> str | None:
    """The column a table is sharded by, or None for a table of neither kind."""
    if table.name in THREAD_KEY:
        return THREAD_KEY[table.name]
    if table.name in SCOPE_TABLES:
        return "scope"
    if table.name in BY_OWN_ID:
        return "id"
    return "thread_id" if "thread_id" in table.c else None


def _created_on(item: Index | UniqueConstraint, dialect: Dialect) -> bool:
    """Whether ``item`` is created on ``dialect`` (its ``ddl_if``, as CREATE TABLE reads it)."""
    rule = item._ddl_if  # the rule SQLAlchemy's DDL compiler applies
    return rule is None or rule.dialect in (None, dialect.name)


def unique_keys(table: Table, dialect: str) -> list[tuple[str, tuple[str, ...]]]:
    """The primary key, unique constraints and unique indexes on ``dialect``: (name, columns)."""
    on = DIALECTS[dialect]
    keys = [(str(table.primary_key.name), primary_key_columns(table, dialect))]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and _created_on(constraint, on):
            keys.append((str(constraint.name), tuple(c.name for c in constraint.columns)))
    for index in table.indexes:
        if isinstance(index, Index) and index.unique and _created_on(index, on):
            keys.append((str(index.name), tuple(c.name for c in index.columns)))
    return keys


def _violations(dialect: str) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (table.name, name, columns)
        for table in _tables().values()
        for name, columns in unique_keys(table, dialect)
        if distribution_column(table) not in columns
    }


def test_every_table_is_sharded_by_thread_or_by_scope() -> None:
    unclassified = [name for name, t in _tables().items() if distribution_column(t) is None]
    assert unclassified == []  # a new table must say how it is distributed


def test_every_unique_key_includes_the_distribution_column_on_postgresql() -> None:
    assert _violations("postgresql") == set()


def test_sqlite_differs_only_by_its_rowid_keys() -> None:
    assert _violations("sqlite") == SQLITE_ROWID_KEYS


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_a_thread_and_an_id_name_one_row(dialect: str) -> None:
    """``(thread_id, id)`` is unique on every dialect: a shard's key, and feedback's message."""
    keys = {(t.name, cols) for t in _tables().values() for _, cols in unique_keys(t, dialect)}
    for table in ("threadstore_messages", "threadstore_feedback", "threadstore_suspended_states"):
        assert (table, ("thread_id", "id")) in keys


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_the_keys_that_hold_are_the_hot_path_ones(dialect: str) -> None:
    keys = {(t.name, cols) for t in _tables().values() for _, cols in unique_keys(t, dialect)}
    assert ("threadstore_messages", ("thread_id", "seq")) in keys
    assert ("threadstore_messages", ("thread_id", "idempotency_key")) in keys
    assert ("threadstore_checkpoints", ("thread_id", "checkpoint_ns", "checkpoint_id")) in keys
    writes = ("thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx")
    assert ("threadstore_checkpoint_writes", writes) in keys


def test_foreign_keys_stay_on_one_shard() -> None:
    tables = _tables()
    violations = set()
    for table in tables.values():
        for fk in table.foreign_key_constraints:
            target = tables[fk.referred_table.name]
            pairs = dict(zip(fk.column_keys, (e.column.name for e in fk.elements), strict=True))
            if pairs.get(str(distribution_column(table))) != distribution_column(target):
                violations.add((table.name, tuple(fk.column_keys), target.name))
    assert violations == KNOWN_FOREIGN_KEY_VIOLATIONS
