"""A commit group's last-and-only writes in flight together, each in a SAVEPOINT of its own trip.

A writer of a commit group holds the group's turn while it uses the group's
connection. Most one-call writes are a single trip to SQLite's worker thread
with nothing after it: a lone statement (:meth:`SqlUnit.write_one`) or an
append's steps (``write_steps``). Such a write, when it is the first thing its
unit runs, is queued as one trip that wraps it in a SAVEPOINT of its own
(rolled back to when it fails, released otherwise), and the turn passes to
the next writer as soon as the trip is queued, not once it has come back
through a busy event loop. One worker call runs the queued trips in order.
Anything else on the connection (a writer's own statements, the commit)
first waits until every queued trip has landed (:meth:`GroupTrips.drained`).

A call whose trip changed rows and which then fails all the same can no
longer be undone alone: the group is then broken and rolls back, and every
call of it raises, as when a savepoint cannot be ended.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from threadstore.store.sql.connections import Conn
from threadstore.store.sql.direct import Compiled, DirectStatements, direct_ready, driver_error
from threadstore.store.sql.threaded import ThreadedConnection

__all__ = ["GroupSlot", "GroupTrips"]

_T = TypeVar("_T")

Work = Callable[[Any], _T]
"""What a trip runs: a function of the sqlite3 connection, on the worker thread."""

_Queued = tuple["Work[Any]", "asyncio.Future[Any]", str]


class _Broken(Exception):
    """A trip left the group's transaction in an unknown state (``error`` says why)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class GroupTrips:
    """The queued trips of one group's connection, run in order by one worker call."""

    def __init__(self, conn: ThreadedConnection) -> None:
        self._conn = conn
        self._dbapi_connection: Any = conn.sync_connection.connection.dbapi_connection
        self._queue: collections.deque[_Queued] = collections.deque()
        self._mutex = threading.Lock()
        self._draining = False
        self._flying = 0
        self._landed: asyncio.Future[None] | None = None
        self._names = itertools.count(1)
        self.broken = False
        """Whether a trip or a call left the transaction unfit to commit."""

    def queue(self, work: Work[Any]) -> asyncio.Future[tuple[Any, int]]:
        """Queue ``work`` in a savepoint of its own: the future of its result and rows changed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Any, int]] = loop.create_future()
        with self._mutex:
            self._queue.append((work, future, f"threadstore_call_{next(self._names)}"))
            start, self._draining = not self._draining, True
        self._flying += 1
        future.add_done_callback(self._land)
        if start:
            self._conn.engine.start(self._drain, loop)
        return future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the queued trips until none is left (on a worker thread)."""
        while True:
            with self._mutex:
                if not self._queue:
                    self._draining = False
                    return
                work, future, name = self._queue.popleft()
            setter: Callable[[asyncio.Future[Any], Any], None]
            value: Any
            try:
                setter, value = _set_result, self._trip(work, name)
            except BaseException as exc:  # handed to the awaiting call
                setter, value = _set_exception, exc
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(setter, future, value)

    def _trip(self, work: Work[Any], name: str) -> tuple[Any, int]:
        dbapi_connection = self._dbapi_connection
        dialect = self._conn.dialect

        def run(driver: Any, sql: str) -> None:
            try:
                driver.execute(sql)
            except Exception as exc:
                raise _Broken(driver_error(exc, sql, [], dialect, dbapi_connection)) from exc

        running = dbapi_connection.running()  # runs the group's held-back BEGIN
        try:
            driver = running.__enter__()
        except Exception as exc:
            raise _Broken(driver_error(exc, "BEGIN", [], dialect, dbapi_connection)) from exc
        try:
            before = driver.total_changes
            run(driver, f"SAVEPOINT {name}")
            try:
                result = work(driver)
            except BaseException:
                run(driver, f"ROLLBACK TO {name}")
                run(driver, f"RELEASE {name}")
                raise
            run(driver, f"RELEASE {name}")
            return result, driver.total_changes - before
        finally:
            running.__exit__(None, None, None)

    def _land(self, future: asyncio.Future[Any]) -> None:
        self._flying -= 1
        if not future.cancelled() and isinstance(future.exception(), _Broken):
            self.broken = True
        if not self._flying and self._landed is not None:
            self._landed.set_result(None)
            self._landed = None

    async def drained(self) -> None:
        """Return once every queued trip has landed."""
        if not self._flying:
            return
        if self._landed is None:
            self._landed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._landed)


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class GroupSlot:
    """One call's place in its group: its queued trip, and the turn it hands on."""

    __slots__ = ("_hand_over", "changed", "handed_over", "trips")

    def __init__(self, trips: GroupTrips, hand_over: Callable[[], None]) -> None:
        self.trips = trips
        self._hand_over = hand_over
        self.handed_over = False
        """Whether the call queued its trip and passed the turn on."""
        self.changed = 0
        """Rows the call's trip changed."""

    async def run(self, work: Work[_T]) -> _T:
        """``work`` as a queued trip; the turn passes on at once.

        Cancelled, the call still runs once queued (as a lone write still runs
        once its thread took it).

        Raises:
            DBAPIError: what ``work`` raised (it was rolled back alone), or what
                broke the group's transaction (the group then rolls back).
        """
        future = self.trips.queue(work)
        self.handed_over = True
        self._hand_over()
        try:
            result, self.changed = await asyncio.shield(future)
        except _Broken as broken:
            raise broken.error from broken.__cause__
        return cast("_T", result)

    def write_one(
        self, conn: Conn, direct: DirectStatements | None, statement: Any, params: Any
    ) -> Awaitable[None] | None:
        """``statement`` as a queued trip, when it can run on the driver; else None."""
        if direct is None or not isinstance(conn, ThreadedConnection) or not direct_ready(conn):
            return None
        compiled = direct.get_write(statement, params)
        return None if compiled is None else self.run(_write_work(conn, compiled, params))


def _write_work(conn: ThreadedConnection, compiled: Compiled, params: Any) -> Work[None]:
    """The trip's work for one write statement, its values taken now."""
    args = compiled.arguments(params)
    sql = compiled.sql
    dbapi_connection: Any = conn.sync_connection.connection.dbapi_connection
    dialect = conn.dialect

    def work(driver: Any) -> None:
        cursor = driver.cursor()
        try:
            cursor.execute(sql, args)
        except Exception as exc:
            raise driver_error(exc, sql, args, dialect, dbapi_connection) from exc
        finally:
            cursor.close()

    return work
