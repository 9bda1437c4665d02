"""Where the database is: URL resolution, driver defaults and redaction."""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from threadstore.errors import ValidationError

__all__ = [
    "DEFAULT_URL",
    "MEMORY_URL",
    "URL_ENV_VAR",
    "is_memory_url",
    "redact_url",
    "resolve_url",
]

URL_ENV_VAR = "THREADSTORE_URL"
DEFAULT_URL = "sqlite+aiosqlite:///threadstore.db"
MEMORY_URL = "memory://"

_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def is_memory_url(url: str | URL | None) -> bool:
    """Tell whether ``url`` names the in-memory backend."""
    return isinstance(url, str) and url.strip().lower().rstrip("/") in {"memory:", "memory"}


def resolve_url(url: str | URL | None = None) -> URL:
    """Return the SQLAlchemy URL to use, with its async driver.

    ``None`` falls back to the ``THREADSTORE_URL`` environment variable, then to
    the embedded default ``sqlite+aiosqlite:///threadstore.db``. A URL without a
    driver (``postgresql://``, ``sqlite:///``) gets the async one.

    Raises:
        ValidationError: the URL cannot be parsed or names an unsupported backend.
    """
    raw = url if url is not None else os.environ.get(URL_ENV_VAR) or DEFAULT_URL
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise ValidationError(
            "the database URL cannot be parsed",
            suggestion="Use e.g. sqlite+aiosqlite:///path.db or "
            "postgresql+asyncpg://user:password@host/dbname.",
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise ValidationError(
            f"unsupported database backend {backend!r}",
            suggestion="threadstore runs on sqlite+aiosqlite, postgresql+asyncpg or memory://.",
        )
    expected = _ASYNC_DRIVERS[backend]
    if driver and driver != expected:
        raise ValidationError(
            f"driver {driver!r} is not supported for {backend}",
            suggestion=f"Use {backend}+{expected}:// (threadstore is async).",
        )
    return parsed.set(drivername=f"{backend}+{expected}")


def redact_url(url: str | URL) -> str:
    """Render a URL with its password hidden, for logs, reprs and errors."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)
