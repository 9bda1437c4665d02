"""Sync calls of async code: on the caller's bound loop, or on a private loop thread.

``graph.invoke`` and LangGraph's sync store API call from plain threads,
often with no event loop anywhere. :class:`SyncRunner` runs each coroutine
on the loop the object was last used on while that loop runs in another
thread, and otherwise on a private event loop in a daemon thread that it
starts on first use and stops on :meth:`SyncRunner.close`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["SyncRunner"]

logger = logging.getLogger("threadstore")

_T = TypeVar("_T")


def _drive(coro: Coroutine[Any, Any, _T], name: str) -> _T:
    """Run a coroutine that never suspends to completion, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise asyncio.InvalidStateError(
        f"a synchronous {name} call on the event loop's thread had to wait (another task "
        "holds the store); await the async method instead"
    )


class SyncRunner:
    """Run coroutines for sync callers (see the module docstring)."""

    def __init__(self, name: str, *, inline: bool = False) -> None:
        self._name = name
        self._inline = inline
        """Coroutines never wait on I/O (a MemoryStore): on a running loop's thread,
        drive them to completion directly instead of refusing."""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.bound: asyncio.AbstractEventLoop | None = None
        """The loop the async API was last called on (not the private one)."""

    def bind(self) -> None:
        """Remember the running loop, unless it is the private one."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        if running is not self._loop:
            self.bound = running

    def _private(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"{self._name}-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop sync calls run on now: the bound one while it runs, else the private one."""
        bound = self.bound
        if bound is not None and bound.is_running():
            return bound
        return self._private()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` to completion for a sync caller and return its result.

        Raises:
            asyncio.InvalidStateError: called on a thread whose event loop is
                running (blocking it could deadlock); use the async API there.
                An ``inline`` runner drives the coroutine there instead, and
                raises only if it had to wait (a contended lock).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            if self._inline:
                return _drive(coro, self._name)
            coro.close()
            raise asyncio.InvalidStateError(
                f"synchronous {self._name} methods cannot run on a thread whose event loop "
                "is running; await the async method (abatch, aget, asearch, ...) instead, "
                "or call from another thread"
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop()).result()

    def close(self) -> None:
        """Stop the private loop thread, if one was started. Safe to call twice."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if thread.is_alive():  # pragma: no cover - a coroutine refused to finish
            logger.warning("the %s loop thread did not stop within 10 s", self._name)
            return
        loop.close()
