"""A lock that tasks of any event loop, in any thread, can wait on without blocking a loop.

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

__all__ = ["LoopLock", "LoopSemaphore"]


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
