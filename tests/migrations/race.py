"""A process that starts a store on one database and reports what it did.

Run through ``multiprocessing`` (spawn) by test_initialize: every process waits
on a shared barrier, then calls ``initialize()`` at the same moment.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from threadstore import SQLAlchemyStore


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def start_store(url: str, auto_migrate: bool | None, barrier: Any, results: Any) -> None:
    """Initialize a store on ``url`` and put a report on the ``results`` queue."""
    recorder = _Recorder()
    for name in ("alembic.runtime.migration", "threadstore.migrations"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(recorder)

    async def run() -> dict[str, Any]:
        store = SQLAlchemyStore(url, auto_migrate=auto_migrate)
        try:
            await store.initialize()
            health = await store.health_check()
            await store.create_thread(f"t-{os.getpid()}", "alice", "helper")
            return {"status": health["status"], "revision": health["schema_revision"]}
        finally:
            await store.close()

    report: dict[str, Any] = {"error": None}
    barrier.wait()
    try:
        report.update(asyncio.run(run()))
    except Exception as exc:  # reported to the test, which fails on it
        report["error"] = f"{type(exc).__name__}: {exc}"
    report["alembic_steps"] = sum(m.startswith("Running upgrade") for m in recorder.messages)
    report["upgraded"] = any(m.startswith("upgraded threadstore") for m in recorder.messages)
    results.put(report)
