"""What a database holds of threadstore's schema, read without changing anything.

:func:`read_schema_state` is what ``initialize()``, ``threadstore db`` and the
migration functions look at before they touch a database: the revision in
``threadstore_alembic_version`` and the ``threadstore_*`` tables that exist.
:meth:`SchemaState.check_known` refuses the two states no revision can start
from: a revision this code does not ship (a newer threadstore migrated the
database) and tables without a revision (a half-made schema).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import column, inspect, literal, select, table
from sqlalchemy.engine import Connection

from threadstore.__about__ import __version__
from threadstore.errors import MigrationError, SchemaTooNewError
from threadstore.models.base import SEARCH_TABLE_PREFIX, TABLE_PREFIX

__all__ = [
    "VERSION_TABLE",
    "SchemaState",
    "current_revision",
    "read_schema_state",
    "tables_with_rows",
]

VERSION_TABLE = f"{TABLE_PREFIX}alembic_version"


def current_revision(connection: Connection) -> str | None:
    """Return the database's threadstore revision, or None if it has none.

    Raises:
        MigrationError: the version table holds more than one revision.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = table(VERSION_TABLE, column("version_num"))
    found = list(connection.execute(select(versions.c.version_num)).scalars())
    if len(found) > 1:
        raise MigrationError(
            f"{VERSION_TABLE} holds more than one revision ({', '.join(sorted(found))})",
            suggestion=f"Keep the one row of {VERSION_TABLE} that names the schema's revision.",
        )
    return found[0] if found else None


@dataclass(frozen=True)
class SchemaState:
    """What a database holds of threadstore's schema.

    Attributes:
        revision: The revision in the version table (None: no row, or no table).
        tables: threadstore's tables besides the version table, sorted.
    """

    revision: str | None
    tables: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Whether the database holds no threadstore schema at all."""
        return self.revision is None and not self.tables

    def check_known(self, known: frozenset[str], head: str) -> None:
        """Refuse a schema that no revision of this code can start from.

        Args:
            known: Every revision this code ships.
            head: The newest of them.

        Raises:
            SchemaTooNewError: the revision is not in ``known`` (a newer
                threadstore migrated the database).
            MigrationError: threadstore tables exist without a revision (a
                half-made schema, or one made by ``create_all``).
        """
        if self.revision is not None and self.revision not in known:
            raise SchemaTooNewError(
                f"the database is at threadstore revision {self.revision!r}, which "
                f"threadstore {__version__} (newest revision {head}) does not know: a newer "
                "threadstore migrated it, and this code is older than the schema"
            )
        if self.revision is None and self.tables:
            raise MigrationError(
                f"the database holds threadstore tables ({', '.join(self.tables)}) but no "
                f"revision in {VERSION_TABLE}: the schema is half-made or was not made by "
                "threadstore's migrations (create_all), so threadstore will not guess it",
                suggestion="Drop the threadstore_* tables to start afresh (the next start "
                "creates them), or, if they match a release's schema exactly, record its "
                "revision with `alembic -x url=URL stamp REV` from the repository.",
            )


def read_schema_state(connection: Connection) -> SchemaState:
    """Read the revision and the threadstore tables; never creates anything."""
    names = inspect(connection).get_table_names()
    tables = sorted(
        n
        for n in names
        if n.startswith(TABLE_PREFIX)
        and n != VERSION_TABLE
        and not n.startswith(SEARCH_TABLE_PREFIX)
    )
    return SchemaState(revision=current_revision(connection), tables=tuple(tables))


def tables_with_rows(connection: Connection, tables: tuple[str, ...]) -> list[str]:
    """Name the ``tables`` that hold at least one row (one ``LIMIT 1`` probe each)."""
    return [
        name
        for name in tables
        if connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first()
    ]
