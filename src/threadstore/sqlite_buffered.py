"""sqlite3 with buffered cursors and deferred transaction openers, as a DBAPI module.

Every statement of :class:`~threadstore.store.sql.threaded.ThreadedEngine`
runs on a worker thread, and its result is read on the event loop: a cursor
of this module therefore fetches every row while it executes, so reading a
result never touches the database. Statements that only open a transaction
or a savepoint, or release one (``BEGIN``, ``SAVEPOINT``, ``RELEASE``), are
held back and run just before the next statement, in the same trip to the
worker thread; an error they raise surfaces there. A COMMIT or ROLLBACK
drops the releases still held (it ends every savepoint anyway), and right
after a ``BEGIN`` that never ran it has nothing to end and does nothing.

The connection also names and runs savepoints of its own
(:meth:`BufferedConnection.savepoint`, used by the store's unit of work for a call's
savepoint when nobody watches statements): they are held back in the same
way, without SQLAlchemy's execution of a ``SAVEPOINT`` clause each time.

The driver is the stdlib :mod:`sqlite3` unless another DB-API module of the
same shape is given (``pysqlite3.dbapi2``, which can load extensions).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

__all__ = ["BufferedConnection", "BufferedSqlite"]

_HELD_BACK = ("BEGIN", "SAVEPOINT", "RELEASE")


def _is_opener(operation: str, parameters: Any) -> bool:
    return not parameters and operation.lstrip()[:9].upper().startswith(_HELD_BACK)


class _Cursor:
    """A cursor whose rows were all fetched when it executed."""

    arraysize = 1

    def __init__(self, connection: BufferedConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []
        self._next = 0

    def execute(self, operation: str, parameters: Any = None) -> _Cursor:
        if _is_opener(operation, parameters):
            self._connection.pending.append(operation)
            self._done(None, -1, [])
            return self
        with self._connection.running() as driver:
            cursor = driver.cursor()
            try:
                if parameters is None:
                    cursor.execute(operation)
                else:
                    cursor.execute(operation, parameters)
                rows = cursor.fetchall() if cursor.description else []
                self.lastrowid = cursor.lastrowid
                self._done(cursor.description, cursor.rowcount, rows)
            finally:
                cursor.close()
        return self

    def executemany(self, operation: str, seq_of_parameters: Any) -> _Cursor:
        with self._connection.running() as driver:
            cursor = driver.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                rows = cursor.fetchall() if cursor.description else []
                self._done(cursor.description, cursor.rowcount, rows)
            finally:
                cursor.close()
        return self

    def _done(self, description: Any, rowcount: int, rows: list[Any]) -> None:
        self.description, self.rowcount, self._rows, self._next = description, rowcount, rows, 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        row = self._rows[self._next]
        self._next += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[Any]:
        end = self._next + (self.arraysize if size is None else size)
        rows = self._rows[self._next : end]
        self._next += len(rows)
        return rows

    def fetchall(self) -> list[Any]:
        rows = self._rows[self._next :] if self._next else self._rows
        self._next = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._rows = []

    def setinputsizes(self, *sizes: Any) -> None:
        return None

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        return None


class BufferedConnection:
    """A sqlite3 connection that runs one statement at a time, openers held back."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.pending: list[str] = []
        self._mutex = threading.Lock()  # one statement at a time, whatever the thread
        self._savepoints = 0

    def running(self) -> _Running:
        """Hold the connection, run the held-back openers, and yield the driver."""
        return _Running(self)

    def cursor(self) -> _Cursor:
        """A cursor that fetches every row when it executes."""
        return _Cursor(self)

    def write(self, operation: str, parameters: Any) -> None:
        """Run one statement that returns no rows, after the held-back openers."""
        with self.running() as driver:
            driver.execute(operation, parameters).close()

    def rows(self, operation: str, parameters: Any) -> list[Any]:
        """Run one statement after the held-back openers; all its rows."""
        with self.running() as driver:
            cursor = driver.execute(operation, parameters)
            try:
                rows: list[Any] = cursor.fetchall()
            finally:
                cursor.close()
            return rows

    @property
    def begun(self) -> bool:
        """False while a BEGIN is held back: the driver has no transaction to end."""
        return not (self.pending and self.pending[0].lstrip()[:5].upper() == "BEGIN")

    def _drop_pending(self) -> bool:
        """Forget openers that never ran; True if the transaction itself never began."""
        unbegun = not self.begun
        self.pending.clear()
        return unbegun

    def savepoint(self) -> str:
        """Hold back a new SAVEPOINT (it runs with the next statement); its name."""
        self._savepoints += 1
        name = f"threadstore_sp_{self._savepoints}"
        self.pending.append(f"SAVEPOINT {name}")
        return name

    def release(self, name: str) -> None:
        """Hold back the RELEASE of savepoint ``name`` (a commit drops it: nothing to end)."""
        if not self.unsent(name):
            self.pending.append(f"RELEASE SAVEPOINT {name}")

    def unsent(self, name: str) -> bool:
        """Forget savepoint ``name`` if it is still held back; whether it was (nothing to undo)."""
        opener = f"SAVEPOINT {name}"
        if self.pending and self.pending[-1] == opener:
            self.pending.pop()
            return True
        return False

    def rollback_to(self, name: str) -> None:
        """Undo what ran since savepoint ``name`` and end it (on the worker thread).

        Raises:
            sqlite3.Error: the driver's error (a held-back opener's, or the rollback's).
        """
        with self.running() as driver:
            driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
        self.release(name)

    def commit(self) -> None:
        """Commit (nothing to do while the BEGIN is still held back)."""
        if not self._drop_pending():
            with self._mutex:
                self.driver.commit()

    def rollback(self) -> None:
        """Roll back (nothing to do while the BEGIN is still held back)."""
        if not self._drop_pending():
            with self._mutex:
                self.driver.rollback()

    def close(self) -> None:
        """Forget the held-back openers and close the driver connection."""
        self.pending.clear()
        self.driver.close()

    @property
    def isolation_level(self) -> str | None:
        """The driver connection's isolation level."""
        level: str | None = self.driver.isolation_level
        return level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self.driver.isolation_level = value

    def __getattr__(self, name: str) -> Any:  # create_function, in_transaction, ...
        return getattr(self.driver, name)


class _Running:
    __slots__ = ("_connection",)

    def __init__(self, connection: BufferedConnection) -> None:
        self._connection = connection

    def __enter__(self) -> Any:
        connection = self._connection
        connection._mutex.acquire()
        try:
            pending, connection.pending = connection.pending, []
            for opener in pending:
                connection.driver.execute(opener)
        except BaseException:
            connection._mutex.release()
            raise
        return connection.driver

    def __exit__(self, *_exc: object) -> None:
        self._connection._mutex.release()


class BufferedSqlite:
    """The DBAPI module for SQLAlchemy's pysqlite dialect (``module=`` of create_engine).

    Args:
        driver: The sqlite3-compatible DB-API module to wrap (default :mod:`sqlite3`);
            its error classes are the ones raised, and SQLAlchemy wraps.
    """

    paramstyle = "qmark"

    def __init__(self, driver: ModuleType = sqlite3) -> None:
        self.driver = driver

    def connect(self, *args: Any, **kwargs: Any) -> BufferedConnection:
        """Open a driver connection (the arguments are sqlite3's)."""
        return BufferedConnection(self.driver.connect(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:  # Error classes, sqlite_version_info, Binary, ...
        if name == "driver":  # not yet set (copy, pickle)
            raise AttributeError(name)
        return getattr(self.driver, name)
