"""LangGraph's long-term memory store (``langgraph.store.base.BaseStore``) on threadstore.

Items live in ``threadstore_memory_items`` (and their embeddings in
``threadstore_memory_vectors``) through the store's own units of work, so
they share its database, migrations, transactions, user views, export,
erasure and retention. Filters, ranking and TTL rules live here and in
:mod:`threadstore.langgraph.store_query`, so every backend behaves the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from langgraph.store.base import (
    BaseStore as LangGraphStore,
)
from langgraph.store.base import (
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)

from threadstore.errors import ValidationError
from threadstore.langgraph.store_index import Embedded, Index
from threadstore.langgraph.store_query import check_filter, matches, matches_conditions
from threadstore.langgraph.store_ranking import rank_in_database, rankable
from threadstore.langgraph.store_sweeper import Sweeper
from threadstore.store.base import BaseStore
from threadstore.store.memory_item_rows import ItemKey, MemoryItemRow, MemoryItemRows
from threadstore.sync_loop import LoopThread
from threadstore.validation import check_int, check_json_object

__all__ = ["DEFAULT_MAX_CANDIDATES", "InvalidMemoryNamespaceError", "ThreadstoreLongTermStore"]

logger = logging.getLogger("threadstore")

DEFAULT_MAX_CANDIDATES = 10_000
"""Items a semantic search ranks at most (the newest matching ones)."""
_SCAN_PAGE = 500


class InvalidMemoryNamespaceError(ValidationError, InvalidNamespaceError):
    """A namespace LangGraph's rules refuse (empty, a dot or NUL in a label, ...)."""


def _item(row: MemoryItemRow, score: float | None = None, *, search: bool = False) -> Item:
    fields: dict[str, Any] = {
        "value": row.value,
        "key": row.key,
        "namespace": row.namespace,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
    return SearchItem(**fields, score=score) if search else Item(**fields)


class ThreadstoreLongTermStore(Sweeper, LangGraphStore):
    """LangGraph ``BaseStore`` (long-term memory) over a threadstore store.

    Bound to a store, each ``batch`` is one transaction; bound to the object
    of a ``store.transaction()`` block, it joins the block; bound to
    ``store.for_user(user)``, it reads and writes that user's scope only
    (erased with the user). The async API (``abatch``, ``aget``, ...) is the
    primary one; the sync API works from any thread without a running loop,
    running the call on the loop the async API last ran on while it runs, and
    otherwise on a private loop thread (stop it with :meth:`close`); a
    MemoryStore-backed store without such a loop runs it in the calling
    thread. On a thread whose loop runs, only a MemoryStore-backed store
    serves sync calls (as LangGraph's InMemoryStore does); a database-backed
    one raises ``SyncStoreError``, as LangGraph's async database stores refuse.

    Args:
        store: An initialized threadstore store, view or transaction.
        index: LangGraph's ``IndexConfig`` (``embed``: an embeddings object or
            a sync/async function of texts; ``fields``: paths to embed,
            default the whole value; ``dims`` checked on every vector).
        ttl: LangGraph's ``TTLConfig`` (``default_ttl`` minutes,
            ``refresh_on_read``, ``sweep_interval_minutes``).
        max_candidates: Items a semantic search ranks at most in Python: the
            newest ones matching its namespace prefix and filter. On
            PostgreSQL, and on SQLite with sqlite-vec loaded (see
            :mod:`threadstore.sqlite_vector`), searches rank in SQL over every
            item, and this bound does not apply.
    """

    supports_ttl = True

    def __init__(
        self,
        store: BaseStore,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
    ) -> None:
        if not isinstance(store, BaseStore):
            raise ValidationError(
                f"ThreadstoreLongTermStore needs a threadstore store, got {type(store).__name__}",
                suggestion="Pass the store returned by threadstore.create_store(...), a "
                "store.for_user(...) view or the object of a store.transaction() block.",
            )
        self.store = store
        self.index = Index(index) if index else None
        self.index_config = self.index.config if self.index else None
        self.ttl_config = TTLConfig(**ttl) if ttl else None
        self._max_candidates = check_int("max_candidates", max_candidates, minimum=1)
        self._runner = LoopThread(
            "ThreadstoreLongTermStore",
            inline=store.runs_without_loop,
            suggestion="Await the async method (abatch, aget, asearch, ...) instead, "
            "or call from another thread.",
        )
        self._runner.bind()
        Sweeper.__init__(self, self._runner)

    def __repr__(self) -> str:
        return f"ThreadstoreLongTermStore({self.store!r})"

    def close(self) -> None:
        """Stop the sweeper and the private loop thread of the sync API."""
        self.stop_ttl_sweeper(timeout=10)
        self._runner.stop()

    # -- LangGraph's entry points -------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Sync :meth:`abatch`, from any thread (see the class docstring)."""
        ops = list(ops)
        puts = self._prepare(ops)
        embedded = self.index.embed_sync(puts.values(), ops) if self.index else ({}, {})
        return self._runner.run(self._apply(ops, puts, embedded))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations; results in their order, ``None`` for puts.

        Reads see the data as it was before the batch's puts; of several puts
        to one key the last wins. Embeddings are computed before the
        transaction opens. With puts the batch is one transaction; reads that
        refresh TTLs refresh them in a second one.
        """
        self._runner.bind()
        ops = list(ops)
        puts = self._prepare(ops)
        embedded = await self.index.embed(puts.values(), ops) if self.index else ({}, {})
        return await self._apply(ops, puts, embedded)

    def _prepare(self, ops: list[Op]) -> dict[ItemKey, PutOp]:
        """Check every operation; return the puts, the last one per key."""
        puts: dict[ItemKey, PutOp] = {}
        for op in ops:
            self._check(op)
            if isinstance(op, PutOp):
                puts[(op.namespace, op.key)] = op
        return puts

    async def _apply(
        self, ops: list[Op], puts: dict[ItemKey, PutOp], embedded: Embedded
    ) -> list[Result]:
        vectors, queries = embedded
        results: list[Result] = [None] * len(ops)
        refresh: list[ItemKey] = []
        async with self.store.unit(write=bool(puts)) as unit:
            rows = unit.memory_items
            now = unit.maintenance.now()
            for i, op in enumerate(ops):
                if isinstance(op, GetOp):
                    found = await rows.get([(op.namespace, op.key)], now)
                    results[i] = _item(found[0]) if found else None
                    if found and op.refresh_ttl and found[0].ttl_minutes is not None:
                        refresh.append((op.namespace, op.key))
                elif isinstance(op, SearchOp):
                    hits = await self._search(rows, op, now, queries.get(op.query or ""))
                    results[i] = [_item(row, score, search=True) for row, score in hits]
                    if op.refresh_ttl:
                        refresh.extend(r.item_key for r, _ in hits if r.ttl_minutes is not None)
                elif isinstance(op, ListNamespacesOp):
                    results[i] = self._namespaces(await rows.namespaces(now), op)
            await rows.delete([key for key, put in puts.items() if put.value is None])
            written = [self._row(put, now) for put in puts.values() if put.value is not None]
            await rows.put(written, vectors if self.index else None)
            if refresh and puts:
                await rows.refresh(refresh, now)
                refresh = []
        if refresh:
            async with self.store.unit(write=True) as unit:
                await unit.memory_items.refresh(refresh, unit.maintenance.now())
        return results

    # -- operations ---------------------------------------------------------------

    def _check(self, op: Op) -> None:
        if not isinstance(op, GetOp | PutOp | SearchOp | ListNamespacesOp):
            raise ValidationError(
                f"unknown store operation {type(op).__name__}",
                suggestion="Pass GetOp, PutOp, SearchOp or ListNamespacesOp.",
            )
        try:
            validate_op_namespace(op)
        except InvalidNamespaceError as exc:
            raise InvalidMemoryNamespaceError(
                str(exc), suggestion="Use non-empty labels without '.' or NUL."
            ) from exc
        if isinstance(op, GetOp | PutOp):
            if not op.namespace:
                raise InvalidMemoryNamespaceError(
                    "the namespace is empty", suggestion='Use a namespace such as ("users", id).'
                )
            if not isinstance(op.key, str) or "\x00" in op.key:
                raise ValidationError(
                    f"invalid item key {op.key!r}", suggestion="Use a string without NUL."
                )
        if isinstance(op, PutOp):
            if op.value is not None:
                check_json_object("value", op.value, allow_none=False)
            if op.ttl is not None and (
                isinstance(op.ttl, bool) or not isinstance(op.ttl, int | float) or not op.ttl > 0
            ):
                raise ValidationError(
                    f"ttl must be a positive number of minutes or None, got {op.ttl!r}",
                    suggestion="Pass ttl=minutes (e.g. 60) or ttl=None for no expiry.",
                )
        if isinstance(op, SearchOp):
            check_filter(op.filter)
            check_int("limit", op.limit, minimum=0)
            check_int("offset", op.offset, minimum=0)
        if isinstance(op, ListNamespacesOp):
            check_int("limit", op.limit, minimum=0)
            check_int("offset", op.offset, minimum=0)
            if op.max_depth is not None:
                check_int("max_depth", op.max_depth, minimum=1)

    @staticmethod
    def _row(op: PutOp, now: Any) -> MemoryItemRow:
        ttl = None if op.ttl is None else float(op.ttl)
        return MemoryItemRow(
            namespace=tuple(op.namespace),
            key=op.key,
            value=dict(op.value or {}),
            created_at=now,
            updated_at=now,
            ttl_minutes=ttl,
            expires_at=None if ttl is None else now + timedelta(minutes=ttl),
        )

    async def _matching(
        self, rows: MemoryItemRows, op: SearchOp, now: Any, stop: int
    ) -> list[MemoryItemRow]:
        """Rows under the prefix that match the filter, newest first, at most ``stop``."""
        wanted = op.filter or {}
        found: list[MemoryItemRow] = []
        after = None
        while len(found) < stop:
            page = await rows.scan(tuple(op.namespace_prefix), now, after, _SCAN_PAGE)
            found.extend(row for row in page if matches(row.value, wanted))
            if len(page) < _SCAN_PAGE:
                break
            after = page[-1].cursor
        return found[:stop]

    async def _search(
        self,
        rows: MemoryItemRows,
        op: SearchOp,
        now: Any,
        query: list[float] | None,
    ) -> list[tuple[MemoryItemRow, float | None]]:
        if query is None or self.index is None:
            hits = await self._matching(rows, op, now, op.offset + op.limit)
            return [(row, None) for row in hits[op.offset :]]
        ranking = rows.vector_ranking()
        if ranking is not None and rankable(query):
            return await rank_in_database(ranking, rows, op, now, query)
        candidates = await self._matching(rows, op, now, self._max_candidates)
        if len(candidates) == self._max_candidates:
            logger.warning(
                "semantic search ranked only the newest %d matching items; narrow the "
                "namespace prefix or filter, or raise max_candidates",
                self._max_candidates,
            )
        embedded = await rows.vectors([row.item_key for row in candidates])
        return self.index.rank(candidates, embedded, query, op.offset, op.limit)

    @staticmethod
    def _namespaces(found: Sequence[tuple[str, ...]], op: ListNamespacesOp) -> list[Any]:
        kept = [ns for ns in found if matches_conditions(ns, op.match_conditions)]
        if op.max_depth is not None:
            kept = [ns[: op.max_depth] for ns in kept]
        return sorted(set(kept))[op.offset : op.offset + op.limit]
