"""SQLAlchemyStore's unit of work: one connection, transactions begun only when needed.

The single place where connections are used, SQLite write locks taken and
driver errors translated. Every statement goes through :meth:`SqlUnit.execute`
or its shortcuts to the driver (:meth:`SqlUnit.fetch` and ``fetch_records``
for reads; on SQLite :meth:`SqlUnit.write_one` and ``write_steps`` for
writes), which prepare the connection for it:

* a one-call read unit runs in autocommit (no BEGIN/COMMIT round trips);
* a one-call write unit begins a transaction at its first statement, except a
  single self-contained statement (``one_statement``), which runs in
  autocommit (e.g. PostgreSQL's one-statement append);
* a ``transaction()`` block begins its transaction at its first statement on
  PostgreSQL and at its first *write* on SQLite, so a block that only reads
  takes no write lock; nested blocks are SAVEPOINTs, created when the block
  first needs the transaction.

Routing is decided in :func:`~threadstore.store.sql.routing.open_unit`.

SQLite writers of this process queue on the store's :class:`LoopLock` (any
loop, any thread) and then take the database write lock up front
(``BEGIN IMMEDIATE``), so concurrent writers never deadlock; other processes
wait on SQLite's busy timeout. One-call SQLite writes of one event loop that
queue behind each other share a transaction and its commit
(:mod:`~threadstore.store.sql.group_commit`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection, Result

from threadstore.engine import SQLITE_BEGIN_OPTION
from threadstore.errors import PersistenceConnectionError, PersistenceError
from threadstore.store.sql.connections import Conn, Tx
from threadstore.store.sql.direct import Compiled, RecordShape
from threadstore.store.sql.driver_calls import (
    direct_ready,
    run_direct,
    run_direct_raw,
    run_direct_write,
)
from threadstore.store.sql.threaded import ThreadedConnection
from threadstore.store.sql.translate import DRIVER_ERRORS, translate_error
from threadstore.store.sql.unit_context import SqlContext
from threadstore.store.sql.unit_frames import Frames
from threadstore.store.sql.unit_repositories import UnitRepositories
from threadstore.store.sql.write_steps import ConnectionSteps, Steps, run_driver_transaction

__all__ = ["SqlUnit"]

logger = logging.getLogger("threadstore")

_T = TypeVar("_T")


class SqlUnit(UnitRepositories):
    """One connection and the transaction state of one call or block."""

    def __init__(self, ctx: SqlContext, conn: Conn, *, block: bool, write: bool) -> None:
        self.ctx = ctx
        self.conn = conn
        self._block = block
        self._may_write = write
        self._sqlite = ctx.dialect == "sqlite"
        self._tx: Tx | None = None
        self._autocommit = False
        self._spent = False
        self._locked = False
        self._frames = Frames()
        self._wrote = False
        self.owner: str | None = None
        """The user a scoped view limits this unit's calls to (None: unscoped)."""

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

        ``params``: a dict, or a list of dicts for executemany. ``write``: it
        changes data; ``one_statement``: atomic by itself and the call's only
        statement. ``thread_id`` (for a FK violation) and ``duplicate`` (the
        record it creates, for a unique violation) name what an error is about.
        """
        try:
            await self._ready(write, one_statement)
            result: Result[Any] = await self.conn.execute(statement, params)
            return result
        except DRIVER_ERRORS as exc:
            raise self.translate(exc, thread_id=thread_id, duplicate=duplicate) from exc
        finally:
            if self._autocommit and write:
                self._spent = not self._block

    async def fetch(
        self,
        statement: Any,
        params: Mapping[str, Any] | None = None,
        *,
        per_call: bool = False,
    ) -> Sequence[Mapping[str, Any]]:
        """The rows of a read, as mappings.

        A one-call read in autocommit runs straight on the driver
        (:mod:`~threadstore.store.sql.direct`), anything else through
        :meth:`execute`. ``per_call``: built per call (found by its cache key).
        """
        compiled, params = self._compiled_read(statement, params, per_call)
        if compiled is None:
            result = await self.execute(statement, params)
            return cast("Sequence[Mapping[str, Any]]", result.mappings().all())
        try:
            if self._tx is not None:
                await self._ready(False, False)
            return await run_direct(self.conn, compiled, params)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc) from exc

    async def fetch_records(
        self,
        statement: Any,
        params: Mapping[str, Any] | None,
        shape: RecordShape[_T],
        *,
        per_call: bool = False,
    ) -> list[_T]:
        """The rows of a read as ``shape``'s records (on the driver: ``Compiled.records``).

        Their timestamps may then come as ISO text (:func:`threadstore.clock.stamp`).
        """
        compiled, params = self._compiled_read(statement, params, per_call)
        if compiled is None:
            result = await self.execute(statement, params)
            return [shape.build(row) for row in result.mappings().all()]
        try:
            if self._tx is not None:
                await self._ready(False, False)
            raw = await run_direct_raw(self.conn, compiled, params)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc) from exc
        return compiled.records(raw, shape)

    def _compiled_read(
        self, statement: Any, params: Mapping[str, Any] | None, per_call: bool
    ) -> tuple[Compiled | None, Mapping[str, Any] | None]:
        """A read's compiled form (and values) when it can run on the driver.

        That is a one-call read that began nothing, or on SQLite's threaded
        engine any read inside the unit's transaction (a block's, a group
        commit's): the buffered connection sends the held-back ``BEGIN`` and
        ``SAVEPOINT`` first, as SQLAlchemy's execution would.
        """
        direct = self.ctx.direct
        if direct is None:
            return None, params
        if not (self._on_driver(write=False) or self._joins_on_driver()):
            return None, params
        if per_call:
            found = direct.keyed(statement, params)
            return (None, params) if found is None else found
        return direct.get(statement), params

    async def write_one(
        self,
        statement: Any,
        params: Mapping[str, Any],
        *,
        thread_id: str | None = None,
        duplicate: str | None = None,
    ) -> None:
        """A write built once per shape that is the call's only statement (no RETURNING).

        A one-call unit that has begun nothing runs it on the driver
        (:func:`~threadstore.store.sql.driver_calls.run_direct_write`), which commits
        it by itself: on SQLite under the store's write lock, on asyncpg with no
        transaction open; the connection's options stay as they were (so it may
        go to the lane). Otherwise, and while anyone watches statements, as
        :meth:`execute` runs it (``write=True, one_statement=True``);
        ``thread_id`` and ``duplicate`` as there.
        """
        compiled = self._lone_write(statement, params)
        inside = None if compiled is not None else self._write_inside(statement, params)
        try:
            if compiled is not None:
                await self._take_lone_write()
                await run_direct_write(self.conn, compiled, params)
            elif inside is not None:
                await self._ready(True, True)
                await run_direct_write(self.conn, inside, params)
            else:
                await self._ready(True, True)
                await self.conn.execute(statement, params)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc, thread_id=thread_id, duplicate=duplicate) from exc
        finally:
            if self._autocommit or compiled is not None:
                self._spent = not self._block

    def _joins_on_driver(self) -> bool:
        """Whether a statement joins the unit's open transaction on SQLite's driver."""
        conn = self.conn
        return self._tx is not None and isinstance(conn, ThreadedConnection) and direct_ready(conn)

    def _write_inside(self, statement: Any, params: Mapping[str, Any]) -> Compiled | None:
        """The write's compiled form when it joins the unit's transaction on SQLite's driver.

        Inside a transaction (a block, a group commit's) the buffered driver
        connection runs it after the held-back ``BEGIN``/``SAVEPOINT``, in the
        same trip, as SQLAlchemy's execution would; asyncpg's adapter begins
        its transaction lazily, so there the statement takes SQLAlchemy's path.
        """
        direct = self.ctx.direct
        if direct is None or not self._may_write or not self._joins_on_driver():
            return None
        return direct.get_write(statement, params)

    def _lone_write(self, statement: Any, params: Mapping[str, Any]) -> Compiled | None:
        """The write's compiled form when a one-call unit that began nothing can run it."""
        direct = self.ctx.direct
        if direct is None or not self._on_driver(write=True):
            return None
        return direct.get_write(statement, params)

    async def _take_lone_write(self) -> None:
        """What :meth:`_ready` does for a lone write run on the driver: the lock, no options."""
        if self._spent:
            raise RuntimeError("threadstore: a statement after a one-statement write")
        await self._lock()
        self._wrote = True

    async def write_steps(
        self,
        fn: Callable[[Steps], _T],
        statements: Sequence[Any],
        *,
        thread_id: str | None = None,
        short: bool = False,
    ) -> _T:
        """A write of several statements with logic between them (see :mod:`.write_steps`).

        ``statements``: every statement ``fn`` runs. On SQLite's threaded
        engine they run on the driver in one trip: a lone one-call write in a
        transaction of its own, anything else in the unit's transaction and
        savepoint. Elsewhere, and while anyone watches statements, as
        :meth:`run_sync` runs them. ``thread_id`` as for :meth:`execute`;
        ``short`` as for ``ThreadedConnection.run_driver``.
        """
        compiled = self._driver_steps(statements)
        if compiled is None:
            return await self.run_sync(
                lambda conn: fn(ConnectionSteps(conn)), write=True, thread_id=thread_id
            )
        own = self._on_driver(write=True)
        conn = cast(ThreadedConnection, self.conn)
        try:
            if own:
                await self._take_lone_write()
            else:
                await self._ready(True, False)
            return await run_driver_transaction(conn, fn, compiled, own=own, short=short)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc, thread_id=thread_id) from exc
        finally:
            if own:
                self._spent = True

    def _driver_steps(self, statements: Sequence[Any]) -> dict[Any, Compiled] | None:
        """The compiled statements, when they can run on SQLite's driver; else None."""
        direct, conn = self.ctx.direct, self.conn
        if direct is None or not self._may_write or not isinstance(conn, ThreadedConnection):
            return None
        if not direct_ready(conn):
            return None
        compiled = {statement: direct.get(statement) for statement in statements}
        if any(value is None for value in compiled.values()):
            return None
        return cast("dict[Any, Compiled]", compiled)

    def _on_driver(self, *, write: bool) -> bool:
        """Whether this is a one-call read (or write) unit that began nothing, on a driver."""
        if self._block or self._may_write != write or self._tx is not None:
            return False
        if not self.ctx.autocommit or not direct_ready(self.conn):
            return False
        return not (write and self.conn.in_transaction())

    async def run_sync(
        self, fn: Callable[[Connection], _T], *, write: bool = False, thread_id: str | None = None
    ) -> _T:
        """Run ``fn`` on the sync connection in one go (e.g. an Alembic inspection).

        On SQLite's threaded engine that is one trip to the worker for all of
        ``fn``'s statements. ``write``: they change data (in a transaction, like
        :meth:`execute`'s writes); ``thread_id`` as for :meth:`execute`.
        """
        try:
            await self._ready(write, False)
            return await self.conn.run_sync(fn)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc, thread_id=thread_id) from exc

    async def _ready(self, write: bool, one_statement: bool) -> None:
        """Put the connection in the transaction state the next statement needs."""
        if self._spent:
            raise RuntimeError("threadstore: a statement after a one-statement write")
        if self._tx is None:
            await self._prepare(write, one_statement)
        if self._frames and self._tx is not None:
            await self._frames.open(self.conn)
        self._wrote = self._wrote or write

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

    def join(self, tx: Tx) -> None:
        """Run inside ``tx``, a transaction begun on this connection by someone else."""
        self._tx = tx

    # -- savepoints ------------------------------------------------------------

    def savepoint(self) -> object:
        """Open a nested frame (its SAVEPOINT is created when first needed)."""
        return self._frames.push()

    def release_held(self, token: object) -> bool:
        """RELEASE the frame's savepoint with no I/O if it can be held back; whether it was."""
        return self._frames.release_held(token)

    async def end_savepoint(self, token: object, *, commit: bool) -> None:
        """RELEASE the frame's savepoint, or ROLLBACK TO it."""
        try:
            await self._frames.pop(token, commit=commit)
        except DRIVER_ERRORS as exc:
            raise self.translate(exc) from exc

    # -- end ---------------------------------------------------------------------

    async def finish(
        self,
        error: BaseException | None,
        *,
        keep: Callable[[Conn], bool] | None = None,
    ) -> bool:
        """Commit (no error) or roll back, then give the connection back.

        ``keep``: offered the connection of a unit that ran on the driver only
        (see :mod:`~threadstore.store.sql.read_lane`); whether it kept it
        instead of it being closed is returned.
        """
        if (
            keep is not None
            and error is None
            and self._tx is None
            and not self._autocommit
            and not (self._wrote and self.ctx.replicas)
            and keep(self.conn)
        ):
            self._unlock()
            return True
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
                self._unlock()
        return False

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self.ctx.write_lock.release()

    async def _rollback(self) -> None:
        assert self._tx is not None
        try:
            await self._tx.rollback()
        except DRIVER_ERRORS as exc:  # the original error matters more
            logger.warning("threadstore: rollback failed: %s", exc)
