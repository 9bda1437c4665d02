"""Online backup of a live SQLite database through SQLite's backup API.

The backup runs while other processes write: in WAL mode it reads one
consistent snapshot and never blocks writers. The copy is written next to
the destination and renamed into place once SQLite's integrity check passes.
PostgreSQL has its own tools (``pg_dump``); see docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import URL

from threadstore.config import redact_url, resolve_url
from threadstore.errors import DatabaseFileError, ValidationError
from threadstore.sqlite_vector import sqlite_driver

__all__ = ["BackupSummary", "backup_database"]

logger = logging.getLogger("threadstore.transfer")

POSTGRES_ADVICE = (
    "For PostgreSQL use pg_dump on threadstore's tables, e.g. "
    "`pg_dump --format=custom -t 'threadstore_*' -f threadstore.dump DBNAME` "
    "(restore with pg_restore), or the portable `threadstore export --url URL FILE`."
)


@dataclass(frozen=True)
class BackupSummary:
    """Where the backup went and its size in bytes."""

    path: Path
    size: int


def _source_path(url: URL) -> Path:
    if url.get_backend_name() != "sqlite":
        raise ValidationError(
            f"`backup` copies SQLite files; {redact_url(url)} is a {url.get_backend_name()} "
            "database",
            suggestion=POSTGRES_ADVICE,
        )
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ValidationError(
            "backup needs a SQLite database file",
            suggestion="Pass --url sqlite+aiosqlite:///path/to/app.db.",
        )
    path = Path(database)
    if not path.is_file():
        raise DatabaseFileError(
            f"the SQLite database file {database} does not exist",
            suggestion="Check the path in --url.",
        )
    return path


def _backup(source: Path, partial: Path, pages: int, driver: ModuleType) -> None:
    """Copy ``source`` to ``partial`` (SQLite backup API), then check the copy."""
    src = driver.connect(source, timeout=30)
    try:
        dest = driver.connect(partial)
        try:
            src.backup(dest, pages=pages)
            row = dest.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise DatabaseFileError(
                    f"the backup of {source} failed SQLite's integrity check ({row})",
                    suggestion="Check the source with `sqlite3 FILE 'PRAGMA integrity_check'`.",
                )
        finally:
            dest.close()
    finally:
        src.close()


async def backup_database(
    url: str | URL,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    pages: int = -1,
) -> BackupSummary:
    """Copy the live SQLite database at ``url`` to the file ``path``.

    Args:
        url: A ``sqlite+aiosqlite:///`` URL naming an existing file.
        path: The backup file to create.
        overwrite: Replace ``path`` if it exists.
        pages: Pages per backup step; -1 (the default) copies in one step, which
            in WAL mode is one consistent snapshot that never waits for writers.

    Raises:
        ValidationError: a PostgreSQL or in-memory URL, or ``path`` exists.
        DatabaseFileError: the source is missing, unreadable, or the copy is damaged.
    """
    return await asyncio.to_thread(_run, resolve_url(url), Path(path), overwrite, pages)


def _run(url: URL, target: Path, overwrite: bool, pages: int) -> BackupSummary:
    source = _source_path(url)
    if target.exists() and not overwrite:
        raise ValidationError(
            f"the backup file {target} already exists",
            suggestion="Choose another file name, or pass --force to replace it.",
        )
    if target.resolve() == source.resolve():
        raise ValidationError(
            "the backup file is the database itself", suggestion="Name another file."
        )
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    driver = sqlite_driver()  # the store's SQLite library: one set of POSIX locks
    try:
        _backup(source, partial, pages, driver)
    except driver.Error as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseFileError(
            f"backing up {source} failed: {exc}",
            suggestion="Check that the file is a SQLite database and the folders are writable.",
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    size = target.stat().st_size
    logger.info("backed up %s to %s (%d bytes)", source, target, size)
    return BackupSummary(path=target, size=size)
