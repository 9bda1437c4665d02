"""A pooled connection kept out of the pool between one-call reads.

Checking a connection out of the pool and back in costs more than a one-row
read takes on the driver: on asyncpg two greenlet round trips through
SQLAlchemy's asyncio pool, on SQLite's threaded engine a ``Connection`` made
and closed. A one-call read whose connection is left as it found it (no
transaction, no option changed) hands it to the lane instead of the pool;
the next such read takes it from there with no I/O. On PostgreSQL a
one-statement write run on the driver leaves it so too, and shares the lane. The lane holds one
connection of the engine (on PostgreSQL, of its home loop's engine) and gives
it back to the pool:

* to any caller that would otherwise wait for a connection or open a new
  one (the lane never starves writers, whatever the pool size);
* when that loop ends or the store closes (before the pool is disposed);
* when it is no longer fit: closed by the server, invalidated, older than
  a pool-wide invalidation (the pool would have replaced it on checkout), or
  of a pool the engine disposed of since.

Only on an engine the store created (one passed in may serve others, who
would wait for the lane's connection), and only for pools that need no work
on checkout and have room for it: a ``QueuePool`` of ``pool_size`` 2 or more
without ``pool_pre_ping`` or ``pool_recycle``; every other read takes the
pool's path as before. While the lane holds its connection, the pool counts
it as checked out.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from threadstore.store.locks import LoopSemaphore
from threadstore.store.sql.connections import Conn, Engine
from threadstore.store.sql.threaded import ThreadedEngine

__all__ = ["ReadLane"]

logger = logging.getLogger("threadstore")


class ReadLane:
    """At most one idle connection of ``engine``, for the next one-call read.

    The connection keeps the permit it took from ``gate``; it is released when
    the connection goes back to the pool.
    """

    def __init__(self, engine: Engine, gate: LoopSemaphore | None) -> None:
        self._engine = engine
        self._gate = gate
        self._idle: Conn | None = None
        self._mutex = threading.Lock()  # SQLite's engine serves every loop and thread

    @staticmethod
    def suits(engine: Engine) -> bool:
        """Whether a checkout of ``engine``'s pool could take its connections' place."""
        pool = engine.sync_engine.pool
        driver_ok = isinstance(engine, ThreadedEngine) or (
            isinstance(engine, AsyncEngine) and engine.dialect.driver == "asyncpg"
        )
        return (
            driver_ok
            and isinstance(pool, QueuePool)
            and pool.size() >= 2
            and not pool._pre_ping
            and pool._recycle < 0
        )

    async def take(self) -> Conn | None:
        """The idle connection, if there is one and it is fit; None otherwise."""
        with self._mutex:
            conn, self._idle = self._idle, None
        if conn is None or _fit(conn):
            return conn
        logger.debug("threadstore: the read lane's connection is stale; replacing it")
        await self._give_back(conn, invalidate=True)
        return None

    def keep(self, conn: Conn) -> bool:
        """Hold ``conn`` (as its one-call read left it) instead of closing it."""
        if conn.engine is not self._engine or conn.in_transaction():
            return False
        with self._mutex:
            if self._idle is not None:
                return False
            self._idle = conn
        return True

    async def spare(self) -> Conn | None:
        """The idle connection for any caller, when the pool has none to give at once.

        That is when the pool holds no idle connection (a checkout would open
        one) or the gate is full (a checkout would wait): the caller uses the
        lane's connection instead, and closes it as any other.
        """
        if self._idle is None:
            return None
        if self._gate is not None and self._gate.queued():
            await self.close()  # its permit goes to the oldest waiter, not to this caller
            return None
        full = self._gate is not None and self._gate.would_wait()
        pool = self._engine.sync_engine.pool
        if not full and isinstance(pool, QueuePool) and pool.checkedin() > 0:
            return None
        return await self.take()

    async def close(self) -> None:
        """Give the idle connection back to the pool."""
        with self._mutex:
            conn, self._idle = self._idle, None
        if conn is not None:
            await self._give_back(conn, invalidate=False)

    def forget(self) -> None:
        """Drop the idle connection unclosed (its loop is gone, and the pool with it)."""
        with self._mutex:
            self._idle = None

    async def _give_back(self, conn: Conn, *, invalidate: bool) -> None:
        try:
            if invalidate:
                await conn.invalidate()
            await conn.close()
        finally:
            if self._gate is not None:
                self._gate.release()


def _fit(conn: Conn) -> bool:
    """Whether the pool would hand ``conn``'s connection out as it is."""
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return False
    fairy = sync.connection
    if isinstance(conn.engine, AsyncEngine):
        driver = fairy.driver_connection
        if driver is None or driver.is_closed():
            return False
    record = fairy._connection_record
    pool = conn.engine.sync_engine.pool
    if getattr(fairy, "_pool", pool) is not pool:
        return False  # the engine was disposed since: its connections are to be new ones
    return record is None or record.starttime >= pool._invalidate_time
