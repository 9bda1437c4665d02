"""sqlite-vec on threadstore's SQLite engine: the process's driver, the extension, the choice.

With the ``sqlite-vec`` extra installed (``pysqlite3-binary``, a DB-API
sqlite3 with its own SQLite that may load extensions, and ``sqlite-vec``),
threadstore opens SQLite files with ``pysqlite3.dbapi2`` instead of the
stdlib :mod:`sqlite3`, and the store's engine loads sqlite-vec into every
connection it opens; the LangGraph long-term store then ranks semantic
searches in SQL.

The driver is chosen once for the whole process, by
``THREADSTORE_SQLITE_VEC`` (``0``/``off``: the stdlib sqlite3 and no
extension; ``1``/``on``: the extra is required; unset or ``auto``: used when
installed). Two copies of SQLite in one process do not see each other's
POSIX locks, so a file opened by both (the store, and an online backup)
could be corrupted; every connection threadstore opens therefore uses
:func:`sqlite_driver`. A store's ``sqlite_vec`` argument chooses the
extension only: False skips it (searches rank in Python), True fails at once
where the process driver cannot load it, None loads it where it can.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
from types import ModuleType
from typing import Any

from threadstore.errors import PersistenceConnectionError, ValidationError

__all__ = [
    "SQLITE_VEC_ENV_VAR",
    "check_sqlite_vec",
    "load_sqlite_vec",
    "sqlite_driver",
    "use_sqlite_vec",
]

SQLITE_VEC_ENV_VAR = "THREADSTORE_SQLITE_VEC"
"""``0``/``false``/``off`` or ``1``/``true``/``on``; unset or ``auto``: on when installed."""

_INSTALL = "pip install 'threadstore[sqlite-vec]'"
_WORDS = {
    "": None,
    "auto": None,
    **dict.fromkeys(("0", "false", "off", "no"), False),
    **dict.fromkeys(("1", "true", "on", "yes"), True),
}


def _modules() -> tuple[ModuleType, ModuleType] | None:
    try:
        return importlib.import_module("pysqlite3.dbapi2"), importlib.import_module("sqlite_vec")
    except ImportError:
        return None


def _environment() -> bool | None:
    raw = os.environ.get(SQLITE_VEC_ENV_VAR, "")
    word = raw.strip().lower()
    if word not in _WORDS:
        raise ValidationError(
            f"{SQLITE_VEC_ENV_VAR}={raw!r} is not a valid choice",
            suggestion=f"Set {SQLITE_VEC_ENV_VAR} to 0, 1 or auto (or unset it).",
        )
    return _WORDS[word]


def sqlite_driver() -> ModuleType:
    """The DB-API module threadstore opens SQLite files with in this process.

    Raises:
        ValidationError: ``THREADSTORE_SQLITE_VEC`` is invalid, or asks for
            the extra when it is not installed.
    """
    wanted = _environment()
    if wanted is False:
        return sqlite3
    found = _modules()
    if found is None:
        if wanted:
            raise ValidationError(
                f"{SQLITE_VEC_ENV_VAR} asks for sqlite-vec, but pysqlite3 or sqlite-vec "
                "is not installed",
                suggestion=f"{_INSTALL}, or set {SQLITE_VEC_ENV_VAR}=auto.",
            )
        return sqlite3
    return found[0]


def check_sqlite_vec(requested: object) -> None:
    """Refuse a ``sqlite_vec`` argument that is not None, True or False."""
    if not any(requested is choice for choice in (None, True, False)):  # 1 == True
        raise ValidationError(
            f"sqlite_vec must be None, True or False, not {requested!r}",
            suggestion="Leave it at None to use sqlite-vec when it is installed.",
        )


def use_sqlite_vec(requested: bool | None, driver: ModuleType) -> bool:
    """Whether an engine on ``driver`` loads sqlite-vec (see the module docstring).

    Raises:
        ValidationError: ``requested`` is not a valid choice, or is True where
            ``driver`` is the stdlib sqlite3.
    """
    check_sqlite_vec(requested)
    if requested is False:
        return False
    able = driver is not sqlite3
    if requested and not able:
        why = "is not installed" if _modules() is None else f"is off ({SQLITE_VEC_ENV_VAR})"
        raise ValidationError(
            f"sqlite_vec=True, but the sqlite-vec extra {why}",
            suggestion=f"{_INSTALL} and leave {SQLITE_VEC_ENV_VAR} unset, or pass "
            "sqlite_vec=None to use it only where it is available.",
        )
    return able


def load_sqlite_vec(dbapi_connection: Any, _record: Any = None) -> None:
    """Load sqlite-vec into a new driver connection (a ``connect`` event hook).

    Raises:
        PersistenceConnectionError: the extension could not be loaded.
    """
    found = _modules()
    try:
        if found is None:
            raise ImportError("sqlite_vec")
        dbapi_connection.enable_load_extension(True)
        try:
            found[1].load(dbapi_connection)
        finally:
            dbapi_connection.enable_load_extension(False)
    except Exception as exc:
        raise PersistenceConnectionError(
            f"sqlite-vec could not be loaded into the SQLite connection: {exc}",
            suggestion=f"Reinstall it ({_INSTALL}), or pass sqlite_vec=False "
            f"(or set {SQLITE_VEC_ENV_VAR}=0) to rank searches without it.",
        ) from exc
