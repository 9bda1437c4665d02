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

from sqlalchemy.exc import TimeoutError as PoolTimeout

from threadstore.errors import PersistenceConnectionError
from threadstore.store.locks import LoopSemaphore
from threadstore.store.sql.connections import Conn, Engine
from threadstore.store.sql.engines import LoopEngines
from threadstore.store.sql.read_lane import ReadLane
from threadstore.store.sql.replicas import ReplicaSet
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error
from threadstore.store.sql.unit import SqlUnit
from threadstore.store.sql.unit_context import SqlContext

__all__ = ["checkout", "open_unit"]


@contextlib.asynccontextmanager
async def open_unit(
    ctx: SqlContext,
    engines: LoopEngines[Engine],
    *,
    write: bool,
    block: bool,
    may_lag: bool = False,
) -> AsyncIterator[SqlUnit]:
    """Check out a connection for one call or block; commit or roll back at the end.

    ``may_lag``: a one-call read that a read replica may serve (see the module notes).
    """
    replicas = ctx.replicas if may_lag and not write and not block else None
    if replicas:
        conn = await replicas.connect()
        if conn is not None:
            async with _on_replica(ctx, replicas, conn) as unit:
                yield unit
            return
    engine = await engines.current()
    gate, lane = engines.gate(engine), engines.lane(engine)
    if write and not block and ctx.group_commit is not None:
        plain = _unit_on(ctx, engine, gate, write=write, block=block, lane=lane)
        async with ctx.group_commit.unit(ctx, engine, gate, plain, lane) as grouped:
            yield grouped
        return
    async with _unit_on(ctx, engine, gate, write=write, block=block, lane=lane) as unit:
        yield unit


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
    if gate is not None and not gate.try_acquire():
        try:
            await asyncio.wait_for(gate.acquire(), engine.pool.timeout())  # type: ignore[attr-defined]
        except TimeoutError:
            exc = PoolTimeout()
            raise translate_error(
                exc, where=ctx.where, database=ctx.database, pool=engine.pool
            ) from None
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
async def _unit_on(
    ctx: SqlContext,
    engine: Engine,
    gate: LoopSemaphore | None,
    *,
    write: bool,
    block: bool,
    lane: ReadLane | None = None,
) -> AsyncIterator[SqlUnit]:
    """A unit on a connection of ``engine``; a one-call unit may use ``lane``'s.

    A read, or a write that runs on the driver (it leaves the connection as it
    found it, see :meth:`SqlUnit.write_one`), gives it back to the lane.
    """
    reads = lane if lane is not None and not block else None
    conn: Conn | None = await reads.take() if reads is not None else None
    if conn is None:
        conn = await checkout(ctx, engine, gate, lane)
    kept = False
    try:
        unit = SqlUnit(ctx, conn, block=block, write=write)
        try:
            yield unit
        except BaseException as exc:
            await unit.finish(exc)
            raise
        kept = await unit.finish(None, keep=None if reads is None else reads.keep)
    finally:
        if gate is not None and not kept:
            gate.release()


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
