"""MemoryStore: the whole contract in RAM, for development and tests."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager

from threadstore.clock import Clock, utcnow
from threadstore.records import HealthRecord
from threadstore.store.base import BaseStore
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
        self._clock = clock or utcnow

    def __repr__(self) -> str:
        return (
            f"MemoryStore(threads={len(self._state.threads)}, "
            f"max_threads={self._state.max_threads})"
        )

    def _open_unit(self, *, write: bool, block: bool) -> AbstractAsyncContextManager[MemoryUnit]:
        return open_unit(self._state, self._clock)

    async def health_check(self) -> HealthRecord:
        """Report healthy; the memory backend has no schema."""
        started = time.perf_counter()
        return {
            "status": "healthy",
            "backend": self.backend_name,
            "schema_revision": None,
            "latency_ms": (time.perf_counter() - started) * 1000,
            "error": None,
        }
