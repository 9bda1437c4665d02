"""SQLAlchemyStore: the contract on SQLite (aiosqlite) and PostgreSQL (asyncpg).

Every public call is one transaction opened by :meth:`SQLAlchemyStore._connect`,
the single place where connections are taken, SQLite write locks acquired and
driver errors translated. Statements are SQLAlchemy Core over the ORM tables;
rows become plain records at the boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, CursorResult, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from threadstore import lc_messages, sqlite_files
from threadstore.clock import Clock, check_clock, isoformat
from threadstore.config import redact_url, resolve_url
from threadstore.engine import SQLITE_BEGIN_OPTION, configure_sqlite, create_engine
from threadstore.errors import (
    PersistenceConnectionError,
    PersistenceError,
    SchemaOutOfDateError,
    ThreadNotFoundError,
    ValidationError,
)
from threadstore.migrations import VERSION_TABLE, ensure_schema, head_revision
from threadstore.models import (
    AgentPermission,
    AgentTopic,
    Checkpoint,
    CheckpointWrite,
    ContextItem,
    ContextRoute,
    Feedback,
    Message,
    SuspendedState,
    Thread,
)
from threadstore.models.checkpoint import run_id_of
from threadstore.models.context import ROUTE_SUBSCRIBER, ROUTE_TOPIC
from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    HealthRecord,
    LineageRecord,
    MessageRecord,
    NewMessage,
    StatsRecord,
    SuspendedStateRecord,
    ThreadRecord,
)
from threadstore.store import context_inputs, inputs
from threadstore.store.base import (
    BaseStore,
    approval_of_other_thread,
    fork_title,
    message_not_in_thread,
)
from threadstore.store.health import DEFAULT_TIMEOUT, Probe, check_timeout, run_probe, settle
from threadstore.store.translate import DRIVER_ERRORS, translate_error
from threadstore.types import UTCDateTime
from threadstore.validation import (
    check_id,
    check_limit,
    check_optional_id,
    check_seq,
)

__all__ = ["SQLAlchemyStore"]

logger = logging.getLogger("threadstore")

threads = cast(Table, Thread.__table__)
messages = cast(Table, Message.__table__)
feedback = cast(Table, Feedback.__table__)
suspended = cast(Table, SuspendedState.__table__)
checkpoints = cast(Table, Checkpoint.__table__)
checkpoint_writes = cast(Table, CheckpointWrite.__table__)
context_items = cast(Table, ContextItem.__table__)
context_routes = cast(Table, ContextRoute.__table__)
agent_topics = cast(Table, AgentTopic.__table__)
agent_permissions = cast(Table, AgentPermission.__table__)

_MAX_LINEAGE_DEPTH = 100_000

_PG_APPEND = text(
    f"""
    WITH bumped AS (
        UPDATE {threads.name}
        SET message_count = message_count + :n, updated_at = :now
        WHERE id = :thread_id
        RETURNING message_count
    )
    INSERT INTO {messages.name} (thread_id, seq, role, content, metadata, timestamp)
    SELECT :thread_id, bumped.message_count - :n + item.ord - 1,
           item.role, item.content, CAST(item.metadata AS JSONB), :now
    FROM bumped,
         unnest(:roles, :contents, :metadata) WITH ORDINALITY
            AS item(role, content, metadata, ord)
    RETURNING id, seq
    """
).bindparams(
    bindparam("thread_id", type_=String()),
    bindparam("n", type_=Integer()),
    bindparam("now", type_=UTCDateTime()),
    bindparam("roles", type_=postgresql.ARRAY(Text())),
    bindparam("contents", type_=postgresql.ARRAY(Text())),
    bindparam("metadata", type_=postgresql.ARRAY(Text())),
)
"""Append messages on PostgreSQL: reserve seqs and insert in one atomic statement."""


def _thread_record(row: RowMapping) -> ThreadRecord:
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "agent_name": row["agent_name"],
        "title": row["title"],
        "metadata": row["metadata"],
        "created_at": isoformat(row["created_at"]),
        "updated_at": isoformat(row["updated_at"]),
        "message_count": row["message_count"],
        "parent_thread_id": row["parent_thread_id"],
        "fork_message_index": row["fork_message_index"],
    }


def _message_record(row: RowMapping) -> MessageRecord:
    return {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "seq": row["seq"],
        "role": row["role"],
        "content": row["content"],
        "metadata": row["metadata"],
        "timestamp": isoformat(row["timestamp"]),
    }


def _feedback_record(row: RowMapping) -> FeedbackRecord:
    return {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "user_id": row["user_id"],
        "agent_name": row["agent_name"],
        "rating": row["rating"],
        "comment": row["comment"],
        "message_id": row["message_id"],
        "feedback_type": row["feedback_type"],
        "query": row["query"],
        "response": row["response"],
        "correction": row["correction"],
        "created_at": isoformat(row["created_at"]),
    }


def _suspended_record(row: RowMapping) -> SuspendedStateRecord:
    return {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "agent_name": row["agent_name"],
        "node_name": row["node_name"],
        "state_snapshot": lc_messages.decode(row["state_snapshot"]),
        "created_at": isoformat(row["created_at"]),
        "expires_at": isoformat(row["expires_at"]),
    }


_CHECKPOINT_RECORD_COLUMNS = [
    checkpoints.c[name]
    for name in (
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "parent_checkpoint_id",
        "checkpoint",
        "metadata",
        "created_at",
    )
]
"""What the dict checkpoint methods read: the record's columns only."""


def _checkpoint_record(row: RowMapping) -> CheckpointRecord:
    return {
        "thread_id": row["thread_id"],
        "checkpoint_ns": row["checkpoint_ns"],
        "checkpoint_id": row["checkpoint_id"],
        "parent_checkpoint_id": row["parent_checkpoint_id"],
        "checkpoint": lc_messages.decode(row["checkpoint"]),
        "metadata": row["metadata"],
        "created_at": isoformat(row["created_at"]),
    }


def _context_record(row: RowMapping) -> ContextItemRecord:
    expires_at = row["expires_at"]
    return {
        "key": row["key"],
        "value": row["value"],
        "subscribers": row["subscribers"],
        "topics": row["topics"],
        "ttl": row["ttl"],
        "created_at": isoformat(row["created_at"]),
        "expires_at": None if expires_at is None else isoformat(expires_at),
        "user_id": context_inputs.user_of(row["scope"]),
        "posted_by": row["posted_by"],
    }


def _unexpired(now: datetime) -> ColumnElement[bool]:
    return or_(context_items.c.expires_at.is_(None), context_items.c.expires_at > now)


def _routed_to(scope: str, agent_name: str, key: str | None) -> ColumnElement[bool]:
    """Whether a context item of ``scope`` read by the enclosing query reaches ``agent_name``.

    Three uncorrelated key lists of the scope, each a range of an index,
    evaluated once inside the one query that reads the items: the keys that
    have routes (an item without any is a broadcast), the keys naming the
    agent as subscriber, and the keys posted to one of the agent's topics.
    Their cost follows the scope's routes, never the whole table's; given a
    ``key``, they shrink to that item's routes.
    """
    mine = [context_routes.c.scope == scope]
    if key is not None:
        mine.append(context_routes.c.key == key)
    routed = select(context_routes.c.key).where(*mine)
    by_name = select(context_routes.c.key).where(
        *mine,
        context_routes.c.kind == ROUTE_SUBSCRIBER,
        context_routes.c.name == agent_name,
    )
    by_topic = (
        select(context_routes.c.key)
        .join(
            agent_topics,
            and_(
                agent_topics.c.scope == context_routes.c.scope,
                agent_topics.c.topic == context_routes.c.name,
            ),
        )
        .where(
            *mine,
            context_routes.c.kind == ROUTE_TOPIC,
            agent_topics.c.agent_name == agent_name,
        )
    )
    return or_(
        context_items.c.key.not_in(routed),
        context_items.c.key.in_(by_name),
        context_items.c.key.in_(by_topic),
    )


class _RolledBack(Exception):
    """Raised inside a transaction to roll it back on purpose."""


_VERSION_QUERY: Select[str] = select(literal_column("version_num", String())).select_from(
    table(VERSION_TABLE)
)
"""Read the schema revision without Alembic's MigrationContext (which logs at INFO)."""


def _unexpired_count(expiries: Sequence[datetime | None], now: datetime) -> int:
    return sum(1 for expires_at in expiries if expires_at is None or expires_at > now)


class SQLAlchemyStore(BaseStore):
    """A :class:`BaseStore` on a SQL database through SQLAlchemy's asyncio engine.

    Args:
        url: Database URL (``sqlite+aiosqlite:///file.db`` or
            ``postgresql+asyncpg://...``); None reads ``THREADSTORE_URL``, then
            uses the embedded default ``sqlite+aiosqlite:///threadstore.db``.
        engine: An engine to borrow instead of a URL; it is never disposed here.
        auto_migrate: What :meth:`initialize` may do to the schema (under a lock
            shared by every process). None (the default): create it at head on
            a database holding no threadstore tables at all, verify any other.
            True: also upgrade an older schema. False: only verify.
        clock: Returns the current aware time; inject one in tests.
        **engine_options: Passed to ``create_async_engine`` (pool_size, ...).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        engine: AsyncEngine | None = None,
        auto_migrate: bool | None = None,
        clock: Clock | None = None,
        **engine_options: Any,
    ) -> None:
        self._clock = check_clock(clock)
        if engine is not None:
            if url is not None or engine_options:
                raise ValidationError(
                    "pass either an engine or a URL with engine options, not both",
                    suggestion="Configure the engine you pass, or let the store create one.",
                )
            self._engine = engine
            self._owns_engine = False
            if engine.dialect.name == "sqlite":
                configure_sqlite(engine)
        else:
            self._engine = create_engine(resolve_url(url), **engine_options)
            self._owns_engine = True
        self._dialect = self._engine.dialect.name
        self._where = redact_url(self._engine.url)
        if auto_migrate not in (None, True, False):
            raise ValidationError(
                f"auto_migrate must be None, True or False, not {auto_migrate!r}",
                suggestion="Leave it at None to create a missing schema, or pass True/False.",
            )
        self._auto_migrate = auto_migrate
        self._write_lock = asyncio.Lock()
        self._init_lock = asyncio.Lock()
        self._revision: str | None = None
        self._abandoned_probes: set[asyncio.Task[None]] = set()
        self._head: str | None = None  # read from the revision files once, on first probe
        self.backend_name = self._dialect

    def __repr__(self) -> str:
        return f"SQLAlchemyStore(url={self._where!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The engine this store runs on."""
        return self._engine

    def _fault_context(self) -> dict[str, Any]:
        """What :func:`translate_error` names: the URL, its database, the engine's pool."""
        return {
            "where": self._where,
            "database": self._engine.url.database,
            "pool": self._engine.pool,
        }

    @contextlib.asynccontextmanager
    async def _connect(
        self,
        *,
        write: bool,
        thread_id: str | None = None,
        one_statement: bool = False,
        duplicate: str | None = None,
    ) -> AsyncIterator[AsyncConnection]:
        """Open one transaction (write) or one autocommit connection (read).

        SQLite writers queue on an in-process lock and then take the database
        write lock up front (``BEGIN IMMEDIATE``), so concurrent appends never
        deadlock; other processes wait on the busy timeout. A write block that
        runs ``one_statement`` (atomic by itself) runs it in autocommit mode,
        without BEGIN/COMMIT (SQLite writers still queue on the lock).
        """
        serialize = write and self._dialect == "sqlite"
        transaction = write and not one_statement
        try:
            async with self._write_lock if serialize else contextlib.nullcontext():
                conn = await self._engine.connect()
                try:
                    if transaction:
                        if serialize:
                            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
                        async with conn.begin():
                            yield conn
                    else:
                        if self._dialect == "sqlite":
                            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "NONE"})
                        else:
                            await conn.execution_options(isolation_level="AUTOCOMMIT")
                        yield conn
                except DRIVER_ERRORS as exc:
                    error = translate_error(
                        exc, thread_id=thread_id, duplicate=duplicate, **self._fault_context()
                    )
                    if isinstance(error, PersistenceConnectionError):
                        # never hand a broken connection back to the pool
                        await conn.invalidate()
                    raise error from exc
                finally:
                    await conn.close()
        except DRIVER_ERRORS as exc:
            raise translate_error(
                exc, thread_id=thread_id, duplicate=duplicate, **self._fault_context()
            ) from exc

    def _upsert(self, table: Table) -> Insert:
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        return cast(Insert, dialect.insert(table))

    # -- lifecycle ------------------------------------------------------------

    async def initialize(self) -> None:
        """Check the schema; create it on an empty database, upgrade it if allowed.

        See ``auto_migrate`` in the class description.

        On SQLite, also check that the file can be written (see
        :meth:`_check_sqlite_writable`); a missing folder is never created.

        Raises:
            SchemaTooNewError: a newer threadstore migrated the database.
            SchemaOutOfDateError: the schema is not at head and may not be upgraded.
            MigrationError: threadstore tables exist without a revision.
            DatabaseFileError: the SQLite file or its folder cannot be used.
            PersistenceConnectionError: the database cannot be reached.
        """
        async with self._init_lock:
            if self._revision is not None:
                return
            try:
                async with self._engine.connect() as conn:
                    revision = await ensure_schema(conn, auto_migrate=self._auto_migrate)
            except DRIVER_ERRORS as exc:
                raise translate_error(exc, **self._fault_context()) from exc
            if self._dialect == "sqlite":
                await self._check_sqlite_writable()
            self._revision = revision
            logger.info("threadstore ready on %s at revision %s", self._where, self._revision)

    async def close(self) -> None:
        """Dispose the engine if this store created it."""
        self._revision = None
        await settle(self._abandoned_probes)
        if self._owns_engine:
            await self._engine.dispose()

    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """See :meth:`BaseStore.health_check`.

        Unhealthy when the database does not answer within ``timeout``, the
        schema is not at head, or (SQLite) the file cannot be written. Checks:
        ``connected``, ``schema_at_head`` and, on SQLite, ``writable``.
        """
        return await run_probe(
            self._probe,
            backend=type(self).__name__,
            dialect=self._dialect,
            timeout=check_timeout(timeout),
            abandoned=self._abandoned_probes,
        )

    async def _probe(self, found: Probe) -> None:
        found.checks.update(connected=False, schema_at_head=False)
        path = None
        if self._dialect == "sqlite":
            found.checks["writable"] = False
            path = sqlite_files.database_path(self._where)
        missing = sqlite_files.missing_file(path) if path is not None else None
        if missing is not None:  # never let a probe create the database file
            found.error = f"cannot use the SQLite database {path}: {missing}"
            return
        rows: Sequence[str] = []
        try:
            async with self._connect(write=False) as conn:
                rows = (await conn.execute(_VERSION_QUERY)).scalars().all()
        except SchemaOutOfDateError:
            pass  # connected, but there is no version table
        found.checks["connected"] = True
        found.schema_revision = ",".join(sorted(rows)) or None
        if self._head is None:
            self._head = head_revision()
        found.checks["schema_at_head"] = found.schema_revision == self._head
        if found.schema_revision != self._head:
            current = found.schema_revision or "no threadstore schema"
            found.error = f"the database has {current}; this threadstore needs {self._head}"
        if self._dialect == "sqlite":
            try:
                await self._check_sqlite_writable()
                found.checks["writable"] = True
            except PersistenceError as exc:
                found.error = found.error or str(exc)

    async def _check_sqlite_writable(self) -> None:
        """Prove the SQLite database can be written, without writing anything.

        Takes the write lock (``BEGIN IMMEDIATE``, which SQLite quietly turns
        into a read transaction on a read-only file), rewrites the header's
        ``user_version`` with its own value and rolls back: SQLite itself says
        whether it can write, and the error names the file's problem.

        Raises:
            DatabaseFileError: the file or its folder is read-only.
        """
        try:
            async with self._connect(write=True) as conn:
                version = (await conn.exec_driver_sql("PRAGMA user_version")).scalar_one()
                await conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
                raise _RolledBack
        except _RolledBack:
            pass

    # -- threads -----------------------------------------------------------------

    async def create_thread(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ThreadRecord:
        """See :meth:`BaseStore.create_thread`."""
        args = inputs.thread_input(thread_id, user_id, agent_name, title, metadata)
        now = self._clock()
        values = {
            "id": args.thread_id,
            "user_id": args.user_id,
            "agent_name": args.agent_name,
            "title": args.title,
            "metadata": args.metadata,
            "created_at": now,
            "updated_at": now,
            "message_count": 0,
            "parent_thread_id": None,
            "fork_message_index": None,
        }
        async with self._connect(write=True, duplicate=f"thread {args.thread_id!r}") as conn:
            await conn.execute(insert(threads), values)
        return _thread_record(cast(RowMapping, values))

    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        """See :meth:`BaseStore.get_thread`."""
        check_id("thread_id", thread_id)
        async with self._connect(write=False) as conn:
            row = (
                (await conn.execute(select(threads).where(threads.c.id == thread_id)))
                .mappings()
                .first()
            )
        return None if row is None else _thread_record(row)

    async def list_threads(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ThreadRecord]:
        """See :meth:`BaseStore.list_threads`."""
        inputs.optional_ids(agent_name=agent_name, user_id=user_id)
        query = (
            select(threads)
            .order_by(threads.c.updated_at.desc(), threads.c.id.desc())
            .limit(check_limit("limit", limit))
            .offset(check_limit("offset", offset))
        )
        if agent_name is not None:
            query = query.where(threads.c.agent_name == agent_name)
        if user_id is not None:
            query = query.where(threads.c.user_id == user_id)
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_thread_record(row) for row in rows]

    async def update_thread(self, thread_id: str, **updates: Any) -> ThreadRecord | None:
        """See :meth:`BaseStore.update_thread`."""
        check_id("thread_id", thread_id)
        change = inputs.thread_update(updates)
        values: dict[str, Any] = {"updated_at": self._clock()}
        if change.set_title:
            values["title"] = change.title
        if change.metadata is not None:
            values["metadata"] = change.metadata
        statement = update(threads).where(threads.c.id == thread_id).values(values)
        async with self._connect(write=True) as conn:
            row = (await conn.execute(statement.returning(*threads.c))).mappings().first()
        return None if row is None else _thread_record(row)

    async def delete_thread(self, thread_id: str) -> bool:
        """See :meth:`BaseStore.delete_thread`; children go by ON DELETE CASCADE."""
        check_id("thread_id", thread_id)
        async with self._connect(write=True) as conn:
            for table in (checkpoint_writes, checkpoints):
                await conn.execute(delete(table).where(table.c.thread_id == thread_id))
            result = await conn.execute(delete(threads).where(threads.c.id == thread_id))
        return cast(CursorResult[Any], result).rowcount > 0

    # -- messages ----------------------------------------------------------------------

    async def add_message(
        self,
        thread_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> MessageRecord:
        """See :meth:`BaseStore.add_message`."""
        check_id("thread_id", thread_id)
        message = inputs.message_input(role, content, metadata)
        return (await self._append(thread_id, [message]))[0]

    async def add_messages(
        self, thread_id: str, messages: Sequence[NewMessage]
    ) -> list[MessageRecord]:
        """See :meth:`BaseStore.add_messages`."""
        check_id("thread_id", thread_id)
        batch = inputs.message_inputs(messages)
        return await self._append(thread_id, batch) if batch else []

    async def _append(
        self, thread_id: str, batch: list[inputs.MessageInput]
    ) -> list[MessageRecord]:
        """Reserve ``len(batch)`` seqs by bumping the counter and insert the rows, atomically.

        The counter UPDATE locks the thread row until the insert commits, so
        concurrent appenders get consecutive, gap-free ranges and
        ``message_count`` stays exact. PostgreSQL does both in one statement.
        """
        now = self._clock()
        if self._dialect == "postgresql":
            first, ids = await self._append_postgresql(thread_id, batch, now)
        else:
            first, ids = await self._append_portable(thread_id, batch, now)
        return [
            {
                "id": message_id,
                "thread_id": thread_id,
                "seq": first + offset,
                "role": item.role,
                "content": item.content,
                "metadata": item.metadata,
                "timestamp": isoformat(now),
            }
            for offset, (item, message_id) in enumerate(zip(batch, ids, strict=True))
        ]

    async def _append_portable(
        self, thread_id: str, batch: list[inputs.MessageInput], now: datetime
    ) -> tuple[int, list[int]]:
        reserve = (
            update(threads)
            .where(threads.c.id == thread_id)
            .values(message_count=threads.c.message_count + len(batch), updated_at=now)
            .returning(threads.c.message_count)
        )
        async with self._connect(write=True, thread_id=thread_id) as conn:
            count = (await conn.execute(reserve)).scalar_one_or_none()
            if count is None:
                raise ThreadNotFoundError(thread_id)
            first = count - len(batch)
            rows = [
                {
                    "thread_id": thread_id,
                    "seq": first + offset,
                    "role": item.role,
                    "content": item.content,
                    "metadata": item.metadata,
                    "timestamp": now,
                }
                for offset, item in enumerate(batch)
            ]
            statement = insert(messages).returning(messages.c.id, sort_by_parameter_order=True)
            ids = (await conn.execute(statement, rows)).scalars().all()
        return first, list(ids)

    async def _append_postgresql(
        self, thread_id: str, batch: list[inputs.MessageInput], now: datetime
    ) -> tuple[int, list[int]]:
        params = {
            "thread_id": thread_id,
            "n": len(batch),
            "now": now,
            "roles": [item.role for item in batch],
            "contents": [item.content for item in batch],
            "metadata": [json.dumps(item.metadata) for item in batch],
        }
        async with self._connect(write=True, thread_id=thread_id, one_statement=True) as conn:
            rows = sorted((await conn.execute(_PG_APPEND, params)).all(), key=lambda r: r.seq)
        if not rows:
            raise ThreadNotFoundError(thread_id)
        return rows[0].seq, [row.id for row in rows]

    async def get_messages(
        self,
        thread_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
    ) -> list[MessageRecord]:
        """See :meth:`BaseStore.get_messages`; one range scan of (thread_id, seq)."""
        check_id("thread_id", thread_id)
        page = inputs.message_page(limit, offset, after_seq, before_seq, newest_first)
        query = select(messages).where(messages.c.thread_id == thread_id)
        if page.after_seq is not None:
            query = query.where(messages.c.seq > page.after_seq)
        if page.before_seq is not None:
            query = query.where(messages.c.seq < page.before_seq)
        order = messages.c.seq.desc() if page.newest_first else messages.c.seq.asc()
        query = query.order_by(order).limit(page.limit).offset(page.offset)
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_message_record(row) for row in rows]

    # -- feedback ------------------------------------------------------------------------

    async def add_feedback(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        rating: int | None = None,
        comment: str | None = None,
        message_id: int | None = None,
        feedback_type: str = "thumbs",
        query: str | None = "",
        response: str | None = "",
        correction: str | None = None,
    ) -> FeedbackRecord:
        """See :meth:`BaseStore.add_feedback`."""
        args = inputs.feedback_input(
            thread_id,
            user_id,
            agent_name,
            rating=rating,
            comment=comment,
            message_id=message_id,
            feedback_type=feedback_type,
            query=query,
            response=response,
            correction=correction,
        )
        values: dict[str, Any] = {**asdict(args), "created_at": self._clock()}
        async with self._connect(write=True, thread_id=args.thread_id) as conn:
            if args.message_id is not None:
                await self._require_message(conn, args.thread_id, args.message_id)
            statement = insert(feedback).values(values).returning(feedback.c.id)
            values["id"] = (await conn.execute(statement)).scalar_one()
        return _feedback_record(cast(RowMapping, values))

    @staticmethod
    async def _require_message(conn: AsyncConnection, thread_id: str, message_id: int) -> None:
        """Raise unless the thread exists and ``message_id`` is one of its messages."""
        query = select(
            select(threads.c.id).where(threads.c.id == thread_id).exists().label("thread"),
            select(messages.c.id)
            .where(messages.c.id == message_id, messages.c.thread_id == thread_id)
            .exists()
            .label("message"),
        )
        found = (await conn.execute(query)).one()
        if not found.thread:
            raise ThreadNotFoundError(thread_id)
        if not found.message:
            raise message_not_in_thread(message_id, thread_id)

    async def get_feedback(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        thread_id: str | None = None,
        limit: int = 50,
    ) -> list[FeedbackRecord]:
        """See :meth:`BaseStore.get_feedback`."""
        inputs.optional_ids(agent_name=agent_name, user_id=user_id, thread_id=thread_id)
        query = (
            select(feedback)
            .order_by(feedback.c.created_at.desc(), feedback.c.id.desc())
            .limit(check_limit("limit", limit))
        )
        for column, value in (
            (feedback.c.agent_name, agent_name),
            (feedback.c.user_id, user_id),
            (feedback.c.thread_id, thread_id),
        ):
            if value is not None:
                query = query.where(column == value)
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_feedback_record(row) for row in rows]

    # -- stats ---------------------------------------------------------------------------

    async def get_stats(self) -> StatsRecord:
        """See :meth:`BaseStore.get_stats`; one query."""
        tables = {
            "threads": threads,
            "messages": messages,
            "feedback": feedback,
            "suspended_states": suspended,
            "checkpoints": checkpoints,
            "context_items": context_items,
        }
        query = select(
            *(
                select(func.count()).select_from(table).scalar_subquery().label(name)
                for name, table in tables.items()
            )
        )
        async with self._connect(write=False) as conn:
            row = (await conn.execute(query)).mappings().one()
        return {
            "backend": type(self).__name__,
            "dialect": self._dialect,
            "threads": row["threads"],
            "messages": row["messages"],
            "feedback": row["feedback"],
            "suspended_states": row["suspended_states"],
            "checkpoints": row["checkpoints"],
            "context_items": row["context_items"],
        }

    # -- suspended states -------------------------------------------------------------------

    async def save_suspended_state(
        self,
        approval_id: str,
        thread_id: str,
        agent_name: str,
        node_name: str,
        state_json: dict[str, Any],
        *,
        ttl: timedelta | float | None = None,
    ) -> SuspendedStateRecord:
        """See :meth:`BaseStore.save_suspended_state`; one upsert."""
        approval, thread, agent, node, state, lifetime = inputs.suspended_state_input(
            approval_id, thread_id, agent_name, node_name, state_json, ttl
        )
        now = self._clock()
        values: dict[str, Any] = {
            "id": approval,
            "thread_id": thread,
            "agent_name": agent,
            "node_name": node,
            "state_snapshot": state,
            "created_at": now,
            "expires_at": now + lifetime,
        }
        statement = self._upsert(suspended).values(values)
        statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[suspended.c.id],
            set_={key: statement.excluded[key] for key in values if key != "id"},  # type: ignore[attr-defined]
            # the same thread replaces its approval; another thread's live one is refused
            where=or_(suspended.c.thread_id == thread, suspended.c.expires_at <= now),
        ).returning(suspended.c.id)
        async with self._connect(write=True, thread_id=thread) as conn:
            if (await conn.execute(statement)).first() is None:
                raise approval_of_other_thread(approval)
        return _suspended_record(cast(RowMapping, values))

    async def get_suspended_state(self, approval_id: str) -> SuspendedStateRecord | None:
        """See :meth:`BaseStore.get_suspended_state`."""
        check_id("approval_id", approval_id)
        query = select(suspended).where(
            suspended.c.id == approval_id, suspended.c.expires_at > self._clock()
        )
        async with self._connect(write=False) as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _suspended_record(row)

    async def list_suspended_states(
        self, *, thread_id: str | None = None, agent_name: str | None = None
    ) -> list[SuspendedStateRecord]:
        """See :meth:`BaseStore.list_suspended_states`."""
        inputs.optional_ids(thread_id=thread_id, agent_name=agent_name)
        query = (
            select(suspended)
            .where(suspended.c.expires_at > self._clock())
            .order_by(suspended.c.created_at, suspended.c.id)
        )
        if thread_id is not None:
            query = query.where(suspended.c.thread_id == thread_id)
        if agent_name is not None:
            query = query.where(suspended.c.agent_name == agent_name)
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_suspended_record(row) for row in rows]

    async def delete_suspended_state(self, approval_id: str) -> bool:
        """See :meth:`BaseStore.delete_suspended_state`."""
        check_id("approval_id", approval_id)
        async with self._connect(write=True) as conn:
            result = await conn.execute(delete(suspended).where(suspended.c.id == approval_id))
        return cast(CursorResult[Any], result).rowcount > 0

    async def cleanup_expired_states(self) -> int:
        """See :meth:`BaseStore.cleanup_expired_states`."""
        statement = delete(suspended).where(suspended.c.expires_at <= self._clock())
        async with self._connect(write=True) as conn:
            result = await conn.execute(statement)
        return cast(CursorResult[Any], result).rowcount

    # -- forks ----------------------------------------------------------------------------

    async def fork_thread(
        self,
        parent_thread_id: str,
        message_index: int,
        new_thread_id: str,
        *,
        title: str | None = None,
    ) -> ThreadRecord | None:
        """See :meth:`BaseStore.fork_thread`; messages are copied by one INSERT ... SELECT."""
        args = inputs.thread_input(new_thread_id, "-", "-", title, None)
        check_id("parent_thread_id", parent_thread_id)
        index = check_seq("message_index", message_index)
        now = self._clock()
        async with self._connect(write=True, duplicate=f"thread {args.thread_id!r}") as conn:
            parent = (
                (await conn.execute(select(threads).where(threads.c.id == parent_thread_id)))
                .mappings()
                .first()
            )
            if parent is None or not 0 <= index < parent["message_count"]:
                return None
            values = {
                "id": args.thread_id,
                "user_id": parent["user_id"],
                "agent_name": parent["agent_name"],
                "title": args.title or fork_title(parent["title"], parent["id"]),
                "metadata": parent["metadata"],
                "created_at": now,
                "updated_at": now,
                "message_count": index + 1,
                "parent_thread_id": parent["id"],
                "fork_message_index": index,
            }
            await conn.execute(insert(threads), values)
            columns = ["seq", "role", "content", "metadata", "timestamp"]
            source = select(
                literal(args.thread_id, threads.c.id.type).label("thread_id"),
                *(messages.c[name] for name in columns),
            ).where(messages.c.thread_id == parent["id"], messages.c.seq <= index)
            await conn.execute(insert(messages).from_select(["thread_id", *columns], source))
        return _thread_record(cast(RowMapping, values))

    async def get_thread_lineage(self, thread_id: str) -> LineageRecord:
        """See :meth:`BaseStore.get_thread_lineage`; one recursive query at any depth."""
        check_id("thread_id", thread_id)
        chain = (
            select(threads.c.id, threads.c.parent_thread_id, literal(0).label("depth"))
            .where(threads.c.id == thread_id)
            .cte("lineage", recursive=True)
        )
        parent = threads.alias("parent")
        chain = chain.union_all(
            select(parent.c.id, parent.c.parent_thread_id, chain.c.depth + 1).where(
                parent.c.id == chain.c.parent_thread_id, chain.c.depth < _MAX_LINEAGE_DEPTH
            )
        )
        ancestors = (
            select(threads, chain.c.depth)
            .join(chain, threads.c.id == chain.c.id)
            .where(chain.c.depth > 0)
        )
        children = select(threads, literal(-1).label("depth")).where(
            threads.c.parent_thread_id == thread_id
        )
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(union_all(ancestors, children))).mappings().all()
        up = sorted((r for r in rows if r["depth"] > 0), key=lambda r: -r["depth"])
        down = sorted((r for r in rows if r["depth"] < 0), key=lambda r: (r["created_at"], r["id"]))
        return {
            "thread_id": thread_id,
            "ancestors": [_thread_record(r) for r in up],
            "descendants": [_thread_record(r) for r in down],
        }

    # -- checkpoints -------------------------------------------------------------------------

    async def save_checkpoint(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """See :meth:`BaseStore.save_checkpoint`; one upsert."""
        thread, ns, cid, parent, body, meta = inputs.checkpoint_input(
            thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata
        )
        values: dict[str, Any] = {
            "thread_id": thread,
            "checkpoint_ns": ns,
            "checkpoint_id": cid,
            "parent_checkpoint_id": parent,
            "checkpoint": body,
            "metadata": meta,
            "created_at": self._clock(),
            "payload_type": None,
            "payload": None,
            "run_id": run_id_of(meta),
        }
        statement = self._upsert(checkpoints).values(values)
        statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[
                checkpoints.c.thread_id,
                checkpoints.c.checkpoint_ns,
                checkpoints.c.checkpoint_id,
            ],
            set_={
                key: statement.excluded[key]  # type: ignore[attr-defined]
                for key in values
                if key not in ("thread_id", "checkpoint_ns", "checkpoint_id")
            },
        )
        async with self._connect(write=True) as conn:
            await conn.execute(statement)

    def _checkpoints_of(self, thread_id: str, checkpoint_ns: str) -> Any:
        check_id("thread_id", thread_id)
        check_id("checkpoint_ns", checkpoint_ns, allow_empty=True)
        return (
            select(*_CHECKPOINT_RECORD_COLUMNS)  # never the saver's binary payload
            .where(
                checkpoints.c.thread_id == thread_id, checkpoints.c.checkpoint_ns == checkpoint_ns
            )
            .order_by(checkpoints.c.checkpoint_id.desc())
        )

    async def get_checkpoint(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """See :meth:`BaseStore.get_checkpoint`; the latest is one index probe."""
        query = self._checkpoints_of(thread_id, checkpoint_ns)
        if check_id("checkpoint_id", checkpoint_id, allow_empty=True):
            query = query.where(checkpoints.c.checkpoint_id == checkpoint_id)
        async with self._connect(write=False) as conn:
            row = (await conn.execute(query.limit(1))).mappings().first()
        return None if row is None else _checkpoint_record(row)

    async def list_checkpoints(
        self,
        thread_id: str,
        checkpoint_ns: str,
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        """See :meth:`BaseStore.list_checkpoints`."""
        inputs.optional_ids(before=before)
        query = self._checkpoints_of(thread_id, checkpoint_ns)
        if before is not None:
            query = query.where(checkpoints.c.checkpoint_id < before)
        maximum = inputs.optional_limit(limit)
        if maximum is not None:
            query = query.limit(maximum)
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_checkpoint_record(row) for row in rows]

    # -- context items -----------------------------------------------------------------------

    async def save_context_item(
        self,
        key: str,
        value: Any,
        *,
        user_id: str | None = None,
        subscribers: Sequence[str] = (),
        topics: Sequence[str] = (),
        ttl: float | timedelta | None = None,
        posted_by: str | None = None,
    ) -> ContextItemRecord:
        """See :meth:`BaseStore.save_context_item`; check, upsert and routes in one transaction."""
        args = context_inputs.context_item_input(
            key,
            value,
            user_id=user_id,
            subscribers=subscribers,
            topics=topics,
            ttl=ttl,
            posted_by=posted_by,
        )
        now = self._clock()
        values: dict[str, Any] = {
            "scope": args.scope,
            "key": args.key,
            "value": args.value,
            "subscribers": args.subscribers,
            "topics": args.topics,
            "posted_by": args.posted_by,
            "ttl": args.ttl,
            "created_at": now,
            "expires_at": None if args.lifetime is None else now + args.lifetime,
        }
        statement = self._upsert(context_items).values(values)
        statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[context_items.c.scope, context_items.c.key],
            set_={
                name: statement.excluded[name]  # type: ignore[attr-defined]
                for name in values
                if name not in {"scope", "key"}
            },
        )
        routes = [
            {"scope": args.scope, "key": args.key, "kind": kind, "name": name}
            for kind, names in ((ROUTE_SUBSCRIBER, args.subscribers), (ROUTE_TOPIC, args.topics))
            for name in names
        ]
        async with self._connect(write=True) as conn:
            if args.posted_by is not None:
                allowed = await self._allowed_topics(conn, args.scope, args.posted_by)
                context_inputs.check_may_post(args, allowed)
            await conn.execute(statement)
            await conn.execute(
                delete(context_routes).where(
                    context_routes.c.scope == args.scope, context_routes.c.key == args.key
                )
            )
            if routes:
                await conn.execute(insert(context_routes), routes)
        return _context_record(cast(RowMapping, values))

    @staticmethod
    async def _allowed_topics(conn: AsyncConnection, scope: str, agent: str) -> list[str] | None:
        query = select(agent_permissions.c.allowed_topics).where(
            agent_permissions.c.scope == scope, agent_permissions.c.agent_name == agent
        )
        allowed: list[str] | None = (await conn.execute(query)).scalar_one_or_none()
        return allowed

    def _visible_items(self, scope: str, agent_name: str | None, key: str | None = None) -> Any:
        query = select(context_items).where(
            context_items.c.scope == scope, _unexpired(self._clock())
        )
        if key is not None:
            query = query.where(context_items.c.key == key)
        return query if agent_name is None else query.where(_routed_to(scope, agent_name, key))

    async def get_context_item(
        self, key: str, *, user_id: str | None = None, agent_name: str | None = None
    ) -> ContextItemRecord | None:
        """See :meth:`BaseStore.get_context_item`; one query, routing included."""
        scope = context_inputs.scope_of(user_id)
        agent = check_optional_id("agent_name", agent_name)
        query = self._visible_items(scope, agent, check_id("key", key))
        async with self._connect(write=False) as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _context_record(row)

    async def delete_context_item(self, key: str, *, user_id: str | None = None) -> bool:
        """See :meth:`BaseStore.delete_context_item`; its routes go by ON DELETE CASCADE."""
        scope = context_inputs.scope_of(user_id)
        statement = (
            delete(context_items)
            .where(context_items.c.scope == scope, context_items.c.key == check_id("key", key))
            .returning(context_items.c.expires_at)
        )
        now = self._clock()
        async with self._connect(write=True) as conn:
            expiries = (await conn.execute(statement)).scalars().all()
        return _unexpired_count(expiries, now) > 0

    async def get_all_context_items(
        self, *, user_id: str | None = None, agent_name: str | None = None
    ) -> list[ContextItemRecord]:
        """See :meth:`BaseStore.get_all_context_items`; one indexed query, routing included."""
        scope = context_inputs.scope_of(user_id)
        query = self._visible_items(scope, check_optional_id("agent_name", agent_name))
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query.order_by(context_items.c.key))).mappings().all()
        return [_context_record(row) for row in rows]

    async def cleanup_expired_context_items(self) -> int:
        """See :meth:`BaseStore.cleanup_expired_context_items`; a range of the expiry index."""
        statement = delete(context_items).where(context_items.c.expires_at <= self._clock())
        async with self._connect(write=True) as conn:
            result = await conn.execute(statement)
        return cast(CursorResult[Any], result).rowcount

    async def clear_context_items(self, *, user_id: str | None = None) -> int:
        """See :meth:`BaseStore.clear_context_items`."""
        scope = context_inputs.scope_of(user_id)
        statement = (
            delete(context_items)
            .where(context_items.c.scope == scope)
            .returning(context_items.c.expires_at)
        )
        now = self._clock()
        async with self._connect(write=True) as conn:
            expiries = (await conn.execute(statement)).scalars().all()
        return _unexpired_count(expiries, now)

    async def save_agent_topics(
        self, agent_name: str, topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """See :meth:`BaseStore.save_agent_topics`; the old rows are replaced in one transaction."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        names = context_inputs.agent_names("topics", topics)
        rows = [
            {"scope": scope, "agent_name": agent, "topic": topic, "position": position}
            for position, topic in enumerate(names)
        ]
        async with self._connect(write=True) as conn:
            await conn.execute(self._delete_agent_topics(scope, agent))
            if rows:
                await conn.execute(insert(agent_topics), rows)
        return names

    @staticmethod
    def _delete_agent_topics(scope: str, agent: str) -> Any:
        return delete(agent_topics).where(
            agent_topics.c.scope == scope, agent_topics.c.agent_name == agent
        )

    async def get_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> list[str]:
        """See :meth:`BaseStore.get_agent_topics`."""
        scope = context_inputs.scope_of(user_id)
        query = (
            select(agent_topics.c.topic)
            .where(
                agent_topics.c.scope == scope,
                agent_topics.c.agent_name == check_id("agent_name", agent_name),
            )
            .order_by(agent_topics.c.position)
        )
        async with self._connect(write=False) as conn:
            return list((await conn.execute(query)).scalars().all())

    async def get_all_agent_topics(self, *, user_id: str | None = None) -> dict[str, list[str]]:
        """See :meth:`BaseStore.get_all_agent_topics`."""
        query = (
            select(agent_topics.c.agent_name, agent_topics.c.topic)
            .where(agent_topics.c.scope == context_inputs.scope_of(user_id))
            .order_by(agent_topics.c.agent_name, agent_topics.c.position)
        )
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).all()
        subscriptions: dict[str, list[str]] = {}
        for agent, topic in rows:
            subscriptions.setdefault(agent, []).append(topic)
        return subscriptions

    async def remove_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> bool:
        """See :meth:`BaseStore.remove_agent_topics`."""
        scope = context_inputs.scope_of(user_id)
        statement = self._delete_agent_topics(scope, check_id("agent_name", agent_name))
        async with self._connect(write=True) as conn:
            result = await conn.execute(statement)
        return cast(CursorResult[Any], result).rowcount > 0

    async def save_agent_permissions(
        self, agent_name: str, allowed_topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """See :meth:`BaseStore.save_agent_permissions`; one upsert."""
        values = {
            "scope": context_inputs.scope_of(user_id),
            "agent_name": check_id("agent_name", agent_name),
            "allowed_topics": context_inputs.agent_names("allowed_topics", allowed_topics),
        }
        statement = self._upsert(agent_permissions).values(values)
        statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[agent_permissions.c.scope, agent_permissions.c.agent_name],
            set_={"allowed_topics": statement.excluded["allowed_topics"]},  # type: ignore[attr-defined]
        )
        async with self._connect(write=True) as conn:
            await conn.execute(statement)
        return list(values["allowed_topics"])

    async def get_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> list[str] | None:
        """See :meth:`BaseStore.get_agent_permissions`."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        async with self._connect(write=False) as conn:
            return await self._allowed_topics(conn, scope, agent)

    async def get_all_agent_permissions(
        self, *, user_id: str | None = None
    ) -> dict[str, list[str]]:
        """See :meth:`BaseStore.get_all_agent_permissions`."""
        query = (
            select(agent_permissions.c.agent_name, agent_permissions.c.allowed_topics)
            .where(agent_permissions.c.scope == context_inputs.scope_of(user_id))
            .order_by(agent_permissions.c.agent_name)
        )
        async with self._connect(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return {agent: allowed for agent, allowed in rows}

    async def remove_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> bool:
        """See :meth:`BaseStore.remove_agent_permissions`."""
        statement = delete(agent_permissions).where(
            agent_permissions.c.scope == context_inputs.scope_of(user_id),
            agent_permissions.c.agent_name == check_id("agent_name", agent_name),
        )
        async with self._connect(write=True, one_statement=True) as conn:
            result = await conn.execute(statement)
        return cast(CursorResult[Any], result).rowcount > 0
