"""Fresh PostgreSQL databases copied ahead of the tests that need them.

``CREATE DATABASE ... TEMPLATE`` costs 150-400 ms on a 2-core CI machine and
about 1,600 tests need a database of their own. A background thread with its
own event loop and two admin connections copies the next databases while the
current test runs and drops used ones after it, so a test waits only when it
outruns the copies. Each test still gets a database nobody else has touched.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import deque
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

T = TypeVar("T")


class DatabaseSupply:
    """Databases made from templates ahead of need (``ahead`` per template, by ``connections``)."""

    def __init__(self, admin_url: str, ahead: int = 4, connections: int = 2) -> None:
        self._admin_url = make_url(admin_url).set(drivername="postgresql")
        self._ahead = ahead
        self._ready: dict[str | None, deque[Future[str]]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="threadstore-test-db-supply", daemon=True
        )
        self._thread.start()
        self._idle: asyncio.Queue[Any] | None = None
        self._conns: list[Any] = []
        self._submit(self._connect(connections)).result()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _connect(self, count: int) -> None:
        import asyncpg

        self._idle = asyncio.Queue()
        dsn = self._admin_url.render_as_string(hide_password=False)
        for _ in range(count):
            conn = await asyncpg.connect(dsn)
            self._conns.append(conn)
            self._idle.put_nowait(conn)

    async def _execute(self, statement: str) -> None:
        assert self._idle is not None
        conn = await self._idle.get()
        try:
            await conn.execute(statement)
        finally:
            self._idle.put_nowait(conn)

    async def _create(self, template: str | None) -> str:
        name = f"threadstore_test_{uuid.uuid4().hex[:12]}"
        source = f' TEMPLATE "{template}"' if template else ""
        await self._execute(f'CREATE DATABASE "{name}"{source}')
        return name

    def url(self, name: str) -> str:
        return self._admin_url.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )

    async def take(self, template: str | None) -> str:
        """A new database copied from ``template`` (None: an empty one); returns its name."""
        queue = self._ready.setdefault(template, deque())
        while len(queue) < self._ahead + 1:
            queue.append(self._submit(self._create(template)))
        return await asyncio.wrap_future(queue.popleft())

    def drop(self, name: str) -> None:
        """Drop ``name`` in the background (connections to it are terminated)."""
        self._submit(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def discard(self, template: str) -> None:
        """Drop the databases made ahead from ``template``, then the template itself."""
        for future in self._ready.pop(template, deque()):
            self.drop(future.result())
        self._submit(self._execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')).result()

    def close(self) -> None:
        for template in list(self._ready):
            for future in self._ready.pop(template):
                self.drop(future.result())

        async def finish() -> None:
            assert self._idle is not None
            for _ in self._conns:  # each connection, once every statement queued has run
                await (await self._idle.get()).close()

        self._submit(finish()).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
