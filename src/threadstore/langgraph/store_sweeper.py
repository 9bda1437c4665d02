"""Deleting expired long-term memory items: on demand, or by a sweeper the app starts and stops."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import TYPE_CHECKING, Any

from threadstore.errors import ValidationError
from threadstore.sync_loop import LoopThread

if TYPE_CHECKING:
    from threadstore.store.base import BaseStore

__all__ = ["SWEEP_BATCH", "Sweeper"]

logger = logging.getLogger("threadstore")

SWEEP_BATCH = 1000
"""Expired items deleted per transaction."""
_DEFAULT_INTERVAL_MINUTES = 5


class Sweeper:
    """TTL sweeping of a long-term store (mixed into ThreadstoreLongTermStore)."""

    store: BaseStore
    ttl_config: Any

    def __init__(self, runner: LoopThread) -> None:
        self._sweep_runner = runner
        self._sweep_lock = threading.Lock()
        self._sweep_future: concurrent.futures.Future[None] | None = None
        self._sweep_loop: asyncio.AbstractEventLoop | None = None
        self._sweep_done = threading.Event()

    async def asweep_ttl(self) -> int:
        """Delete expired items, a batch per transaction; return how many.

        The store itself sweeps every scope; a ``for_user`` view its own.
        """
        total = 0
        while True:
            async with self.store.unit(write=True) as unit:
                swept = await unit.memory_items.sweep(unit.maintenance.now(), SWEEP_BATCH)
            total += swept
            if swept < SWEEP_BATCH:
                return total

    def sweep_ttl(self) -> int:
        """Sync :meth:`asweep_ttl`."""
        return self._sweep_runner.run(self.asweep_ttl())

    def _interval(self, minutes: float | None, seconds: float | None) -> float:
        if seconds is None:
            configured = (self.ttl_config or {}).get("sweep_interval_minutes")
            seconds = 60.0 * float(minutes or configured or _DEFAULT_INTERVAL_MINUTES)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise ValidationError(
                f"the sweep interval must be a positive number, got {seconds!r}",
                suggestion="Pass sweep_interval_minutes=5 (or interval_seconds=...).",
            )
        return float(seconds)

    async def _sweep_forever(self, interval: float, done: threading.Event) -> None:
        try:
            while True:
                try:
                    swept = await self.asweep_ttl()
                    if swept:
                        logger.info("TTL sweeper deleted %d expired memory items", swept)
                except Exception:  # keep sweeping: the next round may succeed
                    logger.warning("TTL sweep failed; retrying in %.0f s", interval, exc_info=True)
                await asyncio.sleep(interval)
        finally:
            done.set()

    def start_ttl_sweeper(
        self,
        sweep_interval_minutes: float | None = None,
        *,
        interval_seconds: float | None = None,
    ) -> concurrent.futures.Future[None]:
        """Start deleting expired items every interval; a no-op if already running.

        Runs on the loop the async API last ran on while it runs (so it may be
        called from inside that loop), otherwise on the private loop thread.
        The interval defaults to ``ttl_config["sweep_interval_minutes"]``, else 5
        minutes. Returns the sweeper's future (it ends when stopped).
        """
        interval = self._interval(sweep_interval_minutes, interval_seconds)
        with self._sweep_lock:
            if self._sweep_future is not None and not self._sweep_future.done():
                return self._sweep_future
            self._sweep_runner.bind()
            done = threading.Event()
            self._sweep_done = done
            loop = self._sweep_runner.loop()
            future = asyncio.run_coroutine_threadsafe(self._sweep_forever(interval, done), loop)
            self._sweep_future, self._sweep_loop = future, loop
            return future

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper; return whether it has stopped (True if none ran).

        Waits up to ``timeout`` seconds (forever when None), except on the
        sweeper's own loop thread, where it only requests the stop, and when
        that loop no longer runs (its sweeper can never run again).
        """
        with self._sweep_lock:
            future, self._sweep_future = self._sweep_future, None
            loop, self._sweep_loop = self._sweep_loop, None
        if future is None:
            return True
        future.cancel()
        if loop is None or not loop.is_running():
            return True
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._sweep_done.wait(timeout)
        return self._sweep_done.is_set()

    async def astop_ttl_sweeper(self, wait: float = 10.0) -> bool:
        """Stop the sweeper from async code; wait up to ``wait`` seconds for it to end."""
        self.stop_ttl_sweeper(timeout=0)
        return await asyncio.to_thread(self._sweep_done.wait, wait)
