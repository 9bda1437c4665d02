"""The raw drivers behind one tiny interface, so a reference is written once for both.

SQL is written with ``?`` placeholders; :class:`RawPostgres` turns them into
``$1, $2, ...``. Timestamps are passed as aware datetimes and stored the way
threadstore stores them (naive UTC text on SQLite, timestamptz on PostgreSQL).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg


class RawDB(Protocol):
    """What a reference implementation needs of a driver connection."""

    name: str

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def fetch(self, sql: str, *args: Any) -> list[Any]: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    async def begin_write(self) -> None: ...

    async def commit(self) -> None: ...

    def stamp(self, moment: datetime) -> Any: ...

    async def close(self) -> None: ...


class RawSqlite:
    """aiosqlite in autocommit mode; writes take the lock up front (BEGIN IMMEDIATE)."""

    name = "aiosqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def connect(cls, path: str) -> RawSqlite:
        conn = await aiosqlite.connect(path, isolation_level=None)
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=FULL")
        return cls(conn)

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(sql, args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        cursor = await self.conn.execute(sql, args)
        return list(await cursor.fetchall())

    async def fetchval(self, sql: str, *args: Any) -> Any:
        cursor = await self.conn.execute(sql, args)
        row = await cursor.fetchone()
        return None if row is None else row[0]

    async def begin_write(self) -> None:
        await self.conn.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    def stamp(self, moment: datetime) -> Any:
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    async def close(self) -> None:
        await self.conn.close()


_PLACEHOLDER = re.compile(r"\?")


class RawPostgres:
    """One asyncpg connection (its statement cache on, as asyncpg's default)."""

    name = "asyncpg"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._sql: dict[str, str] = {}

    @classmethod
    async def connect(cls, dsn: str) -> RawPostgres:
        return cls(await asyncpg.connect(dsn))

    def _numbered(self, sql: str) -> str:
        numbered = self._sql.get(sql)
        if numbered is None:
            counter = iter(range(1, 1000))
            numbered = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)
            self._sql[sql] = numbered
        return numbered

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(self._numbered(sql), *args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(self._numbered(sql), *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(self._numbered(sql), *args)

    async def begin_write(self) -> None:
        await self.conn.execute("BEGIN")

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    def stamp(self, moment: datetime) -> Any:
        return moment

    async def close(self) -> None:
        await self.conn.close()
