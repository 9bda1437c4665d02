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

__all__ = ["LoopLock"]


class LoopLock:
    """A non-reentrant mutex awaited by tasks of any loop; first come, first served."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    def locked(self) -> bool:
        """Whether some task holds the lock."""
        return self._held

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting; return whether it was taken."""
        with self._mutex:
            if self._held:
                return False
            self._held = True
            return True

    async def acquire(self) -> None:
        """Wait until the lock is free and take it."""
        loop = asyncio.get_running_loop()
        with self._mutex:
            if not self._held:
                self._held = True
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
                self.release()  # ownership arrived together with the cancellation
            raise

    def release(self) -> None:
        """Free the lock, handing it to the oldest waiter (on that waiter's loop)."""
        while True:
            with self._mutex:
                if not self._waiters:
                    self._held = False
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
