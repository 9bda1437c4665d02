"""ADK session-service benchmark: ThreadstoreSessionService beside ADK's DatabaseSessionService.

On one backend (a SQLite file, or PostgreSQL from THREADSTORE_TEST_POSTGRES_URL
with ``--postgres``, each service in its own fresh database) it appends N events
to one session (sequentially), then times ``get_session`` of the last 10 events,
of the events after a timestamp near the end, and of the whole session.

Usage: ``python bench/bench_adk.py [--events 1000] [--postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from google.adk.events.event import Event
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig
from google.adk.sessions.database_session_service import DatabaseSessionService
from google.genai import types
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from threadstore import SQLAlchemyStore
from threadstore.adk import ThreadstoreSessionService


@asynccontextmanager
async def database(postgres: bool, folder: Path) -> AsyncIterator[str]:
    """A fresh empty database URL (a SQLite file, or a new PostgreSQL database)."""
    if not postgres:
        yield f"sqlite+aiosqlite:///{folder / uuid.uuid4().hex}.db"
        return
    server = make_url(os.environ["THREADSTORE_TEST_POSTGRES_URL"])
    name = f"bench_adk_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)[len(samples) // 2]


async def measure(service: BaseSessionService, events: int) -> dict[str, float]:
    session = await service.create_session(app_name="bench", user_id="u", session_id="s")
    start = time.perf_counter()
    for n in range(events):
        content = types.Content(role="user", parts=[types.Part(text=f"message {n} " * 20)])
        event = Event(author="user", invocation_id="i", content=content, timestamp=1000.0 + n)
        await service.append_event(session, event)
    append_ms = (time.perf_counter() - start) * 1000 / events

    async def get(config: GetSessionConfig | None) -> object:
        return await service.get_session(
            app_name="bench", user_id="u", session_id="s", config=config
        )

    return {
        "append_event_ms": round(append_ms, 2),
        "get_last_10_ms": round(
            await timed(lambda: get(GetSessionConfig(num_recent_events=10)), 21), 2
        ),
        "get_after_timestamp_10_ms": round(
            await timed(lambda: get(GetSessionConfig(after_timestamp=1000.0 + events - 10)), 21), 2
        ),
        "get_all_ms": round(await timed(lambda: get(None), 5), 2),
    }


async def main(events: int, postgres: bool) -> None:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        async with database(postgres, Path(folder)) as url, SQLAlchemyStore(url) as store:
            results["threadstore"] = await measure(ThreadstoreSessionService(store), events)
        async with database(postgres, Path(folder)) as url:
            adk = DatabaseSessionService(url)
            try:
                results["adk_database"] = await measure(adk, events)
            finally:
                await adk.close()
    backend = "postgresql" if postgres else "sqlite"
    print(json.dumps({"backend": backend, "events": events, **results}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.postgres))
