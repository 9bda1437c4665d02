"""MemoryStore: the whole contract in RAM, for development and tests."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager

from threadstore.clock import Clock, check_clock
from threadstore.records import HealthRecord
from threadstore.store.base import BaseStore
from threadstore.store.health import DEFAULT_TIMEOUT, check_timeout
from threadstore.store.memory.state import MemoryState
from threadstore.store.memory.unit import MemoryUnit, open_unit
from threadstore.validation import check_int

__all__ = ["MemoryStore"]


class MemoryStore(BaseStore):
    """A :class:`BaseStore` kept in process memory; data is lost on exit.

    Every unit holds the store's lock (one call, or a whole ``transaction()``
    block) and journals its changes, so a failed call or block leaves the
    store exactly as it was. Records are deep-copied in and out.

    Args:
        max_threads: Keep at most this many threads; creating one more evicts
            the least recently updated thread with all its data.
        clock: Returns the current aware time; inject one in tests.
    """

    backend_name = "memory"
    runs_without_loop = True

    def __init__(self, *, max_threads: int | None = None, clock: Clock | None = None) -> None:
        if max_threads is not None:
            check_int("max_threads", max_threads, minimum=1)
        self._state = MemoryState(max_threads=max_threads)
        self._clock = check_clock(clock)

    @property
    def max_threads(self) -> int | None:
        """The most threads kept (the least recently updated is evicted), None when unbounded."""
        return self._state.max_threads

    def __repr__(self) -> str:
        return f"MemoryStore(threads={len(self._state.threads)}, max_threads={self.max_threads})"

    def _open_unit(
        self, *, write: bool, block: bool, may_lag: bool = False
    ) -> AbstractAsyncContextManager[MemoryUnit]:
        return open_unit(self._state, self._clock)

    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """Report healthy; the memory backend has no schema and nothing to wait for."""
        check_timeout(timeout)
        started = time.perf_counter()
        return {
            "status": "healthy",
            "backend": type(self).__name__,
            "dialect": self.backend_name,
            "checks": {},
            "schema_revision": None,
            "latency_ms": (time.perf_counter() - started) * 1000,
            "error": None,
        }
