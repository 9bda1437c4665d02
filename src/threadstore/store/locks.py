"""Locks that tasks wait on without blocking a loop: across loops, or in one loop with no tie to it.

``asyncio.Lock`` belongs to one event loop: a store called from two threads,
each running its own loop (``asyncio.run`` per request, a threaded server),
would queue writers of both loops on it and hang. :class:`LoopLock` hands
ownership from one waiter to the next through the waiter's own loop
(``call_soon_threadsafe``), so it serialises tasks across loops and threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque

__all__ = ["LoopLock", "LoopSemaphore", "TaskLock"]


class LoopSemaphore:
    """A counted gate awaited by tasks of any loop; first come, first served.

    A freed permit goes to the oldest waiter, never to a task arriving later,
    so no waiter starves however busy the gate is.
    """

    def __init__(self, permits: int) -> None:
        self._mutex = threading.Lock()
        self._free = permits
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    def try_acquire(self) -> bool:
        """Take a permit if one is free and nobody waits; return whether it was taken."""
        with self._mutex:
            if self._free <= 0 or self._waiters:
                return False
            self._free -= 1
            return True

    def would_wait(self) -> bool:
        """Whether an :meth:`acquire` now would have to wait."""
        with self._mutex:
            return self._free <= 0 or bool(self._waiters)

    def queued(self) -> bool:
        """Whether some task waits for a permit."""
        with self._mutex:
            return bool(self._waiters)

    async def acquire(self) -> None:
        """Wait for a permit and take it."""
        loop = asyncio.get_running_loop()
        with self._mutex:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            with self._mutex:
                try:
                    self._waiters.remove((loop, waiter))
                    queued = True
                except ValueError:
                    queued = False
            if not queued and waiter.done() and not waiter.cancelled():
                self.release()  # the permit arrived together with the cancellation
            raise

    def release(self) -> None:
        """Give a permit back, handing it to the oldest waiter (on that waiter's loop)."""
        while True:
            with self._mutex:
                if not self._waiters:
                    self._free += 1
                    return
                loop, waiter = self._waiters.popleft()
            try:
                loop.call_soon_threadsafe(self._hand_over, waiter)
                return
            except RuntimeError:  # the waiter's loop is closed: try the next one
                continue

    def _hand_over(self, waiter: asyncio.Future[None]) -> None:
        if waiter.cancelled():
            self.release()
        else:
            waiter.set_result(None)

    async def __aenter__(self) -> None:
        if not self.try_acquire():
            await self.acquire()

    async def __aexit__(self, *_: object) -> None:
        self.release()


class LoopLock(LoopSemaphore):
    """A non-reentrant mutex awaited by tasks of any loop; first come, first served."""

    def __init__(self) -> None:
        super().__init__(1)

    def locked(self) -> bool:
        """Whether some task holds the lock."""
        return self._free <= 0


class TaskLock:
    """A mutex for the tasks of one event loop at a time that keeps no reference to the loop.

    ``asyncio.Lock`` keeps its loop once a task has waited on it, so a lock
    stored per loop (in a ``WeakKeyDictionary`` keyed by the loop) keeps its
    key alive forever. Here only a waiting task's future refers to the loop.
    Ownership passes straight to the oldest waiter (first come, first served;
    no newcomer takes it in between); one cancelled after it was handed the
    lock passes it on.
    """

    __slots__ = ("_locked", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        """Whether some task holds the lock."""
        return self._locked

    async def acquire(self) -> None:
        """Wait for the lock and take it."""
        if not self._locked:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the lock together with the cancellation
            elif waiter in self._waiters:  # (a release may have dropped it already)
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give the lock to the oldest waiter still waiting, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # it owns the lock now
                return
        self._locked = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *_: object) -> None:
        self.release()
