"""SQLite without the asyncio adapter: a sync SQLAlchemy engine run on worker threads.

SQLAlchemy's aiosqlite adapter costs four trips to the connection's thread
per statement, each through a greenlet. :class:`ThreadedEngine` keeps the
same SQL (Core statements, the same dialect and hooks) on a *sync* engine
over :mod:`sqlite3` and sends each statement to a worker thread in one trip:
the statement executes there and all its rows are fetched
(:mod:`threadstore.sqlite_buffered`), so reading the result on the event
loop never touches the database. ``BEGIN``, ``SAVEPOINT`` and ``RELEASE`` travel with the
statement after them. Checkout and the first statement of a unit share a
trip too.

A sync engine belongs to no event loop: every loop and thread of the process
shares its pool and its workers. The connections' SQLite write lock is still
taken up front (``BEGIN IMMEDIATE``) after the store's own cross-loop lock,
so the workers never wait on each other.

The driver is the process's (:func:`threadstore.sqlite_vector.sqlite_driver`):
``pysqlite3.dbapi2`` with the sqlite-vec extra, whose extension every new
connection then loads.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, Result, RootTransaction, Transaction
from sqlalchemy.pool import Pool, PoolProxiedConnection, QueuePool, StaticPool

from threadstore.engine import (
    TRANSACTION_OPEN,
    configure_sqlite_engine,
    pool_options_refused,
    with_json_decoder,
)
from threadstore.engine_options import check_engine_options
from threadstore.sqlite_buffered import BufferedSqlite
from threadstore.sqlite_vector import load_sqlite_vec, sqlite_driver, use_sqlite_vec
from threadstore.store.sql.worker_threads import WorkerThreads

__all__ = [
    "ThreadedConnection",
    "ThreadedEngine",
    "ThreadedTransaction",
    "create_threaded_engine",
]

_T = TypeVar("_T")

_MAX_WORKERS = 32
"""Worker threads at most when the pool has no bound (NullPool)."""


class ThreadedEngine:
    """A sync SQLite engine whose I/O runs on worker threads, awaited from any loop.

    Args:
        url: The ``sqlite+aiosqlite`` (or ``sqlite``) URL; reported as given.
        sqlite_vec: Load sqlite-vec into every connection: None (the default)
            where the process's driver can (see :mod:`threadstore.sqlite_vector`);
            True requires it; False never.
        **options: ``create_engine`` options (pool_size, poolclass, ...).
    """

    def __init__(self, url: URL, *, sqlite_vec: bool | None = None, **options: Any) -> None:
        self.url = url
        driver = sqlite_driver()
        self.sqlite_vec = use_sqlite_vec(sqlite_vec, driver)
        """Whether every connection has sqlite-vec loaded."""
        connect_args = dict(options.pop("connect_args", {}))
        connect_args.setdefault("check_same_thread", False)
        if _in_memory(url):
            options.setdefault("poolclass", StaticPool)  # one database, shared by every thread
        self.sync_engine: Engine = create_sync_engine(
            url.set(drivername="sqlite+pysqlite"),
            module=BufferedSqlite(driver),
            connect_args=connect_args,
            **options,
        )
        if self.sqlite_vec:
            event.listen(self.sync_engine, "connect", load_sqlite_vec)
        self.dialect = self.sync_engine.dialect
        self._workers = WorkerThreads(_capacity(self.sync_engine.pool), "threadstore-sqlite")

    @property
    def pool(self) -> Pool:
        """The sync engine's pool."""
        return self.sync_engine.pool

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(*args)`` on a worker thread."""
        return await self._workers.run(fn, *args)

    def idle_connections(self) -> bool:
        """Whether a checkout would take an idle connection and do no I/O (no pre-ping)."""
        pool = self.sync_engine.pool
        return isinstance(pool, QueuePool) and not pool._pre_ping and pool.checkedin() > 0

    def connect(self) -> ThreadedConnection:
        """A connection, checked out when awaited or entered."""
        return ThreadedConnection(self)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[ThreadedConnection]:
        """A connection in a transaction, committed at the end (rolled back on error)."""
        async with self.connect() as conn, conn.begin():
            yield conn

    async def dispose(self, close: bool = True) -> None:
        """Close the pool's connections (``close=False``: forget them)."""
        await self.run(self.sync_engine.dispose, close)

    def shutdown(self) -> None:
        """Stop the worker threads once their work is done (the engine stays usable)."""
        self._workers.shutdown()
        self._workers = WorkerThreads(_capacity(self.sync_engine.pool), "threadstore-sqlite")


class ThreadedConnection:
    """What :class:`~sqlalchemy.ext.asyncio.AsyncConnection` offers, on a worker thread."""

    def __init__(self, engine: ThreadedEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._sync: Connection | None = None
        self.on_loop = False
        """Whether :meth:`run_driver` may run on the calling thread (see there)."""

    @property
    def sync_connection(self) -> Connection:
        """The checked-out sync connection."""
        if self._sync is None:
            raise RuntimeError("threadstore: the connection is not started")
        return self._sync

    async def start(self) -> ThreadedConnection:
        """Check the connection out of the pool.

        Here when the pool holds an idle connection (handing it out is
        bookkeeping), else on a worker: opening one opens the file.
        """
        if self._sync is None:
            engine = self.engine
            if engine.idle_connections():
                self._sync = engine.sync_engine.connect()
            else:
                self._sync = await engine.run(engine.sync_engine.connect)
        return self

    def __await__(self) -> Generator[Any, None, ThreadedConnection]:
        return self.start().__await__()

    async def __aenter__(self) -> ThreadedConnection:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """Whether the connection was closed."""
        return self._sync is not None and self._sync.closed

    @property
    def invalidated(self) -> bool:
        """Whether the connection was invalidated."""
        return self._sync is not None and self._sync.invalidated

    async def run_driver(self, fn: Callable[..., _T], *args: Any, short: bool = False) -> _T:
        """``fn(*args)``, a call on the driver connection: on a worker, or here.

        Here, on the event loop's thread, when the call is ``short`` (a write
        of a few rows and little data), :attr:`on_loop` is set and the
        driver's transaction has begun (no ``BEGIN`` held back): a group
        commit's transaction, whose write lock is held, so a statement cannot
        wait on SQLite's lock. Such a call takes less time than the two
        thread wake-ups of a worker's trip; anything longer stays off the loop.
        """
        if short and self.on_loop and self._sync is not None:
            driver: Any = self._sync.connection.dbapi_connection
            if getattr(driver, "begun", False):
                return fn(*args)
        return await self.engine.run(fn, *args)

    def in_transaction(self) -> bool:
        """Whether a transaction is begun."""
        return self.sync_connection.in_transaction()

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result[Any]:
        """Execute ``statement``; its rows are fetched before this returns."""
        sync = self.sync_connection
        result: Result[Any] = await self.engine.run(sync.execute, statement, parameters, **kwargs)
        return result

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        """The first column of the first row of ``statement``'s result."""
        return (await self.execute(statement, parameters)).scalar()

    async def get_raw_connection(self) -> PoolProxiedConnection:
        """The pooled DBAPI connection."""
        return self.sync_connection.connection

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Result[Any]:
        """Execute a SQL string as the driver takes it."""
        result: Result[Any] = await self.engine.run(
            self.sync_connection.exec_driver_sql, statement, parameters
        )
        return result

    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run ``fn(sync_connection, ...)`` on a worker thread."""
        return await self.engine.run(functools.partial(fn, self.sync_connection, *args, **kwargs))

    async def execution_options(self, **options: Any) -> ThreadedConnection:
        """Set execution options (threadstore's own; none of them does I/O)."""
        self.sync_connection.execution_options(**options)
        return self

    def begin(self) -> ThreadedTransaction:
        """Begin a transaction (its BEGIN runs with the next statement)."""
        return ThreadedTransaction(self, nested=False)

    def begin_nested(self) -> ThreadedTransaction:
        """Begin a SAVEPOINT (it runs with the next statement)."""
        return ThreadedTransaction(self, nested=True)

    async def commit(self) -> None:
        """Commit the current transaction."""
        await self._end(self.sync_connection.commit)

    async def rollback(self) -> None:
        """Roll the current transaction back."""
        await self._end(self.sync_connection.rollback)

    async def _end(self, end: Callable[[], None]) -> None:
        """Run ``end`` here when it sends nothing to the database, else on a worker."""
        if _driver_idle(self.sync_connection):
            end()
        else:
            await self.engine.run(end)

    async def invalidate(self) -> None:
        """Discard the driver connection."""
        if self._sync is not None:
            await self.engine.run(self._sync.invalidate)

    async def close(self) -> None:
        """Give the connection back to the pool (rolling back what is still open)."""
        sync, self._sync = self._sync, None
        if sync is None or sync.closed:
            return
        if sync.invalidated or not _driver_idle(sync):
            await self.engine.run(sync.close)
        else:
            sync.close()  # nothing to end: the pool only files it back


class ThreadedTransaction:
    """A transaction or savepoint of a :class:`ThreadedConnection`."""

    def __init__(self, connection: ThreadedConnection, *, nested: bool) -> None:
        self._connection = connection
        self._nested = nested
        self._sync: Transaction | None = None

    async def start(self) -> ThreadedTransaction:
        """Begin it; what it emits is held back until the next statement."""
        sync = self._connection.sync_connection
        self._sync = sync.begin_nested() if self._nested else sync.begin()
        return self

    def __await__(self) -> Generator[Any, None, ThreadedTransaction]:
        return self.start().__await__()

    async def __aenter__(self) -> ThreadedTransaction:
        return await self.start()

    async def __aexit__(self, exc_type: object, *_rest: object) -> None:
        if self._sync is None or not self._sync.is_active:
            return
        if exc_type is None:
            await self.commit()
        else:
            await self.rollback()

    @property
    def is_active(self) -> bool:
        """Whether it may still be committed or rolled back."""
        return self._sync is not None and self._sync.is_active

    async def commit(self) -> None:
        """Commit it (RELEASE a savepoint)."""
        await self._end(commit=True)

    async def rollback(self) -> None:
        """Roll it back."""
        await self._end(commit=False)

    async def _end(self, *, commit: bool) -> None:
        tx = self._sync
        if tx is None:
            raise RuntimeError("threadstore: the transaction is not started")
        end = tx.commit if commit else tx.rollback
        if isinstance(tx, RootTransaction):
            inline = _driver_idle(self._connection.sync_connection)
        else:
            inline = commit  # RELEASE SAVEPOINT is held back until the next statement
        if inline:
            end()
        else:
            await self._connection.engine.run(end)


def _driver_idle(sync: Connection) -> bool:
    """Whether ending the transaction sends nothing: no BEGIN was sent to the driver.

    Either none was asked for (a read in autocommit), or it is still held back
    (no statement ran since).
    """
    if sync.closed or sync.invalidated:
        return False
    fairy = sync.connection
    if not fairy.info.get(TRANSACTION_OPEN, True):
        return True
    return fairy.driver_connection.begun is False  # type: ignore[union-attr]


def _in_memory(url: URL) -> bool:
    database = url.database or ""
    return (
        database in {"", ":memory:"}
        or "mode=memory" in database
        or (url.query.get("mode") == "memory")
    )


def _capacity(pool: Pool) -> int:
    if isinstance(pool, QueuePool):
        overflow = pool._max_overflow
        if overflow >= 0:
            return pool.size() + overflow + 1
    if isinstance(pool, StaticPool):
        return 2
    return _MAX_WORKERS


def create_threaded_engine(
    url: URL, *, sqlite_vec: bool | None = None, **options: Any
) -> ThreadedEngine:
    """A :class:`ThreadedEngine` for a SQLite ``url`` with threadstore's hooks.

    Raises:
        ValidationError: an option is unknown, badly typed or does not apply,
            or ``sqlite_vec`` is invalid or asks for what is not installed.
    """
    check_engine_options(options)
    try:
        engine = ThreadedEngine(url, sqlite_vec=sqlite_vec, **with_json_decoder(options))
    except TypeError as exc:  # options valid in general, not for this pool
        raise pool_options_refused(url, options) from exc
    configure_sqlite_engine(engine.sync_engine)
    return engine
