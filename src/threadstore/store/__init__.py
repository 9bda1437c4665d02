"""Store implementations and the factory that picks one from a URL."""

from __future__ import annotations

import logging
import os
from typing import Any

from sqlalchemy.engine import URL

from threadstore.config import URL_ENV_VAR, is_memory_url
from threadstore.engine_options import check_engine_options
from threadstore.sqlite_vector import check_sqlite_vec
from threadstore.store.base import BaseStore
from threadstore.store.memory import MemoryStore
from threadstore.store.sql import SQLAlchemyStore

__all__ = ["BaseStore", "MemoryStore", "SQLAlchemyStore", "create_store"]

logger = logging.getLogger("threadstore")


def create_store(url: str | URL | None = None, **options: Any) -> BaseStore:
    """Return the store for ``url``.

    ``memory://`` gives a :class:`MemoryStore`; ``sqlite+aiosqlite:///path`` and
    ``postgresql+asyncpg://...`` give a :class:`SQLAlchemyStore`. ``None`` reads
    the ``THREADSTORE_URL`` environment variable, then falls back to the embedded
    default ``sqlite+aiosqlite:///threadstore.db``. ``options`` go to the store
    (``auto_migrate`` is accepted and ignored for ``memory://``).

    Raises:
        ValidationError: the URL names an unsupported backend or driver.
    """
    chosen = url if url is not None else os.environ.get(URL_ENV_VAR)
    if is_memory_url(chosen):
        return MemoryStore(**_memory_options(options))
    return SQLAlchemyStore(chosen, **options)


_SCALE_OUT_OPTIONS = ("migration_url", "pgbouncer", "read_replicas", "replica_max_lag")
"""SQLAlchemyStore's server options, accepted and ignored for ``memory://``."""


def _memory_options(options: dict[str, Any]) -> dict[str, Any]:
    """Keep MemoryStore's own options; check and drop the SQL-only ones with a warning.

    The same code runs on every URL, so ``auto_migrate`` and engine options
    (``pool_size``, ...) and server options (``pgbouncer``, ``read_replicas``, ...)
    are accepted for ``memory://`` and ignored; misspelt or
    badly typed ones are refused as they would be for a database.
    """
    own: dict[str, Any] = {
        name: options.pop(name) for name in ("max_threads", "clock") if name in options
    }
    options.pop("auto_migrate", None)  # RAM has no schema
    check_sqlite_vec(options.pop("sqlite_vec", None))  # ranks in Python, like PostgreSQL
    scale_out = [name for name in _SCALE_OUT_OPTIONS if options.pop(name, None) is not None]
    if scale_out:
        logger.warning("memory:// has no database server; ignoring %s", ", ".join(scale_out))
    if options:
        check_engine_options(options)
        logger.warning(
            "memory:// has no database engine; ignoring engine options %s",
            ", ".join(sorted(options)),
        )
    return own
