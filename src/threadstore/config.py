"""Where the database is: URL resolution, driver defaults and redaction."""

from __future__ import annotations

import os
from collections.abc import Sequence

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from threadstore.errors import ValidationError

__all__ = [
    "DEFAULT_URL",
    "MEMORY_URL",
    "PGBOUNCER_QUERY",
    "READ_REPLICAS_ENV_VAR",
    "URL_ENV_VAR",
    "is_memory_url",
    "redact_url",
    "replica_urls",
    "resolve_url",
    "split_pgbouncer",
]

URL_ENV_VAR = "THREADSTORE_URL"
DEFAULT_URL = "sqlite+aiosqlite:///threadstore.db"
MEMORY_URL = "memory://"
READ_REPLICAS_ENV_VAR = "THREADSTORE_READ_REPLICAS"
PGBOUNCER_QUERY = "pgbouncer"
"""URL query flag (``?pgbouncer=true``) equivalent to ``pgbouncer=True``."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

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


def split_pgbouncer(url: URL) -> tuple[URL, bool | None]:
    """Take the ``pgbouncer`` flag out of the URL's query (the driver does not know it).

    Returns the URL without it and the flag (None when absent).

    Raises:
        ValidationError: the flag is not a boolean word.
    """
    value = url.query.get(PGBOUNCER_QUERY)
    if value is None:
        return url, None
    word = (value[-1] if isinstance(value, tuple) else value).strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValidationError(
            f"the URL's {PGBOUNCER_QUERY}={word!r} is not true or false",
            suggestion=f"Write ?{PGBOUNCER_QUERY}=true (behind PgBouncer) or leave it out.",
        )
    return url.difference_update_query([PGBOUNCER_QUERY]), word in _TRUE


def replica_urls(given: Sequence[str | URL] | None) -> list[URL]:
    """The read replicas to use: ``given``, else ``THREADSTORE_READ_REPLICAS`` (comma-separated).

    Raises:
        ValidationError: a replica URL cannot be parsed or is not PostgreSQL.
    """
    if given is None:
        raw = os.environ.get(READ_REPLICAS_ENV_VAR, "")
        given = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(given, str | URL):
        raise ValidationError(
            "read_replicas must be a list of URLs, not one URL",
            suggestion="Pass read_replicas=[url] (or several).",
        )
    urls = []
    for item in given:
        url = resolve_url(item)
        if url.get_backend_name() != "postgresql":
            raise ValidationError(
                f"read replica {redact_url(url)} is not PostgreSQL",
                suggestion="Read replicas are PostgreSQL streaming standbys "
                "(postgresql+asyncpg://...).",
            )
        urls.append(url)
    return urls
