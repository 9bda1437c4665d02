"""SQLAlchemyStore: the contract on SQLite (aiosqlite) and PostgreSQL (asyncpg).

Only the lifecycle lives here; every data method is BaseStore's, running its
repository calls in a :class:`~threadstore.store.sql.unit.SqlUnit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import Select, String, literal_column, select, table, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from threadstore import sqlite_files
from threadstore.clock import Clock, check_clock
from threadstore.config import redact_url, replica_urls, resolve_url, split_pgbouncer
from threadstore.engine import configure_sqlite, create_engine
from threadstore.engine_options import pgbouncer_options
from threadstore.errors import PersistenceError, SchemaOutOfDateError, ValidationError
from threadstore.migrations import VERSION_TABLE, ensure_schema, head_revision
from threadstore.records import HealthRecord
from threadstore.sqlite_vector import check_sqlite_vec
from threadstore.store.base import BaseStore
from threadstore.store.health import DEFAULT_TIMEOUT, Probe, check_timeout, run_probe, settle
from threadstore.store.locks import LoopLock
from threadstore.store.sql.checkpoint_queries import SaverStatements
from threadstore.store.sql.direct import DirectStatements
from threadstore.store.sql.engines import LoopEngines
from threadstore.store.sql.group_commit import GroupCommit
from threadstore.store.sql.replicas import DEFAULT_MAX_LAG, ReplicaSet
from threadstore.store.sql.routing import open_unit
from threadstore.store.sql.threaded import ThreadedEngine, create_threaded_engine
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error
from threadstore.store.sql.unit import SqlUnit
from threadstore.store.sql.unit_context import SqlContext

__all__ = ["SQLAlchemyStore"]

logger = logging.getLogger("threadstore")


class _RolledBack(Exception):
    """Raised inside a unit to roll it back on purpose."""


_VERSION_QUERY: Select[str] = select(literal_column("version_num", String())).select_from(
    table(VERSION_TABLE)
)
"""Read the schema revision without Alembic's MigrationContext (which logs at INFO)."""


class SQLAlchemyStore(BaseStore):
    """A :class:`BaseStore` on a SQL database through SQLAlchemy's asyncio engine.

    The store may be called from several event loops and threads: see
    :mod:`threadstore.store.sql.engines` for how connections follow the loop.

    Args:
        url: Database URL (``sqlite+aiosqlite:///file.db`` or
            ``postgresql+asyncpg://...``); None reads ``THREADSTORE_URL``, then
            uses the embedded default ``sqlite+aiosqlite:///threadstore.db``.
        engine: An engine to borrow instead of a URL; it is never disposed here.
        auto_migrate: What :meth:`initialize` may do to the schema (under a lock
            shared by every process). None (the default): create it at head on
            a database holding no threadstore tables at all, verify any other.
            True: also upgrade an older schema. False: only verify.
        clock: Returns the current aware time; inject one in tests.
        pgbouncer: The URL reaches PostgreSQL through PgBouncer in transaction
            pooling mode (also ``?pgbouncer=true`` in the URL): no statement
            caches, uniquely named statements, every statement inside a
            transaction, and no migrations through it (see ``migration_url``).
        migration_url: A direct (not pooled) URL of the same database on which
            :meth:`initialize` runs migrations; without it a store behind
            PgBouncer only verifies the schema.
        read_replicas: URLs of PostgreSQL streaming standbys of the primary
            (None reads ``THREADSTORE_READ_REPLICAS``, comma-separated): thread
            lists, message pages and stats may be served by one, read-your-writes
            per store (see :mod:`threadstore.store.sql.replicas`).
        replica_max_lag: Seconds a replica may trail the primary and still serve reads.
        group_commit: SQLite only: concurrent one-call writes queued behind each
            other share one transaction and one commit, each in its own
            savepoint (see docs/transactions.md). Pass False to commit each
            call on its own.
        sqlite_vec: SQLite only: load the sqlite-vec extension, so LangGraph
            long-term store searches rank in SQL (see
            :mod:`threadstore.sqlite_vector`). None (the default): when the
            ``sqlite-vec`` extra is installed and ``THREADSTORE_SQLITE_VEC``
            is not ``0``; True: required; False: never.
            Ignored on PostgreSQL, which ranks those searches in Python.
        **engine_options: Passed to ``create_async_engine`` (pool_size, ...).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        engine: AsyncEngine | ThreadedEngine | None = None,
        auto_migrate: bool | None = None,
        clock: Clock | None = None,
        pgbouncer: bool | None = None,
        migration_url: str | URL | None = None,
        read_replicas: Sequence[str | URL] | None = None,
        replica_max_lag: float = DEFAULT_MAX_LAG,
        group_commit: bool = True,
        sqlite_vec: bool | None = None,
        **engine_options: Any,
    ) -> None:
        clock = check_clock(clock)
        if pgbouncer not in (None, True, False):
            raise ValidationError(
                f"pgbouncer must be True or False, not {pgbouncer!r}",
                suggestion="Pass pgbouncer=True when the URL points at PgBouncer.",
            )
        if engine is not None:
            if url is not None or engine_options or sqlite_vec is not None:
                raise ValidationError(
                    "pass either an engine or a URL with engine options, not both",
                    suggestion="Configure the engine you pass, or let the store create one.",
                )
            self._owns_engine = False
            if isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite":
                configure_sqlite(engine)
        else:
            resolved, in_url = split_pgbouncer(resolve_url(url))
            pgbouncer = in_url if pgbouncer is None else pgbouncer
            primary_options = engine_options
            if pgbouncer:
                _require_postgres(resolved, "pgbouncer=True")
                primary_options = pgbouncer_options(engine_options)
            if resolved.get_backend_name() == "sqlite":
                engine = create_threaded_engine(resolved, sqlite_vec=sqlite_vec, **primary_options)
            else:
                check_sqlite_vec(sqlite_vec)  # and ignore it: the same code runs on every URL
                engine = create_engine(resolved, **primary_options)
            self._owns_engine = True
        replicas = replica_urls(read_replicas)
        if replicas:
            _require_postgres(engine.url, "read_replicas")
        self._replicas = ReplicaSet(replicas, engine_options, max_lag=replica_max_lag)
        self._pgbouncer = bool(pgbouncer)
        self._engines = LoopEngines(engine, read_lane=self._owns_engine)
        dialect = engine.dialect.name
        self._where = redact_url(engine.url)
        if auto_migrate not in (None, True, False):
            raise ValidationError(
                f"auto_migrate must be None, True or False, not {auto_migrate!r}",
                suggestion="Leave it at None to create a missing schema, or pass True/False.",
            )
        self._migration_url = None if migration_url is None else resolve_url(migration_url)
        if self._migration_url is not None:
            _require_postgres(self._migration_url, "migration_url")
        if self._pgbouncer and auto_migrate and self._migration_url is None:
            raise ValidationError(
                "auto_migrate=True cannot migrate through PgBouncer",
                suggestion="Pass migration_url= a direct URL of the same database, or run "
                "`threadstore db upgrade --url DIRECT_URL` before starting.",
            )
        self._auto_migrate = auto_migrate
        self._ctx = SqlContext(
            autocommit=not self._pgbouncer,
            dialect=dialect,
            where=self._where,
            database=engine.url.database,
            clock=clock,
            write_lock=LoopLock(),
            saver_statements=SaverStatements.build(dialect),
            replicas=self._replicas or None,
            group_commit=GroupCommit() if group_commit and dialect == "sqlite" else None,
            direct=DirectStatements(engine.dialect),
            sqlite_vec=isinstance(engine, ThreadedEngine) and engine.sqlite_vec,
        )
        self._init_lock = LoopLock()
        self._revision: str | None = None
        self._abandoned_probes: set[asyncio.Task[None]] = set()
        self._head: str | None = None  # read from the revision files once, on first probe
        self.backend_name = dialect

    def __repr__(self) -> str:
        return f"SQLAlchemyStore(url={self._where!r})"

    @property
    def engine(self) -> AsyncEngine | ThreadedEngine:
        """The engine this store runs on (PostgreSQL: on its first event loop)."""
        return self._engines.main

    def _open_unit(
        self, *, write: bool, block: bool, may_lag: bool = False
    ) -> AbstractAsyncContextManager[SqlUnit]:
        return open_unit(self._ctx, self._engines, write=write, block=block, may_lag=may_lag)

    # -- lifecycle ------------------------------------------------------------

    async def initialize(self) -> None:
        """Check the schema; create it on an empty database, upgrade it if allowed.

        See ``auto_migrate`` in the class description. On SQLite, also check
        that the file can be written; a missing folder is never created.

        Raises:
            SchemaTooNewError: a newer threadstore migrated the database.
            SchemaOutOfDateError: the schema is not at head and may not be upgraded.
            MigrationError: threadstore tables exist without a revision.
            DatabaseFileError: the SQLite file or its folder cannot be used.
            PersistenceConnectionError: the database cannot be reached.
        """
        async with self._init_lock:
            if self._revision is not None:
                return
            revision = await self._ensure_schema()
            if self._ctx.dialect == "sqlite":
                await self._check_sqlite_writable()
            self._revision = revision
            logger.info("threadstore ready on %s at revision %s", self._where, self._revision)

    async def _ensure_schema(self) -> str:
        """Check (and where allowed, migrate) the schema: directly, never through PgBouncer."""
        if self._migration_url is not None:
            direct = create_engine(self._migration_url, poolclass=NullPool)
            where = redact_url(self._migration_url)
            try:
                async with direct.connect() as conn:
                    return await ensure_schema(conn, auto_migrate=self._auto_migrate)
            except DRIVER_ERRORS as exc:
                raise translate_error(exc, where=where, database=direct.url.database) from exc
            finally:
                await direct.dispose()
        engine = await self._engines.current()
        auto_migrate = False if self._pgbouncer else self._auto_migrate
        try:
            async with engine.connect() as conn:
                return await ensure_schema(conn, auto_migrate=auto_migrate)
        except SchemaOutOfDateError as exc:
            if not self._pgbouncer or type(exc) is not SchemaOutOfDateError:
                raise
            raise SchemaOutOfDateError(
                f"{exc.message}; migrations do not run through PgBouncer",
                suggestion="Pass migration_url= a direct URL of the same database, or run "
                "`threadstore db upgrade --url DIRECT_URL` first.",
            ) from exc
        except DRIVER_ERRORS as exc:
            raise translate_error(
                exc, where=self._where, database=self._ctx.database, pool=engine.pool
            ) from exc

    async def close(self) -> None:
        """Dispose the engine if this store created it."""
        self._revision = None
        await settle(self._abandoned_probes)
        await self._replicas.dispose()
        await self._engines.close_lane()
        if self._owns_engine:
            await self._engines.main.dispose()
            self._engines.forget()
            if isinstance(self._engines.main, ThreadedEngine):
                self._engines.main.shutdown()

    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """See :meth:`BaseStore.health_check`.

        Unhealthy when the database does not answer within ``timeout``, the
        schema is not at head, or (SQLite) the file cannot be written. Checks:
        ``connected``, ``schema_at_head`` and, on SQLite, ``writable``. With read
        replicas, ``replicas`` reports each one's state and lag.
        """
        return await run_probe(
            self._probe,
            backend=type(self).__name__,
            dialect=self._ctx.dialect,
            timeout=check_timeout(timeout),
            abandoned=self._abandoned_probes,
        )

    async def _probe(self, found: Probe) -> None:
        found.checks.update(connected=False, schema_at_head=False)
        path = None
        if self._ctx.dialect == "sqlite":
            found.checks["writable"] = False
            path = sqlite_files.database_path(self._where)
        missing = sqlite_files.missing_file(path) if path is not None else None
        if missing is not None:  # never let a probe create the database file
            found.error = f"cannot use the SQLite database {path}: {missing}"
            return
        rows: Sequence[str] = []
        try:
            async with open_unit(self._ctx, self._engines, write=False, block=False) as unit:
                rows = (await unit.execute(_VERSION_QUERY)).scalars().all()
        except SchemaOutOfDateError:
            pass  # connected, but there is no version table
        found.checks["connected"] = True
        found.schema_revision = ",".join(sorted(rows)) or None
        if self._head is None:
            self._head = head_revision()
        found.checks["schema_at_head"] = found.schema_revision == self._head
        if found.schema_revision != self._head:
            current = found.schema_revision or "no threadstore schema"
            found.error = f"the database has {current}; this threadstore needs {self._head}"
        if self._ctx.dialect == "sqlite":
            try:
                await self._check_sqlite_writable()
                found.checks["writable"] = True
            except PersistenceError as exc:
                found.error = found.error or str(exc)
        if self._replicas:
            found.replicas = await self._replicas.health()

    async def _check_sqlite_writable(self) -> None:
        """Prove the SQLite database can be written, without writing anything.

        Takes the write lock (``BEGIN IMMEDIATE``, which SQLite quietly turns
        into a read transaction on a read-only file), rewrites the header's
        ``user_version`` with its own value and rolls back: SQLite itself says
        whether it can write, and the error names the file's problem.

        Raises:
            DatabaseFileError: the file or its folder is read-only.
        """
        with contextlib.suppress(_RolledBack):  # raised below only to roll the probe back
            async with open_unit(self._ctx, self._engines, write=True, block=False) as unit:
                result = await unit.execute(text("PRAGMA user_version"), write=True)
                version = int(result.scalar_one())
                await unit.execute(text(f"PRAGMA user_version = {version}"), write=True)
                raise _RolledBack


def _require_postgres(url: URL, option: str) -> None:
    if url.get_backend_name() != "postgresql":
        raise ValidationError(
            f"{option} applies to PostgreSQL, not {url.get_backend_name()}",
            suggestion=f"Drop {option} for this URL.",
        )
