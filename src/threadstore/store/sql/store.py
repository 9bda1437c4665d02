"""SQLAlchemyStore: the contract on SQLite (aiosqlite) and PostgreSQL (asyncpg).

Only the lifecycle lives here; every data method is BaseStore's, running its
repository calls in a :class:`~threadstore.store.sql.unit.SqlUnit`.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from threadstore.clock import Clock, utcnow
from threadstore.config import URL_ENV_VAR, redact_url, resolve_url
from threadstore.engine import configure_sqlite, create_engine
from threadstore.errors import PersistenceError, ValidationError
from threadstore.migrations import current_revision, ensure_schema, head_revision
from threadstore.records import HealthRecord
from threadstore.store.base import BaseStore
from threadstore.store.locks import LoopLock
from threadstore.store.sql.checkpoint_queries import SaverStatements
from threadstore.store.sql.engines import LoopEngines
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error
from threadstore.store.sql.unit import SqlContext, SqlUnit, open_unit

__all__ = ["SQLAlchemyStore"]

logger = logging.getLogger("threadstore")


class SQLAlchemyStore(BaseStore):
    """A :class:`BaseStore` on a SQL database through SQLAlchemy's asyncio engine.

    The store may be called from several event loops and threads: see
    :mod:`threadstore.store.sql.engines` for how connections follow the loop.

    Args:
        url: Database URL (``sqlite+aiosqlite:///file.db`` or
            ``postgresql+asyncpg://...``); None reads ``THREADSTORE_URL``, then
            uses the embedded default ``sqlite+aiosqlite:///threadstore.db``.
        engine: An engine to borrow instead of a URL; it is never disposed here.
        auto_migrate: Let :meth:`initialize` upgrade the schema to head (under a
            lock shared by every process); False makes it only verify the
            revision. None (the default) upgrades only the embedded default
            database (no URL and no ``THREADSTORE_URL``), so a demo needs no
            manual step while a configured database is never changed silently.
        clock: Returns the current aware time; inject one in tests.
        **engine_options: Passed to ``create_async_engine`` (pool_size, ...).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        engine: AsyncEngine | None = None,
        auto_migrate: bool | None = None,
        clock: Clock | None = None,
        **engine_options: Any,
    ) -> None:
        if engine is not None:
            if url is not None or engine_options:
                raise ValidationError(
                    "pass either an engine or a URL with engine options, not both",
                    suggestion="Configure the engine you pass, or let the store create one.",
                )
            self._owns_engine = False
            if engine.dialect.name == "sqlite":
                configure_sqlite(engine)
        else:
            engine = create_engine(resolve_url(url), **engine_options)
            self._owns_engine = True
        self._engines = LoopEngines(engine)
        dialect = engine.dialect.name
        self._where = redact_url(engine.url)
        if auto_migrate is None:
            auto_migrate = self._owns_engine and url is None and not os.environ.get(URL_ENV_VAR)
        self._auto_migrate = auto_migrate
        self._ctx = SqlContext(
            dialect=dialect,
            where=self._where,
            clock=clock or utcnow,
            write_lock=LoopLock(),
            saver_statements=SaverStatements.build(dialect),
        )
        self._init_lock = LoopLock()
        self._revision: str | None = None
        self.backend_name = dialect

    def __repr__(self) -> str:
        return f"SQLAlchemyStore(url={self._where!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The engine this store runs on (on its first event loop)."""
        return self._engines.main

    def _open_unit(self, *, write: bool, block: bool) -> AbstractAsyncContextManager[SqlUnit]:
        return open_unit(self._ctx, self._engines, write=write, block=block)

    # -- lifecycle ------------------------------------------------------------

    async def initialize(self) -> None:
        """Verify the schema revision, or upgrade to head when ``auto_migrate`` is set.

        Raises:
            SchemaOutOfDateError: the schema is not at head and auto_migrate is off.
            PersistenceConnectionError: the database cannot be reached.
        """
        async with self._init_lock:
            if self._revision is not None:
                return
            try:
                async with (await self._engines.current()).connect() as conn:
                    self._revision = await ensure_schema(conn, upgrade=self._auto_migrate)
            except DRIVER_ERRORS as exc:
                raise translate_error(exc, where=self._where) from exc
            logger.info("threadstore ready on %s at revision %s", self._where, self._revision)

    async def close(self) -> None:
        """Dispose the engine if this store created it."""
        self._revision = None
        if self._owns_engine:
            await self._engines.main.dispose()
            self._engines.forget()

    async def health_check(self) -> HealthRecord:
        """See :meth:`BaseStore.health_check`; unhealthy when the schema is not at head."""
        started = time.perf_counter()
        revision: str | None = None
        error: str | None = None
        try:
            async with open_unit(self._ctx, self._engines, write=False, block=False) as unit:
                revision = await unit.run_sync(current_revision)
            head = head_revision()
            if revision != head:
                error = f"schema revision {revision} is not head {head}"
        except PersistenceError as exc:
            error = str(exc)
        return {
            "status": "healthy" if error is None else "unhealthy",
            "backend": self._ctx.dialect,
            "schema_revision": revision,
            "latency_ms": (time.perf_counter() - started) * 1000,
            "error": error,
        }
