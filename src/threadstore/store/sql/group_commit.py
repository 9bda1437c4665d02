"""Group commit for SQLite: concurrent one-call writes share one transaction and one commit.

SQLite has one writer at a time and each commit costs an fsync
(``synchronous=FULL``). Writers of one event loop that queue behind each other
therefore join the transaction of the writer ahead of them: the first opens it
(``BEGIN IMMEDIATE``, holding the store's cross-loop write lock), each later
one runs inside its own ``SAVEPOINT`` (a failing call rolls back alone), and
the last writer in the queue commits for all. Every call returns only after
the commit that made its writes durable; if that commit fails, every call of
the group raises its error. A call's savepoint and the group's commit run in
a task of their own, so cancelling the call does not cut them short. A lone
writer pays nothing extra: no savepoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from threadstore.engine import SQLITE_BEGIN_OPTION
from threadstore.errors import PersistenceError, TransactionAbortedError
from threadstore.store.locks import LoopSemaphore, TaskLock
from threadstore.store.sql.connections import Conn, Engine, Tx
from threadstore.store.sql.read_lane import ReadLane
from threadstore.store.sql.threaded import ThreadedConnection
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error

if TYPE_CHECKING:
    from threadstore.store.sql.unit import SqlUnit
    from threadstore.store.sql.unit_context import SqlContext

__all__ = ["MAX_GROUP", "GroupCommit", "Turn"]

logger = logging.getLogger("threadstore")

_T = TypeVar("_T")

MAX_GROUP = 64
"""Calls sharing one commit at most, so the first call of a long queue is not held back."""


def _rolled_back() -> PersistenceError:
    return PersistenceError("the group's first call failed: its transaction rolled back")


def _interrupted() -> PersistenceError:
    return PersistenceError(
        "the commit this call shared was interrupted: the call may not be stored",
        suggestion="Check whether the write is there before retrying it.",
    )


def _broken() -> PersistenceError:
    return TransactionAbortedError(
        "a call sharing this commit broke the transaction: nothing was committed",
        suggestion="Retry the call.",
    )


class _Group:
    """One open transaction and the calls waiting for its commit."""

    __slots__ = ("calls", "conn", "done", "gate", "size", "tx")

    def __init__(
        self, conn: Conn, tx: Tx, gate: LoopSemaphore | None, calls: LoopSemaphore | None
    ) -> None:
        self.conn = conn
        self.tx = tx
        self.gate = gate
        self.calls = calls
        self.size = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class _Local:
    """The writers of one event loop: their turn, their queue length, their open group."""

    __slots__ = ("group", "tasks", "turn", "waiting")

    def __init__(self) -> None:
        self.turn = TaskLock()  # asyncio.Lock would keep the loop, this entry's key, alive
        self.waiting = 0
        self.group: _Group | None = None
        self.tasks: set[asyncio.Task[Any]] = set()  # settles and flushes, kept until done


class Turn:
    """This loop's writers' turn, held by one writer (see :meth:`GroupCommit.take_turn`)."""

    __slots__ = ("local",)

    def __init__(self, local: _Local) -> None:
        self.local = local

    @property
    def alone(self) -> bool:
        """No group is open and nobody queues behind: a unit of its own, no savepoint."""
        return self.local.group is None and not self.local.waiting

    def release(self) -> None:
        """Let the next writer of this loop go."""
        self.local.turn.release()


class GroupCommit:
    """Runs the one-call writes of a SQLite store in shared transactions."""

    def __init__(self) -> None:
        self._locals: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Local] = (
            weakref.WeakKeyDictionary()
        )

    def _local(self) -> _Local:
        loop = asyncio.get_running_loop()
        local = self._locals.get(loop)
        if local is None:
            local = self._locals[loop] = _Local()
        return local

    async def take_turn(self, ctx: SqlContext) -> Turn:
        """Wait for this loop's writers' turn; the caller then runs alone or joins.

        Alone (:attr:`Turn.alone`: no group open, nobody queued behind) the
        caller runs a unit of its own and releases the turn after it;
        otherwise it enters :meth:`grouped`, which releases it.
        """
        local = self._local()
        local.waiting += 1
        try:
            await local.turn.acquire()
        except BaseException:
            local.waiting -= 1
            self._flush_if_abandoned(ctx, local)
            raise
        local.waiting -= 1
        return Turn(local)

    @contextlib.asynccontextmanager
    async def grouped(
        self,
        ctx: SqlContext,
        engine: Engine,
        gate: LoopSemaphore | None,
        lane: ReadLane | None,
        calls: LoopSemaphore | None,
        turn: Turn,
    ) -> AsyncIterator[SqlUnit]:
        """A write unit inside the current group; returns once the group has committed.

        Entered holding ``turn`` (see :meth:`take_turn`), which it releases.
        The group's connection counts as one call of ``calls`` (see
        :meth:`~threadstore.store.sql.engines.LoopEngines.calls`).
        """
        from threadstore.store.sql.unit import SqlUnit

        local = turn.local
        try:
            group = local.group
            if group is None:
                group = local.group = await self._begin(ctx, engine, gate, lane, calls)
            unit = SqlUnit(ctx, group.conn, block=True, write=True)
            unit.join(group.tx)
            token = unit.savepoint() if group.size else None
        except BaseException:
            local.turn.release()
            raise
        error: BaseException | None = None
        try:
            yield unit
        except BaseException as exc:  # re-raised below, after the group is settled
            error = exc
        if error is None and self._settled_inline(unit, token, group, local):
            await asyncio.shield(group.done)
            return
        # Settled in a task of its own: a caller cancelled now must not leave the
        # group open (its earlier calls would wait for a commit nobody runs) nor
        # cut the commit short (they would be told of a commit that never ran).
        settle = _detached(local, self._settle(ctx, unit, token, group, local, error))
        committed_here = await asyncio.shield(settle)
        if error is not None:
            raise error
        if not committed_here:
            await asyncio.shield(group.done)

    @staticmethod
    def _settled_inline(unit: SqlUnit, token: object | None, group: _Group, local: _Local) -> bool:
        """End a call that succeeded and leaves the commit to a later one, with no I/O.

        Whether it could: a writer still queues behind, the group is not full,
        and the call's savepoint (if any) is released as a held-back string.
        With nothing to await, no task of its own is needed (see :meth:`grouped`),
        and the next writer's turn comes one loop pass sooner.
        """
        if local.group is not group or not local.waiting or group.size + 1 >= MAX_GROUP:
            return False
        if token is not None and not unit.release_held(token):
            return False
        group.size += 1
        local.turn.release()
        return True

    async def _settle(
        self,
        ctx: SqlContext,
        unit: SqlUnit,
        token: object | None,
        group: _Group,
        local: _Local,
        error: BaseException | None,
    ) -> bool:
        """End a call's part of the group, commit the group if it is the last; releases the turn.

        Returns whether this call committed the group.
        """
        try:
            group.size += 1
            if token is not None:
                await self._end_savepoint(ctx, unit, token, group, local, commit=error is None)
            elif error is not None:  # the group's first call: nobody else to keep
                local.group = None
                await self._end(ctx, group, commit=False, failure=_rolled_back())
            if local.group is group and (not local.waiting or group.size >= MAX_GROUP):
                local.group = None
                await self._end(ctx, group, commit=True)
                return True
            return False
        finally:
            local.turn.release()

    async def _begin(
        self,
        ctx: SqlContext,
        engine: Engine,
        gate: LoopSemaphore | None,
        lane: ReadLane | None,
        calls: LoopSemaphore | None,
    ) -> _Group:
        from threadstore.store.sql.routing import checkout, permit

        if calls is not None:  # before the lock, as a lone writer takes it before its own
            await permit(ctx, engine, calls)
        lock = ctx.write_lock
        try:
            if not lock.try_acquire():
                await lock.acquire()
        except BaseException:
            _release(calls)
            raise
        try:
            conn = await checkout(ctx, engine, gate, lane)
        except BaseException:
            lock.release()
            _release(calls)
            raise
        try:
            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            tx = await conn.begin()
        except BaseException as exc:
            try:
                await conn.close()
            finally:
                _release(gate)
                lock.release()
                _release(calls)
            if isinstance(exc, DRIVER_ERRORS):
                raise _translate(ctx, exc, engine) from exc
            raise
        if isinstance(conn, ThreadedConnection):
            conn.on_loop = True  # its statements hold the write lock: see run_driver
        return _Group(conn, tx, gate, calls)

    async def _end(
        self,
        ctx: SqlContext,
        group: _Group,
        *,
        commit: bool,
        failure: PersistenceError | None = None,
    ) -> None:
        """Commit (or roll back) the group, give its connection back, wake its calls.

        Raises:
            PersistenceError: the commit failed (every call of the group gets it).
        """
        error: PersistenceError | None = None
        ended = False
        try:
            if commit:
                await group.tx.commit()
            else:
                await group.tx.rollback()
            ended = True
        except DRIVER_ERRORS as exc:
            ended = True
            error = _translate(ctx, exc, group.conn.engine)
            error.__cause__ = exc
            with contextlib.suppress(*DRIVER_ERRORS):
                await group.conn.invalidate()
        finally:
            try:
                await group.conn.close()
            finally:
                _release(group.gate)
                ctx.write_lock.release()
                _release(group.calls)
                outcome = error if commit else failure or error
                if not ended:  # interrupted (the loop is shutting down): nobody knows
                    outcome = _interrupted()
                if outcome is None:
                    group.done.set_result(None)
                else:
                    group.done.set_exception(outcome)
                    group.done.exception()  # marked retrieved: each waiting call re-raises it
        if commit and error is not None:
            raise error

    async def _end_savepoint(
        self,
        ctx: SqlContext,
        unit: SqlUnit,
        token: object,
        group: _Group,
        local: _Local,
        *,
        commit: bool,
    ) -> None:
        """RELEASE (or ROLLBACK TO) a later call's savepoint; a failure sinks the group."""
        try:
            await unit.end_savepoint(token, commit=commit)
        except PersistenceError:
            if local.group is group:
                local.group = None
            with contextlib.suppress(PersistenceError):
                await self._end(ctx, group, commit=False, failure=_broken())
            raise

    def _flush_if_abandoned(self, ctx: SqlContext, local: _Local) -> None:
        """A queued writer gave up: commit the group if nobody else will."""
        if local.group is None or local.waiting:
            return

        async def flush() -> None:
            async with local.turn:
                group = local.group
                if group is not None and not local.waiting:
                    local.group = None
                    with contextlib.suppress(PersistenceError):
                        await self._end(ctx, group, commit=True)

        _detached(local, flush())


def _detached(local: _Local, work: Coroutine[Any, Any, _T]) -> asyncio.Task[_T]:
    """Run ``work`` in a task of its own, referenced until it is done."""
    task = asyncio.get_running_loop().create_task(work)
    local.tasks.add(task)
    task.add_done_callback(local.tasks.discard)
    return task


def _release(gate: LoopSemaphore | None) -> None:
    if gate is not None:
        gate.release()


def _translate(ctx: SqlContext, exc: BaseException, engine: Engine) -> PersistenceError:
    return translate_error(exc, where=ctx.where, database=ctx.database, pool=engine.pool)
