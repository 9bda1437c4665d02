"""The private event loop thread behind :class:`~threadstore.SyncStore`.

One :class:`LoopThread` owns one event loop running in one daemon thread
(started by :meth:`LoopThread.start`, stopped by :meth:`LoopThread.stop`);
any number of caller threads hand it coroutines and wait for the results.
A ``transaction()`` block is held open by one task on that loop (its async
context manager is entered and left in the same task, as it requires), while
the block's calls run as further tasks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from threadstore.errors import SyncStoreError

__all__ = ["HeldBlock", "LoopThread"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class LoopThread:
    """An event loop in a thread of its own, serving synchronous callers."""

    def __init__(self, name: str = "threadstore-sync") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the loop thread is started and not stopped."""
        return self._loop is not None

    def start(self) -> None:
        """Start the loop thread (a no-op when it runs)."""
        with self._guard:
            if self._loop is not None:
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=self._serve, args=(loop, ready), name=self._name, daemon=True
            )
            thread.start()
            ready.wait()
            self._loop, self._thread = loop, thread
            logger.debug("started %s", self._name)

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Stop the loop and join its thread (a no-op when stopped)."""
        with self._guard:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        logger.debug("stopped %s", self._name)

    def submit(self, work: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Schedule ``work`` on the loop; the caller waits on the returned future."""
        loop = self._loop
        if loop is None:
            work.close()
            raise SyncStoreError(
                "the SyncStore is not open", suggestion="Call open() or use `with SyncStore(...)`."
            )
        if threading.current_thread() is self._thread:
            work.close()
            raise SyncStoreError("a SyncStore was called from its own loop thread")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run_coroutine_threadsafe(work, loop)
        work.close()
        raise SyncStoreError(
            "a SyncStore method was called from a running event loop; it would block that loop",
            suggestion="Await the async store's method instead, or use asyncio.to_thread(...).",
        )

    def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        """Run ``work`` on the loop and return its result (or raise its error)."""
        future = self.submit(work)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise


class HeldBlock:
    """An async context manager kept open by one task of a :class:`LoopThread`."""

    def __init__(self, runner: LoopThread, opening: AbstractAsyncContextManager[Any]) -> None:
        self._runner = runner
        self._opening = opening
        self._finish: asyncio.Future[BaseException | None] | None = None
        self._held: concurrent.futures.Future[None] | None = None

    def enter(self) -> Any:
        """Open the block; return what its ``async with`` gives."""
        entered: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._held = self._runner.submit(self._hold(entered))
        try:
            return entered.result()
        except BaseException:
            self._held.result()  # the same error, once the task has ended
            raise

    def exit(self, exc: BaseException | None) -> None:
        """End the block: commit, or roll back with ``exc`` (re-raised only if it changed)."""
        finish, held = self._finish, self._held
        if finish is None or held is None:
            raise SyncStoreError("a transaction block was left before it was entered")
        finish.get_loop().call_soon_threadsafe(finish.set_result, exc)
        try:
            held.result()
        except BaseException as raised:
            if raised is not exc:
                raise

    async def _hold(self, entered: concurrent.futures.Future[Any]) -> None:
        self._finish = asyncio.get_running_loop().create_future()
        try:
            async with self._opening as value:
                entered.set_result(value)
                exc = await self._finish
                if exc is not None:
                    raise exc
        except BaseException as error:
            if not entered.done():
                entered.set_exception(error)
            raise
