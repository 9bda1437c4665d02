"""Where a unit of work gets its connection: a replica, a SQLite commit group or the pool.

:func:`open_unit` is the single decision point: a one-call read that may lag
goes to a read replica that has caught up with this store's writes; a
one-call SQLite write joins the commit group (see
:mod:`~threadstore.store.sql.group_commit`); everything else checks out a
connection of the primary, in arrival order (:func:`checkout`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from types import TracebackType

from sqlalchemy.exc import TimeoutError as PoolTimeout

from threadstore.errors import PersistenceConnectionError
from threadstore.store.locks import LoopSemaphore
from threadstore.store.sql.connections import Conn, Engine
from threadstore.store.sql.engines import LoopEngines
from threadstore.store.sql.group_commit import Turn
from threadstore.store.sql.read_lane import ReadLane
from threadstore.store.sql.replicas import ReplicaSet
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error
from threadstore.store.sql.unit import SqlUnit
from threadstore.store.sql.unit_context import SqlContext

__all__ = ["checkout", "open_unit", "permit"]


def open_unit(
    ctx: SqlContext,
    engines: LoopEngines[Engine],
    *,
    write: bool,
    block: bool,
    may_lag: bool = False,
) -> AbstractAsyncContextManager[SqlUnit]:
    """Check out a connection for one call or block; commit or roll back at the end.

    ``may_lag``: a one-call read that a read replica may serve (see the module notes).
    """
    return _UnitScope(ctx, engines, write=write, block=block, may_lag=may_lag)


class _UnitScope:
    """:func:`open_unit`'s context, one class for every route.

    The routes every call takes (a connection of the primary, a lone SQLite
    writer's own unit) are written out here; a replica and a commit group are
    context managers of their own that this one enters. Nested generator
    context managers cost a few microseconds per call each, on every call.
    """

    __slots__ = (
        "_block",
        "_calls",
        "_ctx",
        "_engines",
        "_gate",
        "_inner",
        "_may_lag",
        "_reads",
        "_turn",
        "_unit",
        "_write",
    )

    def __init__(
        self,
        ctx: SqlContext,
        engines: LoopEngines[Engine],
        *,
        write: bool,
        block: bool,
        may_lag: bool,
    ) -> None:
        self._ctx = ctx
        self._engines = engines
        self._write = write
        self._block = block
        self._may_lag = may_lag
        self._inner: AbstractAsyncContextManager[SqlUnit] | None = None
        self._unit: SqlUnit | None = None
        self._reads: ReadLane | None = None
        self._gate: LoopSemaphore | None = None
        self._calls: LoopSemaphore | None = None
        self._turn: Turn | None = None

    async def __aenter__(self) -> SqlUnit:
        ctx, write, block = self._ctx, self._write, self._block
        replicas = ctx.replicas if self._may_lag and not write and not block else None
        if replicas:
            conn = await replicas.connect()
            if conn is not None:
                return await self._enter(_on_replica(ctx, replicas, conn))
        engines = self._engines
        engine = engines.settled() or await engines.current()
        gate, lane = engines.gate(engine), engines.lane(engine)
        group_commit = ctx.group_commit
        if not write or block or group_commit is None:
            return await self._open(engine, gate, lane)
        turn = await group_commit.take_turn(ctx)
        if not turn.alone:
            calls = engines.calls(engine)
            return await self._enter(group_commit.grouped(ctx, engine, gate, lane, calls, turn))
        try:
            unit = await self._open(engine, gate, lane)
        except BaseException:
            turn.release()
            raise
        self._turn = turn
        return unit

    async def _enter(self, inner: AbstractAsyncContextManager[SqlUnit]) -> SqlUnit:
        self._inner = inner
        return await inner.__aenter__()

    async def _open(
        self, engine: Engine, gate: LoopSemaphore | None, lane: ReadLane | None
    ) -> SqlUnit:
        """A unit on a connection of ``engine``; a one-call unit may use ``lane``'s.

        A read, or a write that runs on the driver (it leaves the connection as
        it found it, see :meth:`SqlUnit.write_one`), gives it back to the lane.
        """
        calls = None if self._block else self._engines.calls(engine)
        if calls is not None:
            await permit(self._ctx, engine, calls)
        try:
            reads = lane if lane is not None and not self._block else None
            conn: Conn | None = await reads.take() if reads is not None else None
            if conn is None:
                conn = await checkout(self._ctx, engine, gate, lane)
        except BaseException:
            if calls is not None:
                calls.release()
            raise
        self._reads, self._gate, self._calls = reads, gate, calls
        self._unit = SqlUnit(self._ctx, conn, block=self._block, write=self._write)
        return self._unit

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        if self._inner is not None:
            return await self._inner.__aexit__(kind, exc, traceback)
        unit, reads, gate, turn = self._unit, self._reads, self._gate, self._turn
        assert unit is not None
        kept = False
        try:
            if exc is not None:
                await unit.finish(exc)
            else:
                kept = await unit.finish(None, keep=None if reads is None else reads.keep)
        finally:
            try:
                if gate is not None and not kept:
                    gate.release()
            finally:
                if self._calls is not None:
                    self._calls.release()
                if turn is not None:
                    turn.release()
        return None


async def permit(ctx: SqlContext, engine: Engine, gate: LoopSemaphore) -> None:
    """A permit of ``gate``, waited for in arrival order up to the pool's timeout.

    Raises:
        PoolExhaustedError: none came free within the pool's timeout.
    """
    if gate.try_acquire():
        return
    try:
        await asyncio.wait_for(gate.acquire(), engine.pool.timeout())  # type: ignore[attr-defined]
    except TimeoutError:
        exc = PoolTimeout()
        raise translate_error(
            exc, where=ctx.where, database=ctx.database, pool=engine.pool
        ) from None


async def checkout(
    ctx: SqlContext, engine: Engine, gate: LoopSemaphore | None, lane: ReadLane | None = None
) -> Conn:
    """A connection of ``engine``, taken in arrival order when its pool has a gate.

    The caller closes the connection, then releases ``gate``. ``lane``: its
    idle connection, when the pool has none ready (it holds a permit already).

    Raises:
        PoolExhaustedError: no connection came free within the pool's timeout.
        PersistenceConnectionError: the database could not be reached.
    """
    if lane is not None:
        spare = await lane.spare()
        if spare is not None:
            return spare
    if gate is not None:
        await permit(ctx, engine, gate)
    try:
        return await engine.connect()
    except BaseException as exc:
        if gate is not None:
            gate.release()
        if isinstance(exc, DRIVER_ERRORS):
            raise translate_error(
                exc, where=ctx.where, database=ctx.database, pool=engine.pool
            ) from exc
        raise


@contextlib.asynccontextmanager
async def _on_replica(ctx: SqlContext, replicas: ReplicaSet, conn: Conn) -> AsyncIterator[SqlUnit]:
    """A read unit on a replica connection; a lost connection skips that replica."""
    unit = SqlUnit(ctx, conn, block=False, write=False)
    try:
        yield unit
    except BaseException as exc:
        if isinstance(exc, PersistenceConnectionError):
            replicas.failed(conn)
        await unit.finish(exc)
        raise
    await unit.finish(None)
