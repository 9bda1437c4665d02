"""Writes of several statements, written once: run through SQLAlchemy or on SQLite's driver.

Some writes compute between their statements (an append reads the bumped
message counter, then numbers its rows). Such a write is a function of
:class:`Steps`, run on the connection's thread:

* :class:`ConnectionSteps` runs each statement through a SQLAlchemy sync
  ``Connection`` (inside whatever transaction the unit of work holds: a
  ``transaction()`` block, a group commit's savepoint);
* :func:`run_driver_transaction` runs them on SQLite's driver in one trip to
  the worker, as SQLAlchemy compiled them
  (:class:`~threadstore.store.sql.direct.Compiled`), under the connection's
  own mutex, so nothing else runs on that connection in between, even after
  the awaiting call was cancelled. A lone one-call write gets a transaction
  of its own in that trip (``BEGIN IMMEDIATE`` ... ``COMMIT``); in a block or
  a group commit the statements run inside the unit's transaction and
  savepoint, which the unit ends as usual.

The statements are the same SQLAlchemy Core objects on both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable

from threadstore.engine import TRANSACTION_OPEN
from threadstore.store.sql.direct import Compiled
from threadstore.store.sql.driver_calls import driver_error, sqlite_rows
from threadstore.store.sql.threaded import ThreadedConnection

__all__ = ["ConnectionSteps", "Steps", "run_driver_transaction"]

_T = TypeVar("_T")


class Steps(Protocol):
    """Runs the statements of one write, on the connection's thread."""

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The rows ``statement`` returns (RETURNING) for ``params``."""
        ...

    def each(
        self, statement: Executable, rows: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """``statement`` once per parameter set; what they return, in any order."""
        ...


class ConnectionSteps:
    """:class:`Steps` through a SQLAlchemy sync connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """See :meth:`Steps.rows`."""
        return cast(
            "list[Mapping[str, Any]]", self._conn.execute(statement, params).mappings().all()
        )

    def each(
        self, statement: Executable, rows: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """See :meth:`Steps.each`: one multi-row statement (SQLAlchemy's insertmanyvalues)."""
        return cast(
            "list[Mapping[str, Any]]", self._conn.execute(statement, list(rows)).mappings().all()
        )


class _DriverSteps:
    """:class:`Steps` on a sqlite3 connection, with statements compiled beforehand."""

    def __init__(
        self,
        driver: Any,
        compiled: Mapping[Executable, Compiled],
        dialect: Dialect,
        dbapi_connection: Any,
    ) -> None:
        self._driver = driver
        self._compiled = compiled
        self._dialect = dialect
        self._dbapi_connection = dbapi_connection

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        compiled = self._compiled[statement]
        args = compiled.arguments(params)
        try:
            raw = sqlite_rows(self._driver, compiled.sql, args)
        except Exception as exc:
            raise driver_error(
                exc, compiled.sql, args, self._dialect, self._dbapi_connection
            ) from exc
        return list(compiled.rows(raw))

    def each(
        self, statement: Executable, rows: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for params in rows:
            found.extend(self.rows(statement, params))
        return found


async def run_driver_transaction(
    conn: ThreadedConnection,
    fn: Callable[[Steps], _T],
    compiled: Mapping[Executable, Compiled],
    *,
    own: bool,
    short: bool = False,
) -> _T:
    """``fn``'s statements on ``conn``'s sqlite3 connection, in one trip.

    ``own``: the unit began nothing on ``conn`` (the store's write lock held),
    and ``fn`` runs in a transaction of its own (``BEGIN IMMEDIATE``, committed
    when ``fn`` returns, rolled back when it raises). Otherwise ``fn`` runs in
    the transaction or savepoint the unit of work began, whose held-back
    ``BEGIN``/``SAVEPOINT`` runs first and which the unit ends as usual.
    ``compiled`` holds every statement ``fn`` runs; ``short``: they write a
    few rows and little data (see ``ThreadedConnection.run_driver``).

    Raises:
        DBAPIError: what SQLAlchemy's own execution would have raised.
    """
    fairy = conn.sync_connection.connection
    dbapi_connection: Any = fairy.dbapi_connection
    dialect = conn.dialect

    def steps(driver: Any) -> _T:
        return fn(_DriverSteps(driver, compiled, dialect, dbapi_connection))

    def transaction(driver: Any) -> _T:
        fairy.info[TRANSACTION_OPEN] = True  # until it ended: the pool then rolls back
        _run(driver, "BEGIN IMMEDIATE", dialect, dbapi_connection)
        try:
            result = steps(driver)
            _run(driver, "COMMIT", dialect, dbapi_connection)
        except BaseException:
            if driver.in_transaction:
                _run(driver, "ROLLBACK", dialect, dbapi_connection)
            raise
        finally:
            fairy.info[TRANSACTION_OPEN] = _in_transaction(driver)
        return result

    def trip() -> _T:
        try:
            running = dbapi_connection.running()
            driver = running.__enter__()  # the held-back openers run here
        except Exception as exc:
            raise driver_error(exc, "BEGIN", [], dialect, dbapi_connection) from exc
        try:
            return transaction(driver) if own else steps(driver)
        finally:
            running.__exit__(None, None, None)

    return await conn.run_driver(trip, short=short)


def _run(driver: Any, sql: str, dialect: Dialect, dbapi_connection: Any) -> None:
    try:
        driver.execute(sql)
    except Exception as exc:
        raise driver_error(exc, sql, [], dialect, dbapi_connection) from exc


def _in_transaction(driver: Any) -> bool:
    try:
        return bool(driver.in_transaction)
    except Exception:  # a closed or broken connection: let the pool find out
        return True
