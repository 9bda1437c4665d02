"""Alembic environment for threadstore's schema (async, SQLite and PostgreSQL).

The database comes, in this order, from a connection handed over by code in
``config.attributes["connection"]`` (what ``threadstore.migrations`` does), from
``-x url=...`` (or ``sqlalchemy.url``, which ``threadstore db --url`` sets), or
from the ``THREADSTORE_URL`` environment variable, else the embedded default.
Only tables named ``threadstore_*`` are managed and the version table is
``threadstore_alembic_version``, so an application's own tables and Alembic
history can share the database. ``-x partitions=N`` (PostgreSQL) also
hash-partitions the thread-scoped tables by thread: see
``threadstore.partitioning``.

Every online run happens inside ``threadstore.migrations.migration_transaction``:
one process at a time, and on SQLite with foreign keys off so that batch ALTERs
(which recreate tables) never cascade-delete child rows.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from threadstore.config import resolve_url
from threadstore.engine import create_engine
from threadstore.errors import MigrationError, ValidationError
from threadstore.migrations import context_options, migration_transaction
from threadstore.models import Base
from threadstore.partitioning import partition_by_thread
from threadstore.search_schema import require_sqlite_module, search_language

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _options() -> dict[str, Any]:
    return {"target_metadata": target_metadata, **context_options()}


def _x(name: str) -> str | None:
    value = context.get_x_argument(as_dictionary=True).get(name)
    return str(value) if value else None


def _url_argument() -> str | None:
    url = _x("url")
    return url or config.get_main_option("sqlalchemy.url") or None


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = resolve_url(_url_argument())
    config.attributes["search_language"] = search_language(_x("search_language"))
    context.configure(
        dialect_name=url.get_backend_name(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on a synchronous connection."""
    if connection.dialect.name == "sqlite" and _sqlite_foreign_keys_on(connection):
        raise MigrationError(
            "SQLite foreign keys are on for the migration's connection",
            suggestion="Open the transaction with threadstore.migrations.migration_transaction "
            "(batch ALTERs would otherwise cascade-delete child rows).",
        )
    if connection.dialect.name == "sqlite":
        require_sqlite_module(connection, "fts5")  # revision 0008's search index
    # revision 0008 reads the checked language from here
    config.attributes["search_language"] = search_language(_x("search_language"), connection)
    context.configure(connection=connection, **_options())
    with context.begin_transaction():
        context.run_migrations()
        partitions = context.get_x_argument(as_dictionary=True).get("partitions")
        if partitions:  # ``-x partitions=N``: the opt-in layout of threadstore.partitioning
            partition_by_thread(connection, _count(partitions))


def _count(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError(
            f"-x partitions must be an integer, got {value!r}",
            suggestion="Pass e.g. `alembic -x partitions=16 upgrade head`.",
        ) from None


def _sqlite_foreign_keys_on(connection: Connection) -> bool:
    return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


async def run_async_migrations() -> None:
    """Connect with the async driver and run the migrations in one locked transaction."""
    engine = create_engine(resolve_url(_url_argument()), poolclass=NullPool)
    try:
        async with engine.connect() as connection, migration_transaction(connection):
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Use the connection handed over by code, or open one from the URL."""
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
