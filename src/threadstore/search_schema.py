"""What revision 0008's full-text search needs from a database, checked before migrating.

``env.py`` calls these before every run: SQLite must have the FTS5 module,
and the PostgreSQL text search configuration must be a name the database
knows. Both failures are a :class:`~threadstore.errors.MigrationError` with
a suggestion, raised before anything is changed.
"""

from __future__ import annotations

import os
import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

from threadstore.errors import MigrationError

__all__ = [
    "SEARCH_COLUMNS",
    "SEARCH_INDEXES",
    "SEARCH_LANGUAGE_ENV_VAR",
    "require_sqlite_module",
    "search_language",
]

SEARCH_INDEXES = frozenset({"ix_threadstore_messages_search", "ix_threadstore_threads_search"})
"""PostgreSQL's GIN search indexes (revision 0008; 0011 moves the messages' onto a column)."""

SEARCH_COLUMNS = frozenset({"search_vector"})
"""PostgreSQL's generated tsvector column of ``threadstore_messages`` (revision 0011); no model."""


def require_sqlite_module(connection: Connection, module: str = "fts5") -> None:
    """Refuse to migrate SQLite without a virtual-table module the schema needs (FTS5).

    ``env.py`` calls it before every SQLite run: revision 0008's full-text
    index is an FTS5 table. The probe is a TEMP table, dropped at once.

    Raises:
        MigrationError: this SQLite build lacks the module.
    """
    if not module.isidentifier():
        raise ValueError(module)
    probe = f"temp.threadstore_{module}_probe"
    try:
        connection.exec_driver_sql(f"CREATE VIRTUAL TABLE {probe} USING {module}(x)")
    except Exception as exc:  # the driver's OperationalError, wrapped by SQLAlchemy
        if "no such module" not in str(exc):
            raise
        raise MigrationError(
            f"this SQLite build has no {module.upper()} module, which threadstore's full-text "
            "search (revision 0008) needs",
            suggestion="Use a Python whose sqlite3 includes FTS5 (python.org, Debian/Ubuntu "
            'and Homebrew builds do), or PostgreSQL. Check with: python -c "import sqlite3; '
            "sqlite3.connect(':memory:').execute('CREATE VIRTUAL TABLE t USING fts5(x)')\"",
        ) from exc
    connection.exec_driver_sql(f"DROP TABLE {probe}")


SEARCH_LANGUAGE_ENV_VAR = "THREADSTORE_SEARCH_LANGUAGE"
_LANGUAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def search_language(chosen: str | None, connection: Connection | None = None) -> str:
    """The PostgreSQL text search configuration revision 0008 indexes messages with.

    ``chosen`` comes from ``-x search_language=``; else ``THREADSTORE_SEARCH_LANGUAGE``;
    else ``simple``. With a PostgreSQL ``connection`` it must exist there.

    Raises:
        MigrationError: not a configuration name, or not one the database has.
    """
    language = chosen or os.environ.get(SEARCH_LANGUAGE_ENV_VAR) or "simple"
    advice = (
        f"Pass -x search_language=NAME (or set {SEARCH_LANGUAGE_ENV_VAR}) to one of "
        "`SELECT cfgname FROM pg_ts_config`; simple (the default) works for any language."
    )
    if not _LANGUAGE.match(language):
        raise MigrationError(
            f"search language {language!r} is not a text search configuration name",
            suggestion=advice,
        )
    if connection is not None and connection.dialect.name == "postgresql":
        query = text("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = :name)")
        if not connection.execute(query, {"name": language.split(".")[-1]}).scalar():
            raise MigrationError(
                f"PostgreSQL has no text search configuration {language!r}", suggestion=advice
            )
    return language
