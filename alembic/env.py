"""Alembic environment for threadstore's schema (async, SQLite and PostgreSQL).

The database comes, in this order, from a connection handed over by code in
``config.attributes["connection"]`` (what ``threadstore.migrations`` does), from
``-x url=...``, or from the ``THREADSTORE_URL`` environment variable. Only
tables named ``threadstore_*`` are managed, so an application's own tables and
Alembic history can share the database.
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
from threadstore.migrations import VERSION_TABLE, include_object
from threadstore.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "version_table": VERSION_TABLE,
        "include_object": include_object,
        "render_as_batch": True,
        "compare_type": True,
        "compare_server_default": True,
    }


def _url_argument() -> str | None:
    url = context.get_x_argument(as_dictionary=True).get("url")
    return url or config.get_main_option("sqlalchemy.url") or None


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = resolve_url(_url_argument())
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
    context.configure(connection=connection, **_options())
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    """Connect with the async driver and run the migrations."""
    engine = create_engine(resolve_url(_url_argument()), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
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
