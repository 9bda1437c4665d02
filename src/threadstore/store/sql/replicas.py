"""Read replicas: which reads may go to a streaming standby, and when one may serve them.

A read that may lag (thread lists, message pages, stats) goes to a replica
when one is up, within ``max_lag`` seconds of the primary, and has replayed
every write of this store: after each committed write the store records the
primary's WAL insert position (``pg_current_wal_insert_lsn()``, at or past
the commit record) and a replica serves a read only once its
``pg_last_wal_replay_lsn()`` has reached it (read-your-writes). Otherwise
the read goes to the primary. A replica that cannot be reached, is no longer
in recovery or lags past the bound is skipped for ``retry_after`` seconds,
with a WARNING when it starts being skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from threadstore.config import redact_url, split_pgbouncer
from threadstore.engine import create_engine
from threadstore.engine_options import pgbouncer_options
from threadstore.errors import ValidationError
from threadstore.records import ReplicaHealthRecord
from threadstore.store.sql.connections import Conn
from threadstore.store.sql.engines import LoopEngines

__all__ = ["DEFAULT_MAX_LAG", "ReplicaSet", "lsn_value"]

logger = logging.getLogger("threadstore")

DEFAULT_MAX_LAG = 10.0
"""Seconds a replica may trail the primary and still serve reads."""

_RETRY_AFTER = 5.0
"""Seconds a skipped replica is left alone before it is tried again."""

_CHECK_EVERY = 1.0
"""Seconds a replica's measured lag is trusted before it is measured again."""

_REPLICA_STATE = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END::float8"
)
"""In recovery, replayed up to, and seconds behind (0 when everything received is replayed)."""

_PRIMARY_POSITION = "SELECT pg_current_wal_insert_lsn()::text"

# Replica probes catch every exception (asyncpg's are raw here): a replica that
# fails in any way is skipped and the read goes to the primary.


def lsn_value(lsn: str) -> int:
    """A ``pg_lsn`` text (``16/B374D848``) as a comparable number."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass
class _Replica:
    engines: LoopEngines[AsyncEngine]
    where: str
    replayed: int = -1
    lag: float | None = None
    state: str = "unknown"
    checked_at: float = float("-inf")
    skip_until: float = float("-inf")


async def _driver(conn: Conn) -> Any:
    if not isinstance(conn, AsyncConnection):  # replicas are PostgreSQL's
        raise TypeError("threadstore: a replica set on a SQLite connection")
    raw = await conn.get_raw_connection()
    return raw.driver_connection


class ReplicaSet:
    """The replicas of one store and the newest write position that store made."""

    def __init__(
        self,
        urls: Sequence[URL],
        engine_options: dict[str, Any],
        *,
        max_lag: float = DEFAULT_MAX_LAG,
    ) -> None:
        if isinstance(max_lag, bool) or not isinstance(max_lag, int | float) or max_lag < 0:
            raise ValidationError(
                f"replica_max_lag must be a number of seconds >= 0, got {max_lag!r}",
                suggestion="Pass e.g. replica_max_lag=10.0.",
            )
        self.max_lag = float(max_lag)
        self._replicas: list[_Replica] = []
        for url in urls:
            url, pooled = split_pgbouncer(url)
            options = pgbouncer_options(engine_options) if pooled else dict(engine_options)
            engine = create_engine(url, **options)
            self._replicas.append(_Replica(LoopEngines(engine), redact_url(url)))
        self.written = -1
        """The primary's WAL position after this store's newest committed write."""
        self._blind_until = float("-inf")
        self._next = 0

    def __bool__(self) -> bool:
        return bool(self._replicas)

    async def connect(self) -> AsyncConnection | None:
        """A replica connection that may serve a lagging read now; None: use the primary."""
        count = len(self._replicas)
        if time.monotonic() < self._blind_until:
            return None
        for step in range(count):
            replica = self._replicas[(self._next + step) % count]
            now = time.monotonic()
            if now < replica.skip_until:
                continue
            conn = await self._try(replica, now)
            if conn is not None:
                self._next = (self._next + step + 1) % count  # spread reads over the replicas
                return conn
        return None

    async def _try(self, replica: _Replica, now: float) -> AsyncConnection | None:
        try:
            engine = await replica.engines.current()
            conn = await engine.connect()
        except Exception as exc:
            self._skip(replica, "down", f"cannot be reached ({exc})")
            return None
        fresh = now - replica.checked_at < _CHECK_EVERY and replica.replayed >= self.written
        if fresh:
            return conn
        try:
            await self._measure(replica, conn)
        except Exception as exc:
            await _close(conn)
            self._skip(replica, "down", f"failed ({exc})")
            return None
        if replica.state != "streaming":
            await _close(conn)
            return None
        if replica.replayed < self.written:
            await _close(conn)  # behind this store's own writes: the primary answers this one
            return None
        return conn

    async def _measure(self, replica: _Replica, conn: AsyncConnection) -> None:
        in_recovery, replayed, lag = await (await _driver(conn)).fetchrow(_REPLICA_STATE)
        replica.checked_at = time.monotonic()
        replica.replayed = -1 if replayed is None else lsn_value(replayed)
        replica.lag = None if lag is None else max(float(lag), 0.0)
        if not in_recovery:
            self._skip(replica, "not_in_recovery", "is not a standby (promoted?)")
        elif replica.lag is not None and replica.lag > self.max_lag:
            self._skip(replica, "lagging", f"is {replica.lag:.1f} s behind (max {self.max_lag:g})")
        else:
            if replica.state not in ("streaming", "unknown"):
                logger.warning("threadstore: read replica %s serves reads again", replica.where)
            replica.state = "streaming"

    def _skip(self, replica: _Replica, state: str, why: str) -> None:
        if replica.state != state:
            logger.warning(
                "threadstore: read replica %s %s; reading from the primary for %g s",
                replica.where,
                why,
                _RETRY_AFTER,
            )
        replica.state = state
        replica.skip_until = time.monotonic() + _RETRY_AFTER

    def failed(self, conn: Conn) -> None:
        """A read on ``conn`` lost its replica: skip that replica for a while."""
        for replica in self._replicas:
            if conn.engine.url == replica.engines.main.url:
                self._skip(replica, "down", "lost its connection")

    async def record_write(self, conn: Conn) -> None:
        """After a committed write on the primary ``conn``: remember its WAL position.

        When the position cannot be read, every read goes to the primary for a
        while, so a replica never serves a state older than the write.
        """
        try:
            position = await (await _driver(conn)).fetchval(_PRIMARY_POSITION)
        except Exception as exc:
            logger.warning(
                "threadstore: cannot read the primary's WAL position (%s); "
                "reading from the primary for %g s",
                exc,
                _RETRY_AFTER,
            )
            self._blind_until = time.monotonic() + _RETRY_AFTER
            return
        self.written = max(self.written, lsn_value(position))

    async def health(self) -> list[ReplicaHealthRecord]:
        """Measure every replica now (skipped ones included) and report each."""
        report: list[ReplicaHealthRecord] = []
        for replica in self._replicas:
            try:
                engine = await replica.engines.current()
                async with engine.connect() as conn:
                    await self._measure(replica, conn)
            except Exception as exc:
                self._skip(replica, "down", f"cannot be reached ({exc})")
                replica.lag = None
            report.append(
                {
                    "url": replica.where,
                    "state": replica.state,
                    "lag_seconds": replica.lag,
                    "caught_up": replica.replayed >= self.written,
                }
            )
        return report

    async def dispose(self) -> None:
        """Close every replica's pool."""
        for replica in self._replicas:
            await replica.engines.main.dispose()
            replica.engines.forget()


async def _close(conn: AsyncConnection) -> None:
    try:
        await conn.close()
    except Exception:
        await conn.invalidate()
