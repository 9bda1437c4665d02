"""sqlite-vec on threadstore's SQLite engine: whether to use it, the driver, the loading.

With the ``sqlite-vec`` extra installed (``pysqlite3-binary``, a DB-API
sqlite3 with its own SQLite that may load extensions, and ``sqlite-vec``),
the SQLite engine runs on ``pysqlite3.dbapi2`` instead of the stdlib
:mod:`sqlite3` and loads sqlite-vec into every connection it opens; the
LangGraph long-term store then ranks semantic searches in SQL. The choice,
made once per engine: the ``sqlite_vec`` argument of the store (or of
``create_store``), else the ``THREADSTORE_SQLITE_VEC`` environment variable,
else on exactly when both packages import. False (or ``0``/``off``) keeps
the stdlib driver; True (``1``/``on``) fails at once if the packages are
missing, rather than searching more slowly than the deployment expects.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

from threadstore.errors import PersistenceConnectionError, ValidationError

__all__ = [
    "SQLITE_VEC_ENV_VAR",
    "check_sqlite_vec",
    "load_sqlite_vec",
    "sqlite_vec_driver",
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


def check_sqlite_vec(requested: object) -> None:
    """Refuse a ``sqlite_vec`` argument that is not None, True or False."""
    if requested not in (None, True, False):
        raise ValidationError(
            f"sqlite_vec must be None, True or False, not {requested!r}",
            suggestion="Leave it at None to use sqlite-vec when it is installed.",
        )


def use_sqlite_vec(requested: bool | None) -> bool:
    """Whether a new SQLite engine uses sqlite-vec (see the module docstring).

    Raises:
        ValidationError: ``requested`` (or the environment variable) is not a
            valid choice, or asks for sqlite-vec when it is not installed.
    """
    check_sqlite_vec(requested)
    source = "sqlite_vec"
    if requested is None:
        raw = os.environ.get(SQLITE_VEC_ENV_VAR, "")
        if raw.strip().lower() not in _WORDS:
            raise ValidationError(
                f"{SQLITE_VEC_ENV_VAR}={raw!r} is not a valid choice",
                suggestion=f"Set {SQLITE_VEC_ENV_VAR} to 0, 1 or auto (or unset it).",
            )
        requested, source = _WORDS[raw.strip().lower()], SQLITE_VEC_ENV_VAR
    if requested is False:
        return False
    installed = _modules() is not None
    if requested and not installed:
        raise ValidationError(
            f"{source} asks for sqlite-vec, but pysqlite3 or sqlite-vec is not installed",
            suggestion=f"{_INSTALL}, or pass sqlite_vec=None to use it only when installed.",
        )
    return installed


def sqlite_vec_driver() -> ModuleType:
    """``pysqlite3.dbapi2`` (call only after :func:`use_sqlite_vec` said True)."""
    found = _modules()
    if found is None:  # uninstalled since the engine was made
        raise ValidationError("pysqlite3 is not installed", suggestion=_INSTALL)
    return found[0]


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
