"""Run threadstore's Alembic revisions from code.

The revisions live in the repository's ``alembic/`` folder and ship inside the
wheel as ``threadstore/_alembic``; both run through the same ``env.py``. This
module is the one place that builds Alembic configurations and the one place
that opens the transaction a migration runs in (:func:`migration_transaction`).

Alembic is imported only when a migration runs or the revisions are walked:
a store whose database is at :data:`HEAD_REVISION` never loads it (with Mako
and Pygments, about 21,000 objects the garbage collector would walk in every
full collection, and 70 ms of import time).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from threadstore.config import redact_url, resolve_url
from threadstore.engine import SQLITE_BEGIN_OPTION, create_engine
from threadstore.errors import MigrationError, SchemaOutOfDateError
from threadstore.models.base import SEARCH_TABLE_PREFIX, TABLE_PREFIX
from threadstore.models.memory_items import EMBEDDING_ARRAY
from threadstore.partitioning import is_partition
from threadstore.schema_state import (
    VERSION_TABLE,
    SchemaState,
    current_revision,
    read_schema_state,
)
from threadstore.search_schema import SEARCH_COLUMNS, SEARCH_INDEXES

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.util import CommandError

    from threadstore.store.sql.threaded import ThreadedConnection, ThreadedEngine

__all__ = [
    "HEAD_REVISION",
    "VERSION_TABLE",
    "alembic_config",
    "context_options",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "include_object",
    "known_revisions",
    "migration_transaction",
    "run_on_url",
    "script_location",
    "unpooled_engine",
    "upgrade",
    "upgrade_connection",
]

logger = logging.getLogger("threadstore.migrations")

_PG_MIGRATION_LOCK = 0x7468_7265_6164  # "thread": one advisory lock key for all processes


@functools.cache
def script_location() -> str:
    """Return the folder holding ``env.py`` and ``versions/`` (looked up once per process)."""
    packaged = resources.files("threadstore") / "_alembic"
    if packaged.is_dir():
        return str(packaged)
    source_tree = Path(__file__).resolve().parents[2] / "alembic"
    if (source_tree / "env.py").is_file():
        return str(source_tree)
    raise MigrationError(
        "threadstore's migration scripts are not installed",
        suggestion="Reinstall threadstore from a wheel or run from the source repository.",
    )


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Limit Alembic to threadstore's own tables (and what belongs to them).

    The full-text search objects of revisions 0008 and 0011 (SQLite's FTS5
    table and its shadow tables, PostgreSQL's GIN indexes and generated
    tsvector column) have no model: left out, as is revision 0012's generated
    ``embedding_array`` of the long-term store's vectors (PostgreSQL).
    """
    if type_ == "table":
        # partitions of the opt-in layout (threadstore.partitioning) belong to their parent
        return bool(
            name
            and name.startswith(TABLE_PREFIX)
            and not name.startswith(SEARCH_TABLE_PREFIX)
            and not is_partition(name)
        )
    if type_ == "index" and name in SEARCH_INDEXES:
        return False
    if type_ == "column" and name in SEARCH_COLUMNS and obj.table.name == "threadstore_messages":
        return False
    if (
        type_ == "column"
        and name == EMBEDDING_ARRAY
        and obj.table.name == "threadstore_memory_vectors"
    ):
        return False
    if type_ == "index" and not reflected and getattr(obj, "_ddl_if", None) is not None:
        # A dialect-only index (e.g. PostgreSQL's GIN on metadata): Alembic ignores
        # ddl_if, so compare it only where it exists (tests check its use by EXPLAIN).
        return compare_to is not None
    return True


def context_options() -> dict[str, Any]:
    """Return the options ``env.py`` gives ``context.configure`` (besides the metadata).

    Tests that compare the models with a database use the same ones.
    """
    return {
        "version_table": VERSION_TABLE,
        "include_object": include_object,
        "render_as_batch": True,
        "compare_type": True,
        "compare_server_default": True,
    }


def alembic_config(connection: Connection | None = None, *, url: str | URL | None = None) -> Config:
    """Build an Alembic :class:`Config` for threadstore's revisions, without an ini file.

    Args:
        connection: A connection, already inside the transaction opened by
            :func:`migration_transaction`, for ``env.py`` to run on.
        url: Otherwise the database ``env.py`` connects to (None: ``THREADSTORE_URL``,
            then the embedded default).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location())
    if url is not None:
        rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    return config


HEAD_REVISION = "0013"
"""The newest revision this version of threadstore ships (``tests/migrations`` check it
against Alembic's reading of the revision files, so it cannot fall behind them)."""


def head_revision() -> str:
    """Return the revision this version of threadstore needs (:data:`HEAD_REVISION`)."""
    return HEAD_REVISION


def known_revisions() -> frozenset[str]:
    """Return the id of every revision this version of threadstore ships."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind ``connection`` to ``revision``.

    Open the transaction with :func:`migration_transaction` first: on SQLite
    it turns foreign-key actions off, which batch ALTERs need.
    """
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _downgrade_connection(connection: Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)


def _sqlite_foreign_keys(connection: Connection, enabled: bool | None = None) -> bool:
    """Read (and with ``enabled``, first set) SQLite's ``foreign_keys`` pragma."""
    cursor = connection.connection.cursor()
    try:
        if enabled is not None:
            cursor.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
        cursor.execute("PRAGMA foreign_keys")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return bool(row and row[0])


def _sqlite_broken_references(connection: Connection) -> list[str]:
    """Name the threadstore tables holding rows whose foreign key points nowhere."""
    tables = connection.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, :n) = :p"),
        {"n": len(TABLE_PREFIX), "p": TABLE_PREFIX},
    ).scalars()
    broken: set[str] = set()
    for table in list(tables):
        quoted = table.replace('"', '""')
        for row in connection.exec_driver_sql(f'PRAGMA foreign_key_check("{quoted}")'):
            broken.add(str(row[0]))
    return sorted(broken)


@contextlib.asynccontextmanager
async def migration_transaction(
    connection: AsyncConnection | ThreadedConnection,
) -> AsyncIterator[AsyncConnection | ThreadedConnection]:
    """Open the one transaction a migration runs in, one process at a time.

    PostgreSQL: the transaction takes an advisory lock shared by every
    process, so concurrent upgrades run one after the other. SQLite: foreign
    keys are switched off for the connection before the transaction begins
    (a batch ALTER recreates a table, and dropping a parent table with foreign
    keys on would cascade-delete its children), the transaction takes the
    write lock up front (``BEGIN IMMEDIATE``), and before committing a changed
    schema every threadstore table is checked for dangling references. The
    connection's previous ``foreign_keys`` setting is restored afterwards.

    Raises:
        MigrationError: ``connection`` is already in a transaction, or a
            migration left rows that reference nothing (the transaction is
            rolled back).
    """
    if connection.in_transaction():
        raise MigrationError(
            "a migration must open its own transaction",
            suggestion="Pass a connection on which no statement has run yet.",
        )
    sqlite = connection.dialect.name == "sqlite"
    foreign_keys = False
    if sqlite:
        foreign_keys = await connection.run_sync(_sqlite_foreign_keys)
        if foreign_keys:
            await connection.run_sync(_sqlite_foreign_keys, False)
        await connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            before = await connection.run_sync(current_revision) if sqlite else None
            yield connection
            if sqlite and await connection.run_sync(current_revision) != before:
                broken = await connection.run_sync(_sqlite_broken_references)
                if broken:
                    raise MigrationError(
                        f"the migration left rows with dangling references in {', '.join(broken)}",
                        suggestion="Fix the revision so it keeps or removes those rows; "
                        "nothing was changed.",
                    )
    finally:
        if foreign_keys and not connection.invalidated and not connection.closed:
            await connection.run_sync(_sqlite_foreign_keys, True)


def _needs_upgrade(state: SchemaState, head: str, auto_migrate: bool | None) -> bool:
    """Decide whether ``initialize()`` runs the revisions; raise when it must refuse."""
    if state.revision == head:
        return False
    state.check_known(known_revisions(), head)
    if auto_migrate is True or (auto_migrate is None and state.revision is None):
        return True
    found = "no threadstore schema" if state.revision is None else f"revision {state.revision}"
    creating = ""
    if auto_migrate is False and state.revision is None:
        creating = " (or leave auto_migrate at None, the default, which creates a missing schema)"
    raise SchemaOutOfDateError(
        f"the database has {found}; this threadstore needs revision {head}",
        suggestion="Run `alembic upgrade head` (repository) or `threadstore db upgrade "
        f"--url URL` (installed package) before starting, or pass auto_migrate=True{creating}.",
    )


async def ensure_schema(
    connection: AsyncConnection | ThreadedConnection, *, auto_migrate: bool | None = None
) -> str:
    """Check the schema and, where allowed, bring it to head; return the revision.

    ``auto_migrate``: None (the default) creates the schema on a database that
    holds no threadstore tables at all and only verifies any other; True also
    upgrades an older schema; False only verifies. Whether to migrate is
    decided again inside :func:`migration_transaction`, so processes that start
    together migrate once and all start; the one that migrates logs
    ``upgraded threadstore schema`` at INFO on ``threadstore.migrations``.
    ``connection`` must not be in a transaction yet.

    Raises:
        SchemaTooNewError: a newer threadstore migrated the database.
        SchemaOutOfDateError: the schema is not at head and may not be upgraded.
        MigrationError: threadstore tables exist without a revision.
    """
    head = head_revision()
    async with connection.begin():
        state = await connection.run_sync(read_schema_state)
    if not _needs_upgrade(state, head, auto_migrate):
        return head
    from alembic.util import CommandError

    try:
        async with migration_transaction(connection):
            state = await connection.run_sync(read_schema_state)
            if not _needs_upgrade(state, head, auto_migrate):
                return head  # another process migrated while this one waited for the lock
            logger.info("upgrading threadstore schema from %s to %s", state.revision, head)
            await connection.run_sync(upgrade_connection)
    except CommandError as exc:
        raise _alembic_failed(exc, redact_url(connection.engine.url)) from exc
    logger.info("upgraded threadstore schema from %s to %s", state.revision, head)
    return head


def _alembic_failed(exc: CommandError, where: str) -> MigrationError:
    return MigrationError(
        f"{exc} (database: {where})",
        suggestion="Run `threadstore db history` for the revisions this threadstore "
        "ships and `threadstore db current` for the database's.",
    )


def unpooled_engine(url: URL) -> AsyncEngine | ThreadedEngine:
    """An engine without a pool; on SQLite, the store's driver (see threadstore.sqlite_vector).

    Two copies of SQLite in one process ignore each other's locks, so a
    migration run next to an open store must use the store's SQLite library.
    """
    if url.get_backend_name() == "sqlite":
        from threadstore.store.sql.threaded import create_threaded_engine

        return create_threaded_engine(url, sqlite_vec=False, poolclass=NullPool)
    return create_engine(url, poolclass=NullPool)


async def run_on_url(url: str | URL | None, migrate: Any, revision: str) -> None:
    """Run ``migrate`` to ``revision`` in one locked transaction, after checking the state."""
    from alembic.util import CommandError

    resolved = resolve_url(url)
    where = redact_url(resolved)
    engine = unpooled_engine(resolved)
    try:
        async with engine.connect() as connection, migration_transaction(connection):
            state = await connection.run_sync(read_schema_state)
            state.check_known(known_revisions(), head_revision())
            await connection.run_sync(migrate, revision)
    except CommandError as exc:
        raise _alembic_failed(exc, where) from exc
    except Exception as exc:
        # imported here: threadstore.store imports this module
        from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error

        if isinstance(exc, DRIVER_ERRORS):
            raise translate_error(exc, where=where) from exc
        raise
    finally:
        await engine.dispose()
    logger.info("migrated %s to %s", where, revision)


async def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    """Upgrade the database at ``url`` (None: ``THREADSTORE_URL``, then the default).

    Raises:
        SchemaTooNewError: a newer threadstore migrated the database.
        MigrationError: an unknown target revision, or threadstore tables
            without a revision.
        PersistenceConnectionError: the database cannot be reached.
    """
    await run_on_url(url, upgrade_connection, revision)


async def downgrade(url: str | URL | None, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` removes everything).

    Raises:
        SchemaTooNewError: a newer threadstore migrated the database.
        MigrationError: an unknown or unreachable target revision.
        PersistenceConnectionError: the database cannot be reached.
    """
    await run_on_url(url, _downgrade_connection, revision)
