"""The nested blocks of a unit of work, each a SAVEPOINT created when first needed.

On SQLite's threaded engine, while nobody watches statements (see
:func:`~threadstore.store.sql.driver_calls.direct_ready`), a frame's
savepoint is the buffered driver connection's own
(:meth:`threadstore.sqlite_buffered.BufferedConnection.savepoint`): its ``SAVEPOINT``
and ``RELEASE`` are held back and sent with the next statement, and only a
``ROLLBACK TO`` makes a trip of its own. SQLAlchemy's ``begin_nested()``
would run its whole execution path for each of them on the event loop, twice
per call of a group commit. Elsewhere the frame is SQLAlchemy's savepoint.
"""

from __future__ import annotations

from typing import Any

from threadstore.store.sql.connections import Conn, Tx
from threadstore.store.sql.driver_calls import direct_ready, driver_error
from threadstore.store.sql.threaded import ThreadedConnection

__all__ = ["Frames"]


class _DriverSavepoint:
    """A savepoint of SQLite's buffered driver connection (see the module)."""

    __slots__ = ("_conn", "_driver", "_name")

    def __init__(self, conn: ThreadedConnection) -> None:
        self._conn = conn
        driver: Any = conn.sync_connection.connection.dbapi_connection
        self._driver = driver
        self._name: str = driver.savepoint()

    def release(self) -> None:
        """Hold back its RELEASE (it travels with the next statement)."""
        self._driver.release(self._name)

    async def commit(self) -> None:
        self.release()

    async def rollback(self) -> None:
        driver, name = self._driver, self._name
        if driver.unsent(name):
            return  # nothing ran since it: nothing to undo
        try:
            await self._conn.run_driver(driver.rollback_to, name, short=True)
        except Exception as exc:
            sql = f"ROLLBACK TO SAVEPOINT {name}"
            raise driver_error(exc, sql, (), self._conn.dialect, driver) from exc


class _Frame:
    """A nested block; its SAVEPOINT exists once the block needed the transaction."""

    __slots__ = ("savepoint",)

    def __init__(self) -> None:
        self.savepoint: Tx | _DriverSavepoint | None = None


class Frames:
    """The open nested blocks of one unit, innermost last."""

    def __init__(self) -> None:
        self._frames: list[_Frame] = []

    def __bool__(self) -> bool:
        return bool(self._frames)

    def push(self) -> object:
        """Open a nested block; the token ends it (:meth:`pop`)."""
        frame = _Frame()
        self._frames.append(frame)
        return frame

    async def open(self, conn: Conn) -> None:
        """Create the SAVEPOINTs of the blocks that have none yet, outermost first."""
        for frame in self._frames:
            if frame.savepoint is None:
                if isinstance(conn, ThreadedConnection) and direct_ready(conn):
                    frame.savepoint = _DriverSavepoint(conn)
                else:
                    frame.savepoint = await conn.begin_nested()

    def release_held(self, token: object) -> bool:
        """End the innermost block without I/O if its RELEASE can be held back; whether it did.

        True when the block needed no savepoint or has one of the buffered
        driver connection's; else nothing changes (:meth:`pop` ends it).
        """
        if not self._frames or self._frames[-1] is not token:
            return False
        savepoint = self._frames[-1].savepoint
        if savepoint is not None and not isinstance(savepoint, _DriverSavepoint):
            return False
        self._frames.pop()
        if savepoint is not None:
            savepoint.release()
        return True

    async def pop(self, token: object, *, commit: bool) -> None:
        """End the innermost block: RELEASE its savepoint, or ROLLBACK TO it.

        Raises:
            RuntimeError: ``token`` is not the innermost block's.
        """
        if not self._frames or self._frames[-1] is not token:
            raise RuntimeError("threadstore: nested blocks must end in order")
        frame = self._frames.pop()
        if frame.savepoint is None:
            return
        if commit:
            await frame.savepoint.commit()
        else:
            await frame.savepoint.rollback()
