"""A pooled asyncpg connection kept out of the pool between one-call reads.

Checking a connection out of SQLAlchemy's asyncio pool and back in costs two
greenlet round trips, more than a one-row read takes on the driver. A
one-call read whose connection is left as it found it (no transaction, no
option changed) hands it to the lane instead of the pool; the next such read
takes it from there with no I/O. The lane holds one connection of its home
loop's engine and gives it back to the pool:

* when a caller would otherwise wait for a connection (the lane never
  starves writers, whatever the pool size);
* when that loop ends or the store closes (before the pool is disposed);
* when it is no longer fit: closed by the server, invalidated, or older than
  a pool-wide invalidation (the pool would have replaced it on checkout).

Only on an engine the store created (one passed in may serve others, who
would wait for the lane's connection), and only for pools that need no work
on checkout and have room for it: a ``QueuePool`` of ``pool_size`` 2 or more
without ``pool_pre_ping`` or ``pool_recycle``; every other read takes the
pool's path as before. While the lane holds its connection, the pool counts
it as checked out.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from threadstore.store.locks import LoopSemaphore

__all__ = ["ReadLane"]

logger = logging.getLogger("threadstore")


class ReadLane:
    """At most one idle connection of ``engine``, for the next one-call read.

    The connection keeps the permit it took from ``gate``; it is released when
    the connection goes back to the pool.
    """

    def __init__(self, engine: AsyncEngine, gate: LoopSemaphore | None) -> None:
        self._engine = engine
        self._gate = gate
        self._idle: AsyncConnection | None = None

    @staticmethod
    def suits(engine: AsyncEngine) -> bool:
        """Whether a checkout of ``engine``'s pool could take its connections' place."""
        pool = engine.sync_engine.pool
        return (
            engine.dialect.driver == "asyncpg"
            and isinstance(pool, QueuePool)
            and pool.size() >= 2
            and not pool._pre_ping
            and pool._recycle < 0
        )

    async def take(self) -> AsyncConnection | None:
        """The idle connection, if there is one and it is fit; None otherwise."""
        conn, self._idle = self._idle, None
        if conn is None or _fit(conn):
            return conn
        logger.debug("threadstore: the read lane's connection is stale; replacing it")
        await self._give_back(conn, invalidate=True)
        return None

    def keep(self, conn: AsyncConnection) -> bool:
        """Hold ``conn`` (as its one-call read left it) instead of closing it."""
        if self._idle is not None or conn.engine is not self._engine or conn.in_transaction():
            return False
        self._idle = conn
        return True

    async def make_room(self) -> None:
        """Give the idle connection back if a checkout would otherwise wait for one."""
        if self._idle is not None and self._gate is not None and self._gate.would_wait():
            await self.close()

    async def close(self) -> None:
        """Give the idle connection back to the pool."""
        conn, self._idle = self._idle, None
        if conn is not None:
            await self._give_back(conn, invalidate=False)

    def forget(self) -> None:
        """Drop the idle connection unclosed (its loop is gone, and the pool with it)."""
        self._idle = None

    async def _give_back(self, conn: AsyncConnection, *, invalidate: bool) -> None:
        try:
            if invalidate:
                await conn.invalidate()
            await conn.close()
        finally:
            if self._gate is not None:
                self._gate.release()


def _fit(conn: AsyncConnection) -> bool:
    """Whether the pool would hand ``conn``'s connection out as it is."""
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return False
    fairy = sync.connection
    driver = fairy.driver_connection
    if driver is None or driver.is_closed():
        return False
    record = fairy._connection_record
    pool = conn.engine.sync_engine.pool
    return record is None or record.starttime >= pool._invalidate_time
