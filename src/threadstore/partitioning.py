"""Opt-in hash partitioning of the large thread-scoped tables by ``thread_id`` (PostgreSQL).

:func:`partition_by_thread` turns ``threadstore_messages``,
``threadstore_checkpoints`` and ``threadstore_checkpoint_writes`` into
``PARTITION BY HASH (thread_id)`` tables with ``partitions`` partitions each
(``<table>_p0`` .. ``<table>_p<N-1>``), keeping every row, id, sequence,
constraint, index and trigger. PostgreSQL requires a partitioned table's
unique constraints to hold the partition key, so the messages' primary key
becomes ``(thread_id, id)``; ids still come from the same sequence and stay
unique. It runs inside the migration transaction (one process at a time) and
holds an ACCESS EXCLUSIVE lock on each table while it copies its rows: plan it
as a maintenance window, like any table rewrite. Alembic revisions that run
later (indexes, columns) apply to the partitioned tables as to plain ones.

Entry points: ``threadstore db upgrade --partitions N``, ``alembic -x
partitions=N upgrade head`` and :func:`upgrade_partitioned`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from threadstore.errors import MigrationError, ValidationError

__all__ = [
    "MAX_PARTITIONS",
    "PARTITIONED_TABLES",
    "PARTITION_KEY",
    "check_partitions",
    "is_partition",
    "partition_by_thread",
    "partition_counts",
    "upgrade_partitioned",
]

logger = logging.getLogger("threadstore.partitioning")

PARTITIONED_TABLES = (
    "threadstore_messages",
    "threadstore_checkpoints",
    "threadstore_checkpoint_writes",
)
"""The thread-scoped tables that grow with traffic, in the order they are converted."""

PARTITION_KEY = "thread_id"
_PARTITION_NAME = re.compile(f"(?:{'|'.join(PARTITIONED_TABLES)})_p[0-9]+")
MAX_PARTITIONS = 1024


@dataclass(frozen=True)
class _Constraint:
    name: str
    kind: str  # pg_constraint.contype: p(rimary), u(nique), c(heck), f(oreign), x(clusion)
    definition: str
    columns: tuple[str, ...]


def is_partition(table: str) -> bool:
    """Whether ``table`` is one partition of the layout (it belongs to its parent table)."""
    return _PARTITION_NAME.fullmatch(table) is not None


def check_partitions(partitions: object) -> int:
    """Return ``partitions`` as a count, or raise :class:`ValidationError`."""
    if isinstance(partitions, bool) or not isinstance(partitions, int):
        raise ValidationError(
            f"partitions must be an integer, got {partitions!r}",
            suggestion=f"Pass a count from 2 to {MAX_PARTITIONS}, e.g. 16.",
        )
    if not 2 <= partitions <= MAX_PARTITIONS:
        raise ValidationError(
            f"partitions must be from 2 to {MAX_PARTITIONS}, got {partitions}",
            suggestion="Pick about one partition per few million messages you expect; 16 is "
            "a common start (PostgreSQL plans slow down past a few hundred).",
        )
    return partitions


def partition_counts(connection: Connection) -> dict[str, int]:
    """Map each table of :data:`PARTITIONED_TABLES` to its partition count (0: not partitioned)."""
    if connection.dialect.name != "postgresql":
        return dict.fromkeys(PARTITIONED_TABLES, 0)
    rows = connection.execute(
        text(
            "SELECT c.relname, count(i.inhrelid) FROM pg_class c "
            "JOIN pg_partitioned_table p ON p.partrelid = c.oid "
            "LEFT JOIN pg_inherits i ON i.inhparent = c.oid "
            "WHERE c.relnamespace = current_schema()::regnamespace GROUP BY c.relname"
        )
    ).all()
    found = {str(name): int(count) for name, count in rows}
    return {table: found.get(table, 0) for table in PARTITIONED_TABLES}


def partition_by_thread(connection: Connection, partitions: int) -> bool:
    """Hash-partition the thread-scoped tables in the caller's transaction; False if already so.

    Raises:
        ValidationError: ``partitions`` is not a count from 2 to ``MAX_PARTITIONS``.
        MigrationError: not PostgreSQL, the schema is missing, or the tables are
            already partitioned into a different number of partitions.
    """
    partitions = check_partitions(partitions)
    if connection.dialect.name != "postgresql":
        raise MigrationError(
            f"partitioning by thread needs PostgreSQL, not {connection.dialect.name}",
            suggestion="Keep the plain layout on SQLite; partition when you move to PostgreSQL "
            "(`threadstore copy`, then `threadstore db upgrade --partitions N`).",
        )
    counts = partition_counts(connection)
    if all(count == partitions for count in counts.values()):
        return False
    if any(counts.values()):
        raise MigrationError(
            f"the tables are already partitioned ({counts}), not into {partitions}",
            suggestion="Repartitioning is not supported in place: export, recreate the database "
            "with the new count and import (`threadstore export` / `threadstore import`).",
        )
    for table in PARTITIONED_TABLES:
        _convert(connection, table, partitions)
    logger.info("partitioned %s into %d partitions each", ", ".join(PARTITIONED_TABLES), partitions)
    return True


def _convert(connection: Connection, table: str, partitions: int) -> None:
    """Rebuild one table as a hash-partitioned table holding the same rows."""
    if not connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar():
        raise MigrationError(
            f"table {table} does not exist",
            suggestion="Run `threadstore db upgrade` first (it creates the schema).",
        )
    connection.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
    constraints = _constraints(connection, table)
    indexes = _plain_indexes(connection, table)
    triggers = _triggers(connection, table)
    sequences = _sequences(connection, table)
    columns = _stored_columns(connection, table)
    old = f"{table}_unpartitioned"
    connection.execute(text(f'ALTER TABLE "{table}" RENAME TO "{old}"'))
    connection.execute(
        text(
            f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING GENERATED '
            "INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS) "
            f"PARTITION BY HASH ({PARTITION_KEY})"
        )
    )
    for remainder in range(partitions):
        connection.execute(
            text(
                f'CREATE TABLE "{table}_p{remainder}" PARTITION OF "{table}" '
                f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})"
            )
        )
    column_list = ", ".join(f'"{name}"' for name in columns)
    connection.execute(
        text(
            f'INSERT INTO "{table}" ({column_list}) OVERRIDING SYSTEM VALUE '
            f'SELECT {column_list} FROM "{old}"'
        )
    )
    for sequence in sequences:
        if not sequence.identity:
            _restore_sequence(connection, table, sequence)
    connection.execute(text(f'DROP TABLE "{old}"'))
    for sequence in sequences:
        if sequence.identity:
            _restore_sequence(connection, table, sequence)
    for constraint in constraints:
        connection.execute(text(_constraint_ddl(table, constraint)))
    for definition in (*indexes, *triggers):
        connection.execute(text(definition))


def _constraints(connection: Connection, table: str) -> list[_Constraint]:
    rows = connection.execute(
        text(
            "SELECT c.conname, c.contype::text, pg_get_constraintdef(c.oid), "
            "ARRAY(SELECT a.attname::text FROM unnest(c.conkey) k "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k) "
            "FROM pg_constraint c WHERE c.conrelid = CAST(:t AS regclass) "
            "AND c.contype <> 'n' ORDER BY c.contype = 'f', c.conname"
        ),
        {"t": table},
    ).all()
    referencing = connection.execute(
        text("SELECT count(*) FROM pg_constraint WHERE confrelid = CAST(:t AS regclass)"),
        {"t": table},
    ).scalar()
    if referencing:
        raise MigrationError(
            f"{table} is referenced by a foreign key, which this conversion does not rebuild",
            suggestion="Drop the referencing constraint, partition, then add it back.",
        )
    return [
        _Constraint(str(name), str(kind), str(definition), tuple(columns or ()))
        for name, kind, definition, columns in rows
    ]


def _constraint_ddl(table: str, constraint: _Constraint) -> str:
    """The ALTER TABLE that re-adds a constraint; unique keys gain the partition key."""
    definition = constraint.definition
    if constraint.kind in "pu" and PARTITION_KEY not in constraint.columns:
        keys = ", ".join((PARTITION_KEY, *constraint.columns))
        definition = f"{'PRIMARY KEY' if constraint.kind == 'p' else 'UNIQUE'} ({keys})"
    elif constraint.kind == "x":
        raise MigrationError(
            f"{table} has an exclusion constraint ({constraint.name}); it cannot be partitioned",
            suggestion="Drop the exclusion constraint first.",
        )
    return f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint.name}" {definition}'


def _plain_indexes(connection: Connection, table: str) -> list[str]:
    """CREATE INDEX statements of the indexes no constraint owns."""
    rows = connection.execute(
        text(
            "SELECT pg_get_indexdef(i.indexrelid), i.indisunique, "
            "ARRAY(SELECT a.attname::text FROM unnest(i.indkey) k "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k) "
            "FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ),
        {"t": table},
    ).all()
    for definition, unique, columns in rows:
        if unique and PARTITION_KEY not in (columns or ()):
            raise MigrationError(
                f"unique index on {table} without {PARTITION_KEY}: {definition}",
                suggestion=f"A partitioned table's unique indexes must include {PARTITION_KEY}.",
            )
    return [str(definition) for definition, _unique, _columns in rows]


def _triggers(connection: Connection, table: str) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"
        ),
        {"t": table},
    ).scalars()
    return [str(definition) for definition in rows]


@dataclass(frozen=True)
class _Sequence:
    column: str
    name: str
    identity: bool
    last_value: int
    is_called: bool


def _sequences(connection: Connection, table: str) -> list[_Sequence]:
    """The sequence behind each serial or identity column, with its position."""
    rows = connection.execute(
        text(
            "SELECT attname, attidentity::text <> '', pg_get_serial_sequence(:t, attname) "
            "FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
            "AND NOT attisdropped"
        ),
        {"t": table},
    ).all()
    found = []
    for column, identity, sequence in rows:
        if sequence is None:
            continue
        last_value, is_called = connection.execute(
            text(f"SELECT last_value, is_called FROM {sequence}")
        ).one()
        found.append(_Sequence(str(column), str(sequence), bool(identity), last_value, is_called))
    return found


def _restore_sequence(connection: Connection, table: str, sequence: _Sequence) -> None:
    """Point the new table's column at a sequence in the old one's name and position."""
    if not sequence.identity:  # a serial default: the same sequence object moves over
        connection.execute(
            text(f'ALTER SEQUENCE {sequence.name} OWNED BY "{table}"."{sequence.column}"')
        )
        return
    fresh = connection.execute(
        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": sequence.column}
    ).scalar_one()
    connection.execute(
        text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
        {"s": fresh, "v": sequence.last_value, "called": sequence.is_called},
    )
    bare_name = sequence.name.rsplit(".", 1)[-1]
    if fresh != sequence.name:
        connection.execute(text(f"ALTER SEQUENCE {fresh} RENAME TO {bare_name}"))


def _stored_columns(connection: Connection, table: str) -> list[str]:
    """The columns that hold data (generated ones are recomputed), in table order."""
    return [
        str(name)
        for name in connection.execute(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
                "AND attnum > 0 AND NOT attisdropped AND attgenerated::text = '' ORDER BY attnum"
            ),
            {"t": table},
        ).scalars()
    ]


async def upgrade_partitioned(
    url: str | URL | None, partitions: int, revision: str = "head"
) -> None:
    """Upgrade to ``revision``, then partition by thread, in one locked transaction.

    Raises:
        ValidationError: ``partitions`` is out of range (nothing is run).
        MigrationError: see :func:`partition_by_thread`; nothing is changed.
    """
    from threadstore.migrations import run_on_url, upgrade_connection

    partitions = check_partitions(partitions)

    def migrate(connection: Connection, target: str) -> None:
        upgrade_connection(connection, target)
        partition_by_thread(connection, partitions)

    await run_on_url(url, migrate, revision)
