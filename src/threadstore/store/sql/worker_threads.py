"""Worker threads for SQLite's blocking calls, each result set straight on the caller's loop.

:class:`WorkerThreads` queues a call (one queue for all its threads) and
resolves the caller's asyncio future with ``call_soon_threadsafe``: one
wake-up of the loop per call, as aiosqlite does for its own thread.
``loop.run_in_executor`` on a ``concurrent.futures`` executor does the same
work with a second future and a condition on each side, chained through the
loop; on this machine that cost about 20-30 us more per call (``bench/``'s
SQLite hot paths make one or two calls each).

Threads start when a call comes and every thread is busy, up to
``max_workers``, so a call never waits for a thread while another call
blocks (a writer waiting on SQLite's lock holds its thread). A call goes
to the thread that went idle last. Threads are
daemons stopped by a finalizer: when the pool is collected, on
:meth:`WorkerThreads.shutdown`, and at interpreter exit, where queued calls
still run before the threads are joined (as ``concurrent.futures`` does).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["WorkerThreads"]

_T = TypeVar("_T")

_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]
_Inbox = queue.SimpleQueue["_Call | None"]


class WorkerThreads:
    """Up to ``max_workers`` threads running calls awaited from any event loop."""

    def __init__(self, max_workers: int, name: str) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._threads = _Threads(max_workers, name)
        self._stop = weakref.finalize(self, self._threads.stop, wait=True)

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` on a worker thread.

        Cancelled before a thread took it, the call does not run; once running,
        it finishes and its result is dropped.

        Raises:
            RuntimeError: the threads were shut down.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._threads.submit((loop, future, fn, args))
        return await future

    @property
    def started(self) -> int:
        """Threads started so far (alive or not)."""
        return self._threads.started

    def shutdown(self) -> None:
        """Refuse new calls; the threads end once the queued ones ran (not waited for)."""
        self._stop.detach()
        self._threads.stop(wait=False)


class _Threads:
    """The threads of one :class:`WorkerThreads` (which they do not reference).

    Each thread has its own queue. A call goes to the thread that became idle
    last (its cache warm, likely still on the same CPU: handing calls round
    the idle threads in turn made each call several times slower on a 2-core
    VM), to a new thread when none is idle, or to the backlog at the bound,
    which a thread drains before it goes idle.
    """

    def __init__(self, max_workers: int, name: str) -> None:
        self._lock = threading.RLock()  # the finalizer may run in a worker holding it
        self._max = max_workers
        self._name = name
        self._threads: list[tuple[threading.Thread, _Inbox]] = []
        self._idle: list[_Inbox] = []
        self._backlog: collections.deque[_Call] = collections.deque()
        self._stopped = False
        self.started = 0

    def submit(self, call: _Call) -> None:
        with self._lock:
            if self._stopped:
                raise RuntimeError("threadstore: the store's SQLite worker threads were shut down")
            if self._idle:
                inbox = self._idle.pop()
            elif len(self._threads) < self._max:
                inbox = self._start()
            else:
                self._backlog.append(call)
                return
        inbox.put(call)

    def _start(self) -> _Inbox:
        self.started += 1
        inbox: _Inbox = queue.SimpleQueue()
        thread = threading.Thread(
            target=self._work, args=(inbox,), name=f"{self._name}_{self.started}", daemon=True
        )
        thread.start()
        self._threads.append((thread, inbox))
        return inbox

    def stop(self, *, wait: bool) -> None:
        with self._lock:
            self._stopped = True
            threads = list(self._threads)
        for _, inbox in threads:
            inbox.put(None)  # after the calls it holds, and the backlog it drains
        if wait:
            for thread, _ in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _work(self, inbox: _Inbox) -> None:
        call = inbox.get()
        while call is not None:
            loop, future, fn, args = call
            outcome = None if future.cancelled() else _outcome(fn, args)
            with self._lock:  # idle again before the caller hears back and calls anew
                following = self._backlog.popleft() if self._backlog else None
                if following is None:
                    self._idle.append(inbox)
            if outcome is not None:
                _resolve(loop, outcome[0], future, outcome[1])
            del call, loop, future, fn, args, outcome  # an idle thread keeps no caller's loop
            call = following if following is not None else inbox.get()


_Setter = Callable[["asyncio.Future[Any]", Any], None]


def _outcome(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[_Setter, Any]:
    """``fn(*args)``'s result or exception, with the future method that hands it over."""
    try:
        return _set_result, fn(*args)
    except BaseException as exc:  # handed to the awaiting coroutine
        if isinstance(exc, StopIteration):  # cannot be raised into a future
            exc = RuntimeError(repr(exc))
        return _set_exception, exc


def _resolve(
    loop: asyncio.AbstractEventLoop,
    setter: _Setter,
    future: asyncio.Future[Any],
    value: Any,
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
        loop.call_soon_threadsafe(setter, future, value)


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
