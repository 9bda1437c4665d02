"""SQLAlchemyStore's unit of work: one connection, transactions begun only when needed.

The single place where connections are used, SQLite write locks taken and
driver errors translated. Every statement goes through :meth:`SqlUnit.execute`,
which prepares the connection for it:

* a one-call read unit runs in autocommit (no BEGIN/COMMIT round trips);
* a one-call write unit begins a transaction at its first statement, except a
  single self-contained statement (``one_statement``), which runs in
  autocommit (e.g. PostgreSQL's one-statement append);
* a ``transaction()`` block begins its transaction at its first statement on
  PostgreSQL and at its first *write* on SQLite, so a block that only reads
  takes no write lock; nested blocks are SAVEPOINTs, created when the block
  first needs the transaction.

Routing (the one place it is decided, :func:`open_unit`): a one-call read
that may lag goes to a read replica when :class:`ReplicaSet` offers one;
every write and every ``transaction()`` block runs on the primary, and a
committed write records the primary's WAL position for read-your-writes.

SQLite writers of this process queue on the store's :class:`LoopLock` (any
loop, any thread) and then take the database write lock up front
(``BEGIN IMMEDIATE``), so concurrent writers never deadlock; other processes
wait on SQLite's busy timeout. One-call SQLite writes of one event loop that
queue behind each other share a transaction and its commit
(:mod:`~threadstore.store.sql.group_commit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Result
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from threadstore.clock import Clock
from threadstore.engine import SQLITE_BEGIN_OPTION
from threadstore.errors import PersistenceConnectionError, PersistenceError
from threadstore.store.locks import LoopLock, LoopSemaphore
from threadstore.store.sql.agents import SqlAgents
from threadstore.store.sql.approvals import SqlApprovals
from threadstore.store.sql.checkpoint_queries import SaverStatements
from threadstore.store.sql.checkpoint_rows import SqlCheckpointRows
from threadstore.store.sql.checkpoints import SqlCheckpoints
from threadstore.store.sql.context import SqlContextItems
from threadstore.store.sql.engines import LoopEngines
from threadstore.store.sql.feedback import SqlFeedback
from threadstore.store.sql.group_commit import GroupCommit
from threadstore.store.sql.messages import SqlMessages
from threadstore.store.sql.replicas import ReplicaSet
from threadstore.store.sql.tables import upsert
from threadstore.store.sql.threads import SqlThreads
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error

__all__ = ["SqlContext", "SqlUnit", "open_unit"]

logger = logging.getLogger("threadstore")

_T = TypeVar("_T")


@dataclass(frozen=True)
class SqlContext:
    """What every unit of one store shares."""

    dialect: str
    where: str
    autocommit: bool
    """Whether reads and one-statement writes may run outside a transaction (not
    behind PgBouncer, where a statement's parse and execute could reach two servers)."""
    database: str | None
    clock: Clock
    write_lock: LoopLock
    saver_statements: SaverStatements
    replicas: ReplicaSet | None = None
    group_commit: GroupCommit | None = None
    """SQLite: one-call writes share transactions (see :mod:`.group_commit`)."""

    def upsert(self, table: Table) -> Any:
        """An INSERT accepting ``on_conflict_do_update`` on this dialect."""
        return upsert(self.dialect, table)


class _Frame:
    """A nested block; its SAVEPOINT exists once the block needed the transaction."""

    __slots__ = ("savepoint",)

    def __init__(self) -> None:
        self.savepoint: AsyncTransaction | None = None


class SqlUnit:
    """One connection and the transaction state of one call or block."""

    def __init__(self, ctx: SqlContext, conn: AsyncConnection, *, block: bool, write: bool) -> None:
        self.ctx = ctx
        self.conn = conn
        self._block = block
        self._may_write = write
        self._sqlite = ctx.dialect == "sqlite"
        self._tx: AsyncTransaction | None = None
        self._autocommit = False
        self._spent = False
        self._locked = False
        self._frames: list[_Frame] = []
        self._wrote = False
        self.owner: str | None = None
        """The user a scoped view limits this unit's calls to (None: unscoped)."""

    # -- repositories ------------------------------------------------------

    @property
    def threads(self) -> SqlThreads:
        """Threads, forks and lineage."""
        return SqlThreads(self)

    @property
    def messages(self) -> SqlMessages:
        """Messages."""
        return SqlMessages(self)

    @property
    def feedback(self) -> SqlFeedback:
        """Feedback."""
        return SqlFeedback(self)

    @property
    def approvals(self) -> SqlApprovals:
        """Suspended states."""
        return SqlApprovals(self)

    @property
    def checkpoints(self) -> SqlCheckpoints:
        """Checkpoint records."""
        return SqlCheckpoints(self)

    @property
    def checkpoint_rows(self) -> SqlCheckpointRows:
        """The LangGraph saver's rows."""
        return SqlCheckpointRows(self)

    @property
    def context(self) -> SqlContextItems:
        """Context items."""
        return SqlContextItems(self)

    @property
    def agents(self) -> SqlAgents:
        """Agent topics and permissions."""
        return SqlAgents(self)

    # -- statements ----------------------------------------------------------

    async def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        write: bool = False,
        one_statement: bool = False,
        thread_id: str | None = None,
        duplicate: str | None = None,
    ) -> Result[Any]:
        """Run one statement in the right transaction state; translate driver errors.

        Args:
            statement: The statement.
            params: Its parameters (a dict, or a list of dicts for executemany).
            write: Whether it changes data.
            one_statement: It is atomic by itself and the call's only statement.
            thread_id: The thread the statement is about, for a FK violation.
            duplicate: The record it creates, for a unique violation.
        """
        if self._spent:
            raise RuntimeError("threadstore: a statement after a one-statement write")
        try:
            if self._tx is None:
                await self._prepare(write, one_statement)
            if self._frames and self._tx is not None:
                await self._open_savepoints()
            self._wrote = self._wrote or write
            result: Result[Any] = await self.conn.execute(statement, params)
            return result
        except DRIVER_ERRORS as exc:
            raise self.translate(exc, thread_id=thread_id, duplicate=duplicate) from exc
        finally:
            if self._autocommit and write:
                self._spent = not self._block

    async def run_sync(self, fn: Callable[[Connection], _T]) -> _T:
        """Run ``fn`` on the sync connection (e.g. an Alembic inspection), as a read."""
        try:
            if self._tx is None:
                await self._prepare(False, False)
            return await self.conn.run_sync(fn)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc) from exc

    def translate(
        self, exc: BaseException, *, thread_id: str | None = None, duplicate: str | None = None
    ) -> PersistenceError:
        """The threadstore error for a driver exception."""
        return translate_error(
            exc,
            where=self.ctx.where,
            thread_id=thread_id,
            duplicate=duplicate,
            database=self.ctx.database,
            pool=self.conn.engine.pool,
        )

    async def _prepare(self, write: bool, one_statement: bool) -> None:
        if write and not self._may_write:
            raise RuntimeError("threadstore: a write in a read-only unit")
        if self._block:
            needs_transaction = write or not self._sqlite
        elif not self.ctx.autocommit:
            needs_transaction = True
        else:
            needs_transaction = self._may_write and not (one_statement and write)
        if needs_transaction:
            await self._begin()
        elif not self._autocommit:
            if write:
                await self._lock()
            if self._sqlite:
                await self.conn.execution_options(**{SQLITE_BEGIN_OPTION: "NONE"})
            else:
                await self.conn.execution_options(isolation_level="AUTOCOMMIT")
            self._autocommit = True
        elif write:
            await self._lock()

    async def _lock(self) -> None:
        if self._sqlite and not self._locked:
            lock = self.ctx.write_lock
            if not lock.try_acquire():
                await lock.acquire()
            self._locked = True

    async def _begin(self) -> None:
        if self._autocommit:
            await self.conn.commit()  # ends SQLAlchemy's autobegun state; nothing was begun
            self._autocommit = False
        if self._sqlite:
            await self._lock()
            await self.conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._tx = await self.conn.begin()

    async def _open_savepoints(self) -> None:
        for frame in self._frames:
            if frame.savepoint is None:
                frame.savepoint = await self.conn.begin_nested()

    def join(self, tx: AsyncTransaction) -> None:
        """Run inside ``tx``, a transaction begun on this connection by someone else."""
        self._tx = tx

    # -- savepoints ------------------------------------------------------------

    def savepoint(self) -> object:
        """Open a nested frame (its SAVEPOINT is created when first needed)."""
        frame = _Frame()
        self._frames.append(frame)
        return frame

    async def end_savepoint(self, token: object, *, commit: bool) -> None:
        """RELEASE the frame's savepoint, or ROLLBACK TO it."""
        if not self._frames or self._frames[-1] is not token:
            raise RuntimeError("threadstore: nested blocks must end in order")
        frame = self._frames.pop()
        if frame.savepoint is None:
            return
        try:
            if commit:
                await frame.savepoint.commit()
            else:
                await frame.savepoint.rollback()
        except DRIVER_ERRORS as exc:
            raise self.translate(exc) from exc

    # -- end ---------------------------------------------------------------------

    async def finish(self, error: BaseException | None) -> None:
        """Commit (no error) or roll back, then give the connection back."""
        try:
            if self._tx is not None:
                if error is None:
                    try:
                        await self._tx.commit()
                    except DRIVER_ERRORS as exc:
                        raise self.translate(exc) from exc
                else:
                    await self._rollback()
            if error is None and self._wrote and self.ctx.replicas:
                await self.ctx.replicas.record_write(self.conn)
        finally:
            try:
                if isinstance(error, PersistenceConnectionError):
                    await self.conn.invalidate()  # never hand a broken connection back
                await self.conn.close()
            finally:
                if self._locked:
                    self._locked = False
                    self.ctx.write_lock.release()

    async def _rollback(self) -> None:
        assert self._tx is not None
        try:
            await self._tx.rollback()
        except DRIVER_ERRORS as exc:  # the original error matters more
            logger.warning("threadstore: rollback failed: %s", exc)


@contextlib.asynccontextmanager
async def open_unit(
    ctx: SqlContext, engines: LoopEngines, *, write: bool, block: bool, may_lag: bool = False
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
    gate = engines.gate(engine)
    if write and not block and ctx.group_commit is not None:
        plain = _unit_on(ctx, engine, gate, write=write, block=block)
        async with ctx.group_commit.unit(ctx, engine, gate, plain) as grouped:
            yield grouped
        return
    async with _unit_on(ctx, engine, gate, write=write, block=block) as unit:
        yield unit


async def checkout(
    ctx: SqlContext, engine: AsyncEngine, gate: LoopSemaphore | None
) -> AsyncConnection:
    """A connection of ``engine``, taken in arrival order when its pool has a gate.

    The caller closes the connection, then releases ``gate``.

    Raises:
        PoolExhaustedError: no connection came free within the pool's timeout.
        PersistenceConnectionError: the database could not be reached.
    """
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
    ctx: SqlContext, engine: AsyncEngine, gate: LoopSemaphore | None, *, write: bool, block: bool
) -> AsyncIterator[SqlUnit]:
    conn = await checkout(ctx, engine, gate)
    try:
        unit = SqlUnit(ctx, conn, block=block, write=write)
        try:
            yield unit
        except BaseException as exc:
            await unit.finish(exc)
            raise
        await unit.finish(None)
    finally:
        if gate is not None:
            gate.release()


@contextlib.asynccontextmanager
async def _on_replica(
    ctx: SqlContext, replicas: ReplicaSet, conn: AsyncConnection
) -> AsyncIterator[SqlUnit]:
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
