"""One engine per event loop: an AsyncEngine's pooled connections belong to one loop.

asyncpg connections (and SQLAlchemy's async pool queue) are bound to the loop
that made them. The store's engine serves its *home* loop, the first loop
that uses it; a loop running at the same time in another thread gets a
sibling engine without pooling (its connections are opened and closed per
call, so nothing outlives that loop), as does a loop that has already
finalised its async generators. When the home loop shuts down through
``asyncio.run`` (or anything else that finalises async generators), the pool
is closed on that loop while it still runs, and the next loop to call becomes
home; a home loop closed without that step leaves its pool behind unused.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
import weakref
from collections.abc import AsyncGenerator
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool, QueuePool

from threadstore.store.locks import LoopSemaphore
from threadstore.store.sql.connections import Engine
from threadstore.store.sql.read_lane import ReadLane
from threadstore.store.sql.threaded import ThreadedEngine

__all__ = ["LoopEngines"]

logger = logging.getLogger("threadstore")


def _sibling(engine: AsyncEngine) -> AsyncEngine:
    """An engine like ``engine`` (dialect, options, event hooks) without a pool."""
    sync = engine.sync_engine
    pool = sync.pool
    unpooled = NullPool(
        pool._creator,
        dialect=pool._dialect,
        _dispatch=pool.dispatch,
    )
    clone = copy.copy(sync)
    clone.pool = unpooled
    return AsyncEngine(clone)


def _fair_gate(engine: Engine) -> LoopSemaphore | None:
    pool = engine.sync_engine.pool
    overflow = getattr(pool, "_max_overflow", -1)
    if not isinstance(pool, QueuePool) or not isinstance(overflow, int) or overflow < 0:
        return None
    return LoopSemaphore(pool.size() + overflow)


def _call_gate(engine: Engine) -> LoopSemaphore | None:
    pool = engine.sync_engine.pool
    overflow = getattr(pool, "_max_overflow", 0)
    if not isinstance(pool, QueuePool) or overflow == 0 or pool.size() <= 0:
        return None
    return LoopSemaphore(pool.size())


def _finalised(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` already ran ``shutdown_asyncgens()`` and yet runs on.

    ``Runner.run_sync`` of the OpenAI Agents SDK does so after every turn and
    reuses the loop; nothing would close a pool there when it ends (a new async
    generator is no longer finalised), so such a loop gets an unpooled engine.
    """
    return bool(getattr(loop, "_asyncgens_shutdown_called", False))


_E = TypeVar("_E", AsyncEngine, ThreadedEngine, Engine)


class LoopEngines(Generic[_E]):
    """Hands each running event loop an engine it may use.

    A :class:`ThreadedEngine` belongs to no loop: every loop gets it.
    """

    def __init__(self, engine: _E, *, read_lane: bool = False) -> None:
        self.main: _E = engine
        self._home: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._others: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _E] = (
            weakref.WeakKeyDictionary()
        )
        self._mutex = threading.Lock()
        self._sentinel: AsyncGenerator[None] | None = None
        self._gate = _fair_gate(engine)
        self._calls = _call_gate(engine)
        self._lane: ReadLane | None = (
            ReadLane(engine, self._gate) if read_lane and ReadLane.suits(engine) else None
        )

    def gate(self, engine: Engine) -> LoopSemaphore | None:
        """The first-come-first-served queue in front of ``engine``'s pool, if it has one.

        SQLAlchemy's async pool lets a task arriving now take a connection
        that a long-waiting task was about to get; under load a waiter can
        lose that race until ``pool_timeout``. Callers queue here first, so
        connections go out in arrival order.
        """
        return self._gate if engine is self.main else None

    def calls(self, engine: Engine) -> LoopSemaphore | None:
        """The queue of one-call units for ``engine``'s ``pool_size`` connections, if it overflows.

        A connection beyond ``pool_size`` is opened for one checkout and closed
        when it comes back while the pool holds ``pool_size`` idle ones: under
        steady concurrency the pool opened and closed a connection every few
        calls (on PostgreSQL a new server session each time, on SQLite a
        connection closed on the event loop). One-call units therefore wait
        here, in arrival order, for one of the ``pool_size`` connections;
        transactions and blocks may still take the overflow.
        """
        return self._calls if engine is self.main else None

    def lane(self, engine: Engine) -> ReadLane | None:
        """The read lane of ``engine`` (the home engine's; see :mod:`.read_lane`)."""
        return self._lane if engine is self.main else None

    async def close_lane(self) -> None:
        """Give the read lane's connection back to the pool (before disposing it)."""
        if self._lane is not None:
            await self._lane.close()

    def settled(self) -> _E | None:
        """The engine for the running loop when no setting up is due (the home loop's), else None.

        :meth:`current` without a coroutine, for the calls that find it so.
        """
        if isinstance(self.main, ThreadedEngine):
            return self.main
        home = self._home
        if home is not None and home() is asyncio.get_running_loop():
            return self.main
        return None

    async def current(self) -> _E:
        """The engine for the running loop."""
        settled = self.settled()
        if settled is not None or isinstance(self.main, ThreadedEngine):  # (narrows main)
            return self.main
        loop = asyncio.get_running_loop()
        with self._mutex:
            home_loop = None if self._home is None else self._home()
            busy_home = home_loop is not None and not home_loop.is_closed()
            if (home_loop is not loop and busy_home) or _finalised(loop):
                engine = self._others.get(loop)
                if engine is None:
                    engine = self._others[loop] = _sibling(self.main)
                return engine
            stale = home_loop is not None and home_loop is not loop
            self._home = weakref.ref(loop)
        if stale:
            logger.info("threadstore: the engine's event loop was closed; replacing its pool")
            if self._lane is not None:
                self._lane.forget()
            self.main.sync_engine.dispose(close=False)
        sentinel = self._until_loop_ends(loop)
        await anext(sentinel)
        self._sentinel = sentinel  # finalised by the loop's shutdown_asyncgens()
        return self.main

    async def _until_loop_ends(self, loop: asyncio.AbstractEventLoop) -> AsyncGenerator[None]:
        try:
            yield
        finally:
            # Stay home until the pool is gone: a loop calling meanwhile gets a
            # sibling, not a connection from the pool being disposed (it would
            # be checked in to that old pool and never closed).
            with self._mutex:
                ours = self._home is not None and self._home() is loop
            if ours:
                with contextlib.suppress(Exception):
                    await self.close_lane()
                with contextlib.suppress(Exception):
                    await self.main.dispose()
                with self._mutex:
                    if self._home is not None and self._home() is loop:
                        self._home = None

    def forget(self) -> None:
        """Drop the sibling engines and the home loop (after the pool was disposed)."""
        with self._mutex:
            self._others.clear()
            self._home = None
        if self._lane is not None:
            self._lane.forget()
