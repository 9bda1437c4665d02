"""Citus readiness, read from the SQLAlchemy metadata so it stays true.

A table sharded by thread (Citus ``create_distributed_table(..., 'thread_id')``,
or ``PARTITION BY HASH (thread_id)``) needs the thread in every primary key and
unique constraint, and a foreign key between two such tables must carry the
thread on both sides (colocated rows). The context and long-term memory
tables are keyed by ``scope`` instead and obey the same rule with ``scope``.

The schema breaks the rule in the places listed in ``KNOWN_*`` (see
docs/scaling.md, "What a revision must change"); the tests compare with
those lists exactly, so a new violation fails and so does a fixed one that
was not struck off.
"""

from __future__ import annotations

from sqlalchemy import Index, Table, UniqueConstraint

import threadstore.models  # noqa: F401 - completes Base.metadata
from threadstore.models import Base

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

KNOWN_KEY_VIOLATIONS = {
    ("threadstore_messages", "pk_threadstore_messages", ("id",)),
    ("threadstore_feedback", "pk_threadstore_feedback", ("id",)),
    ("threadstore_suspended_states", "pk_threadstore_suspended_states", ("id",)),
}
"""Keys of thread-scoped tables without the thread: global ids, left for a revision."""

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


def unique_keys(table: Table) -> list[tuple[str, tuple[str, ...]]]:
    """The primary key, unique constraints and unique indexes: (name, columns)."""
    keys = [(str(table.primary_key.name), tuple(c.name for c in table.primary_key.columns))]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.append((str(constraint.name), tuple(c.name for c in constraint.columns)))
    for index in table.indexes:
        if isinstance(index, Index) and index.unique:
            keys.append((str(index.name), tuple(c.name for c in index.columns)))
    return keys


def test_every_table_is_sharded_by_thread_or_by_scope() -> None:
    unclassified = [name for name, t in _tables().items() if distribution_column(t) is None]
    assert unclassified == []  # a new table must say how it is distributed


def test_every_unique_key_includes_the_distribution_column() -> None:
    violations = {
        (table.name, name, columns)
        for table in _tables().values()
        for name, columns in unique_keys(table)
        if distribution_column(table) not in columns
    }
    assert violations == KNOWN_KEY_VIOLATIONS


def test_the_keys_that_hold_are_the_hot_path_ones() -> None:
    keys = {(t.name, cols) for t in _tables().values() for _, cols in unique_keys(t)}
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
