"""Store implementations and the factory that picks one from a URL."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.engine import URL

from threadstore.config import URL_ENV_VAR, is_memory_url
from threadstore.store.base import BaseStore
from threadstore.store.memory import MemoryStore
from threadstore.store.sql import SQLAlchemyStore

__all__ = ["BaseStore", "MemoryStore", "SQLAlchemyStore", "create_store"]


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
        options.pop("auto_migrate", None)  # RAM has no schema: the same code runs on every URL
        return MemoryStore(**options)
    return SQLAlchemyStore(chosen, **options)
