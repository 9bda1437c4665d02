"""Connections for moving data: engines by URL, translated errors, deferred fork links."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import URL, Connection

from threadstore.config import is_memory_url, redact_url, resolve_url
from threadstore.engine import SQLITE_BEGIN_OPTION
from threadstore.errors import DatabaseFileError, PersistenceError, ValidationError
from threadstore.migrations import unpooled_engine
from threadstore.sqlite_files import database_path, missing_file
from threadstore.store.sql.connections import Engine
from threadstore.transfer.tables import SelfReference, link_statement, primary_key, self_references

__all__ = ["Database", "Linker", "ProgressCallback", "open_database"]

logger = logging.getLogger("threadstore.transfer")

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(table, rows_done, rows_total)`` after each batch."""


class Database:
    """An engine for one database, with its redacted name for messages."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.where = redact_url(url)
        self.dialect = url.get_backend_name()
        # SQLite on the store's driver: a second SQLite library in this process
        # would not see an open store's locks (threadstore.sqlite_vector)
        self.engine: Engine = unpooled_engine(url)

    @contextlib.asynccontextmanager
    async def translated(self) -> AsyncIterator[None]:
        """Turn driver exceptions raised inside into threadstore errors (cause kept)."""
        from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error

        try:
            yield
        except PersistenceError:
            raise
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, where=self.where, database=self.url.database) from exc
        except Exception as exc:  # asyncpg's own, raised by COPY outside SQLAlchemy
            if not type(exc).__module__.startswith("asyncpg"):
                raise
            raise translate_error(exc, where=self.where, database=self.url.database) from exc

    def write_options(self) -> dict[str, Any]:
        """Execution options of a connection that writes (SQLite takes the lock up front)."""
        return {SQLITE_BEGIN_OPTION: "IMMEDIATE"} if self.dialect == "sqlite" else {}

    def read_options(self) -> dict[str, Any]:
        """Execution options of a reader that wants one consistent snapshot."""
        return {"isolation_level": "REPEATABLE READ"} if self.dialect == "postgresql" else {}

    async def dispose(self) -> None:
        """Close the engine."""
        await self.engine.dispose()


@contextlib.asynccontextmanager
async def open_database(url: str | URL, *, role: str = "database") -> AsyncIterator[Database]:
    """Open a SQL database by URL for moving data; disposed on exit.

    Raises:
        ValidationError: a ``memory://`` URL or an unsupported one.
    """
    if isinstance(url, str) and is_memory_url(url):
        raise ValidationError(
            f"memory:// cannot be the {role} of a transfer: it lives inside one process",
            suggestion="Name a SQLite file or a PostgreSQL database.",
        )
    resolved = resolve_url(url)
    if resolved.get_backend_name() == "sqlite":
        path = database_path(resolved.render_as_string(hide_password=False))
        why = missing_file(path) if path is not None else "an in-memory database keeps nothing"
        if why is not None:
            raise DatabaseFileError(
                f"the {role} SQLite database {redact_url(resolved)} cannot be used: {why}",
                suggestion="Check the path; a target must be created and migrated first "
                "(`threadstore db upgrade --url URL`).",
            )
    database = Database(resolved)
    try:
        yield database
    finally:
        await database.dispose()


class Linker:
    """Sets self-referencing columns (fork parents) once their table has moved.

    Rows are written with those columns NULL; :meth:`defer` remembers each
    row's key and value, and :meth:`apply` sets the links whose referred row
    exists in the target, leaving the others NULL (a partial export whose
    parent thread was not included).
    """

    def __init__(self, table: Table, *, only_unset: bool) -> None:
        self.table = table
        self.refs: list[SelfReference] = self_references(table)
        self.only_unset = only_unset
        self._key = primary_key(table)
        self._pending: dict[str, list[dict[str, Any]]] = {ref.column.name: [] for ref in self.refs}

    def defer(self, row: dict[str, Any]) -> dict[str, Any]:
        """Return ``row`` (keyed by column key) with its self-references set aside."""
        if not self.refs:
            return row
        row = dict(row)
        for ref in self.refs:
            value = row.get(ref.column.key)
            if value is not None:
                params = {f"key_{c.name}": row[c.key] for c in self._key}
                params["link_value"] = value
                self._pending[ref.column.name].append(params)
                row[ref.column.key] = None
        return row

    def apply(self, connection: Connection) -> tuple[int, int]:
        """Set the deferred links; return (set, dropped because the target was missing)."""
        linked = dropped = 0
        for ref in self.refs:
            pending = self._pending[ref.column.name]
            if not pending:
                continue
            statement = link_statement(self.table, ref, only_unset=self.only_unset)
            for params in pending:
                result = connection.execute(statement, params)
                changed = int(getattr(result, "rowcount", 0) or 0)
                linked += changed
                dropped += 1 - changed
            pending.clear()
        if dropped:
            logger.warning(
                "%s: %d %s link(s) left unset: the referred row is not in the target",
                self.table.name,
                dropped,
                "/".join(ref.column.name for ref in self.refs),
            )
        return linked, dropped

    @staticmethod
    def columns(refs: Sequence[SelfReference]) -> list[str]:
        """The names of the deferred columns."""
        return [ref.column.name for ref in refs]
