"""Coroutines run for synchronous callers: the one loop-thread runner of threadstore.

Every sync entry point goes through a :class:`LoopThread`:
:class:`~threadstore.SyncStore`, the sync methods of the LangGraph saver, and
the sync API and TTL sweeper of the LangGraph long-term store. A call made on
a thread with no running event loop runs its coroutine

1. on the *bound* loop (the loop the owner's async API last ran on, see
   :meth:`LoopThread.bind`) while that loop runs in another thread: its
   connections and locks live there;
2. else, for an ``inline`` runner (a store that never waits on I/O, such as a
   MemoryStore) whose private loop is not started, in the calling thread,
   one call at a time: no thread is needed;
3. else on the runner's private event loop, in a daemon thread started on
   first use (or only by :meth:`LoopThread.start`, with ``autostart=False``)
   and stopped by :meth:`LoopThread.stop`, at exit, or when the runner is
   garbage-collected. Stopping cancels what still runs there and finalises
   its async generators (so pools made on it are closed), then joins it.

On a thread whose event loop is running (the private loop's own thread
included) waiting would block that loop, and deadlock if the coroutine
needs it: an ``inline`` runner drives the coroutine there when it never has
to wait, and every other call raises :class:`~threadstore.errors.SyncStoreError`
(an ``asyncio.InvalidStateError`` too, as LangGraph's own savers raise).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import weakref
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from threadstore.errors import SyncStoreError

__all__ = ["HeldBlock", "LoopThread"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_STOP_TIMEOUT = 10.0
"""Seconds :meth:`LoopThread.stop` waits for the loop thread to end."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    """The loop thread: run until stopped, then cancel, finalise and close."""
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _halt(loop: asyncio.AbstractEventLoop, thread: threading.Thread, name: str) -> None:
    """Stop ``loop`` and join ``thread`` (only ask, when called on that thread)."""
    try:
        loop.call_soon_threadsafe(loop.stop)
    except RuntimeError:  # already closed
        return
    if threading.current_thread() is thread:
        return
    thread.join(timeout=_STOP_TIMEOUT)
    if thread.is_alive():  # pragma: no cover - a coroutine refused to finish
        logger.warning("the %s loop thread did not stop within %.0f s", name, _STOP_TIMEOUT)
    else:
        logger.debug("stopped %s", name)


def _drive(work: Coroutine[Any, Any, _T], owner: str) -> _T:
    """Run a coroutine that never suspends to completion, in the calling thread."""
    try:
        work.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    work.close()
    raise SyncStoreError(
        f"a synchronous {owner} call run in the calling thread had to wait "
        "(another task holds the store)",
        suggestion="Await the async method instead, or call from a thread without a loop.",
    )


class LoopThread:
    """Runs coroutines for sync callers (see the module docstring).

    Args:
        owner: Named in error messages (``"SyncStore"``, ``"ThreadstoreSaver"``).
        name: The loop thread's name (default ``threadstore-<owner>``).
        inline: The owner's coroutines never wait on I/O: drive them in the
            calling thread where the module docstring says so.
        autostart: Start the private loop on first use; if False, calls
            before :meth:`start` (or after :meth:`stop`) raise SyncStoreError.
        suggestion: What to do instead of a refused call.
    """

    def __init__(
        self,
        owner: str,
        *,
        name: str | None = None,
        inline: bool = False,
        autostart: bool = True,
        suggestion: str = "Await the async method instead, or call from another thread.",
    ) -> None:
        self._owner = owner
        self._name = name or f"threadstore-{owner}"
        self._inline = inline
        self._autostart = autostart
        self._suggestion = suggestion
        self._guard = threading.RLock()
        """Held to start or stop the private loop, and while driving a call inline."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopper: weakref.finalize[Any, Any] | None = None
        self._bound: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        """Whether the private loop thread is started and not stopped."""
        return self._loop is not None

    def start(self) -> asyncio.AbstractEventLoop:
        """Start the private loop thread (a no-op when it runs); return its loop."""
        with self._guard:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=_serve, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._loop = loop
                self._stopper = weakref.finalize(self, _halt, loop, thread, self._name)
                logger.debug("started %s", self._name)
            return self._loop

    def stop(self) -> None:
        """Stop the private loop and join its thread. Safe to call twice."""
        with self._guard:
            stopper, self._stopper, self._loop = self._stopper, None, None
        if stopper is not None:
            stopper()

    def bind(self) -> None:
        """Remember the running loop (unless it is the private one) for later sync calls."""
        running = _running_loop()
        if running is not None and running is not self._loop:
            self._bound = running

    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop new work runs on: the bound one while it runs, else the private one."""
        bound = self._bound
        if bound is not None and bound.is_running():
            return bound
        with self._guard:
            if self._loop is not None:
                return self._loop
            if not self._autostart:
                raise SyncStoreError(
                    f"the {self._owner} is not open",
                    suggestion=f"Call open() first, or use `with {self._owner}(...)`.",
                )
            return self.start()

    def submit(self, work: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Schedule ``work`` on :meth:`loop`; the caller waits on the returned future.

        Raises:
            SyncStoreError: the calling thread's event loop is running, or the
                runner is not started and does not start by itself.
        """
        running = _running_loop()
        try:
            if running is not None:
                where = "its own loop thread" if running is self._loop else "a running event loop"
                raise SyncStoreError(
                    f"a synchronous {self._owner} method was called from {where}; "
                    "it would block that loop",
                    suggestion=self._suggestion,
                )
            loop = self.loop()
        except SyncStoreError:
            work.close()
            raise
        return asyncio.run_coroutine_threadsafe(work, loop)

    def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        """Run ``work`` for a sync caller and return its result (or raise its error)."""
        if self._inline:
            with self._guard:
                here = _running_loop() is not None
                if here or (self._loop is None and not self._bound_runs()):
                    return _drive(work, self._owner)
        future = self.submit(work)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise
        except concurrent.futures.CancelledError:
            raise SyncStoreError(
                f"the {self._owner}'s loop thread stopped before the call finished",
                suggestion="Close it only once its calls have returned.",
            ) from None

    def _bound_runs(self) -> bool:
        return self._bound is not None and self._bound.is_running()


class HeldBlock:
    """An async context manager kept open by one task of a :class:`LoopThread`.

    Its ``async with`` is entered and left in that same task, as a
    transaction requires, while the block's calls run as further tasks.
    """

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
