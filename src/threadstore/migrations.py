"""Run threadstore's Alembic revisions from code.

The revisions live in the repository's ``alembic/`` folder and ship inside the
wheel as ``threadstore/_alembic``; both run through the same ``env.py``.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from threadstore.errors import MigrationError, SchemaOutOfDateError
from threadstore.models.base import TABLE_PREFIX

__all__ = [
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "include_object",
    "script_location",
    "upgrade_connection",
]

logger = logging.getLogger("threadstore.migrations")

VERSION_TABLE = f"{TABLE_PREFIX}alembic_version"
_PG_MIGRATION_LOCK = 0x7468_7265_6164  # "thread": one advisory lock key for all processes


def script_location() -> str:
    """Return the folder holding ``env.py`` and ``versions/``."""
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
    """Limit Alembic to threadstore's own tables (and what belongs to them)."""
    if type_ == "table":
        return bool(name and name.startswith(TABLE_PREFIX))
    return True


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """Build an Alembic :class:`Config` for threadstore's revisions, without an ini file."""
    config = Config()
    config.set_main_option("script_location", script_location())
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    return config


def head_revision() -> str:
    """Return the revision this version of threadstore needs."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError("no migration revisions found")
    return head


def current_revision(connection: Connection) -> str | None:
    """Return the database's threadstore revision, or None if it has none."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind ``connection`` to ``revision``."""
    command.upgrade(alembic_config(connection), revision)


async def ensure_schema(connection: AsyncConnection, *, upgrade: bool) -> str:
    """Check (or, with ``upgrade``, bring) the schema to head and return the revision.

    With ``upgrade`` the work runs under a lock that every process shares (an
    advisory lock on PostgreSQL, the write lock on SQLite), so processes that
    start together migrate once and all start.

    Raises:
        SchemaOutOfDateError: the schema is not at head and ``upgrade`` is False.
    """
    head = head_revision()
    if connection.dialect.name == "postgresql" and upgrade:
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
        )
    current = await connection.run_sync(current_revision)
    if current == head:
        return head
    if not upgrade:
        found = "no threadstore schema" if current is None else f"revision {current}"
        raise SchemaOutOfDateError(
            f"the database has {found}; this threadstore needs revision {head}",
            suggestion="Run `alembic upgrade head` (repository) or `threadstore db upgrade "
            "--url URL` (installed package) before starting, or pass auto_migrate=True.",
        )
    logger.info("upgrading threadstore schema from %s to %s", current, head)
    await connection.run_sync(upgrade_connection)
    return head
