"""Health probes an orchestrator can poll: bounded in time, quiet, never raising.

Every backend's ``health_check`` runs its probe through :func:`run_probe`,
which returns an unhealthy report once the timeout passes, even when the
probe is stuck on a socket that never answers or a file lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from threadstore.errors import PersistenceError, ValidationError
from threadstore.records import HealthRecord, ReplicaHealthRecord

__all__ = ["DEFAULT_TIMEOUT", "Probe", "check_timeout", "run_probe", "settle"]

logger = logging.getLogger("threadstore")

DEFAULT_TIMEOUT = 5.0
"""Seconds a health check waits for the database before reporting it unhealthy."""


@dataclass
class Probe:
    """What a probe found: the schema revision, named checks and the first failure."""

    schema_revision: str | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    replicas: list[ReplicaHealthRecord] | None = None


def check_timeout(timeout: object) -> float:
    """Return ``timeout`` as seconds.

    Raises:
        ValidationError: it is not a positive, finite number.
    """
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValidationError(
            f"timeout must be a positive number of seconds, got {timeout!r}",
            suggestion="Pass e.g. health_check(timeout=5.0).",
        )
    return float(timeout)


async def run_probe(
    probe: Callable[[Probe], Awaitable[None]],
    *,
    backend: str,
    dialect: str,
    timeout: float,  # noqa: ASYNC109 - enforced here, around a task
    abandoned: set[asyncio.Task[None]],
) -> HealthRecord:
    """Run ``probe`` for at most ``timeout`` seconds and report what it found.

    The probe fills in a :class:`Probe` as it goes, so a timed-out report
    still shows the checks that passed. A probe still running at the timeout
    is cancelled and left in ``abandoned`` (the store awaits it on close), so
    the report is never held up by its cleanup. A :class:`PersistenceError`
    the probe raises is reported as the error; anything else is a bug and
    propagates.
    """
    started = time.perf_counter()
    found = Probe()
    task = asyncio.ensure_future(probe(found))
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if done:
        try:
            task.result()
        except PersistenceError as exc:
            found.error = str(exc)
    else:
        task.cancel()
        abandoned.add(task)
        task.add_done_callback(_forget(abandoned))
        found.error = f"the health check timed out after {timeout:g} s"
    if found.error is not None:
        logger.debug("health check of %s failed: %s", dialect, found.error)
    record: HealthRecord = {
        "status": "healthy" if found.error is None else "unhealthy",
        "backend": backend,
        "dialect": dialect,
        "schema_revision": found.schema_revision,
        "checks": dict(found.checks),
        "latency_ms": (time.perf_counter() - started) * 1000,
        "error": found.error,
    }
    if found.replicas is not None:
        record["replicas"] = list(found.replicas)
    return record


def _forget(abandoned: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def forget(task: asyncio.Task[None]) -> None:
        abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" warning

    return forget


async def settle(abandoned: set[asyncio.Task[None]]) -> None:
    """Wait for the cancelled probes of timed-out health checks to finish."""
    if abandoned:
        await asyncio.gather(*list(abandoned), return_exceptions=True)
