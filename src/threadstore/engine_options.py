"""Checks of the engine options a store passes to ``create_async_engine``.

SQLAlchemy reports a misspelt or badly typed option as a bare ``TypeError`` or
``KeyError`` (or not at all, until the first connection); these checks name
the option and what it takes before any engine exists.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.pool import Pool

from threadstore.errors import ValidationError

__all__ = [
    "ENGINE_OPTIONS",
    "POOL_OPTIONS",
    "STORE_OPTIONS",
    "check_engine_options",
    "pgbouncer_options",
]


def _bool(value: object) -> bool:
    return isinstance(value, bool)


def _echo(value: object) -> bool:
    return value is None or isinstance(value, bool) or value == "debug"


def _int(minimum: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= minimum

    return check


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _mapping(value: object) -> bool:
    return isinstance(value, Mapping)


def _text(value: object) -> bool:
    return isinstance(value, str)


def _callable(value: object) -> bool:
    return callable(value)


def _poolclass(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, Pool)


def _pool(value: object) -> bool:
    return isinstance(value, Pool)


def _reset(value: object) -> bool:
    return value in (None, True, False, "rollback", "commit", "reset")


def _plugins(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)


ENGINE_OPTIONS: dict[str, tuple[Callable[[object], bool], str]] = {
    "echo": (_echo, 'True, False or "debug"'),
    "echo_pool": (_echo, 'True, False or "debug"'),
    "pool_size": (_int(0), "an int >= 0"),
    "max_overflow": (_int(-1), "an int >= -1 (-1: no limit)"),
    "pool_timeout": (_number, "a number of seconds >= 0"),
    "pool_recycle": (_int(-1), "an int of seconds (-1: never recycle)"),
    "pool_pre_ping": (_bool, "True or False"),
    "pool_use_lifo": (_bool, "True or False"),
    "pool_reset_on_return": (_reset, '"rollback", "commit", "reset" or None'),
    "pool_logging_name": (_text, "a str"),
    "poolclass": (_poolclass, "a sqlalchemy.pool.Pool subclass (e.g. NullPool)"),
    "pool": (_pool, "a sqlalchemy.pool.Pool instance"),
    "connect_args": (_mapping, "a dict of driver connect() arguments"),
    "execution_options": (_mapping, "a dict"),
    "isolation_level": (_text, 'a str, e.g. "READ COMMITTED"'),
    "logging_name": (_text, "a str"),
    "hide_parameters": (_bool, "True or False"),
    "query_cache_size": (_int(0), "an int >= 0"),
    "insertmanyvalues_page_size": (_int(1), "an int >= 1"),
    "use_insertmanyvalues": (_bool, "True or False"),
    "json_serializer": (_callable, "a callable"),
    "json_deserializer": (_callable, "a callable"),
    "creator": (_callable, "a callable"),
    "async_creator": (_callable, "a callable"),
    "plugins": (_plugins, "a list of str"),
    "enable_from_linting": (_bool, "True or False"),
    "label_length": (_int(1), "an int >= 1"),
}
"""Every option threadstore passes on, with a check and what it accepts."""

POOL_OPTIONS = frozenset(
    {"pool_size", "max_overflow", "pool_timeout", "pool_use_lifo", "pool_recycle"}
)
"""Options of a queue pool, which an in-memory SQLite database (one shared connection) lacks."""

STORE_OPTIONS = (
    "auto_migrate",
    "clock",
    "engine",
    "max_threads",
    "migration_url",
    "pgbouncer",
    "read_replicas",
)
"""Keyword arguments of the stores themselves, offered when an option looks misspelt."""


def check_engine_options(options: Mapping[str, Any]) -> None:
    """Refuse unknown or badly typed engine options, naming the option.

    Raises:
        ValidationError: an option is unknown, or its value has the wrong type.
    """
    for name, value in options.items():
        spec = ENGINE_OPTIONS.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, [*ENGINE_OPTIONS, *STORE_OPTIONS], n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            raise ValidationError(
                f"unknown engine option {name!r}",
                suggestion=f"{hint}Engine options are those of SQLAlchemy's "
                "create_async_engine (pool_size, max_overflow, pool_timeout, echo, "
                "connect_args, ...).",
            )
        check, accepts = spec
        if not check(value):
            raise ValidationError(
                f"engine option {name!r} must be {accepts}, got {value!r}",
                suggestion=f"Pass {name} as {accepts}.",
            )


_PGBOUNCER_CONNECT_ARGS: dict[str, object] = {
    "statement_cache_size": 0,  # asyncpg's own cache of named statements
    "prepared_statement_cache_size": 0,  # SQLAlchemy's asyncpg adapter's cache
}


def _unique_statement_name() -> str:
    """A statement name no other client of a shared server connection uses."""
    return f"__threadstore_{uuid.uuid4().hex}__"


def pgbouncer_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Engine options for PostgreSQL behind PgBouncer in transaction pooling mode.

    A transaction-mode pooler hands each transaction any server connection,
    so nothing may outlive one: both statement caches are off and every
    prepared statement gets a unique name. The engine keeps its own pool of
    client connections to PgBouncer (pass ``poolclass=NullPool`` to open one
    per call: measured about 1.5x slower on appends).

    Raises:
        ValidationError: ``connect_args`` turns a statement cache back on.
    """
    merged = dict(options)
    connect_args = dict(merged.get("connect_args") or {})
    for name, value in _PGBOUNCER_CONNECT_ARGS.items():
        if connect_args.setdefault(name, value) != value:
            raise ValidationError(
                f"connect_args {name}={connect_args[name]!r} does not work behind PgBouncer",
                suggestion=f"Drop {name} from connect_args (pgbouncer=True sets it to 0), "
                "or connect directly with pgbouncer=False.",
            )
    connect_args.setdefault("prepared_statement_name_func", _unique_statement_name)
    merged["connect_args"] = connect_args
    return merged
