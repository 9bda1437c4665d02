"""A LangGraph checkpoint saver on threadstore's own stores and tables.

Serialisation, LangGraph's config and metadata conventions and the pending
writes rules live here; rows are stored through the store's public unit of
work (:mod:`threadstore.langgraph.storage`), by whichever backend it has.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from threadstore.errors import ValidationError
from threadstore.langgraph.storage import UnitRows
from threadstore.langgraph.sync import SyncSaver
from threadstore.langgraph.values import json_safe, pushdown
from threadstore.store.base import BaseStore
from threadstore.store.checkpoint_rows import (
    DELTA_METADATA_KEY,
    CheckpointRow,
    ListQuery,
    WriteRow,
)
from threadstore.sync_loop import LoopThread
from threadstore.validation import check_id, check_int, check_limit

__all__ = ["ThreadstoreSaver"]

logger = logging.getLogger("threadstore")

_HEADER_KEYS = ("v", "id", "ts", "channel_versions", "versions_seen", "updated_channels")
"""Checkpoint keys kept as JSON (readable by ``BaseStore.get_checkpoint``); the
rest (channel values, legacy pending sends) is serialised into the payload."""

_PRUNE_STRATEGIES = ("keep_latest", "delete")
_DEFAULT_PAGE_SIZE = 100


class ThreadstoreSaver(SyncSaver):
    """LangGraph ``BaseCheckpointSaver`` storing into a threadstore store.

    On SQL it uses the store's tables (``threadstore_checkpoints`` and
    ``threadstore_checkpoint_writes``); in a MemoryStore, the store's memory.
    Either way the store's dict checkpoint methods see the same checkpoints.
    Bound to a store, each call is its own transaction; bound to the object of
    a ``store.transaction()`` block (``ThreadstoreSaver(tx)``), its writes
    commit or roll back with the block.

    The async methods are the primary API (``graph.ainvoke``). The sync ones
    (``graph.invoke``) run the async method and wait: on the loop the saver
    last ran on while it runs in another thread, else on a private loop
    thread (stopped by :meth:`close`). A memory-backed saver without such a
    loop runs them in the calling thread, also on a thread whose event loop
    runs; there a database-backed one raises ``SyncStoreError`` instead, as
    blocking that loop could deadlock.

    Args:
        store: The store (initialized by the caller), or a transaction of one.
        serde: LangGraph serializer for channel values and writes; LangGraph's
            default ``JsonPlusSerializer`` (msgpack, no pickle) when None.
        page_size: Checkpoints fetched per query while ``alist`` iterates.
    """

    def __init__(
        self,
        store: BaseStore,
        *,
        serde: SerializerProtocol | None = None,
        page_size: int = _DEFAULT_PAGE_SIZE,
    ) -> None:
        if not isinstance(store, BaseStore):
            raise ValidationError(
                f"ThreadstoreSaver needs a threadstore store, got {type(store).__name__}",
                suggestion="Pass the store returned by threadstore.create_store(...), or the "
                "object of its `async with store.transaction() as tx:` block.",
            )
        super().__init__(serde=serde)
        self.store = store
        self._rows = UnitRows(store)
        self._page_size = check_int("page_size", page_size, minimum=1)
        self._runner = LoopThread(
            "ThreadstoreSaver",
            inline=store.runs_without_loop,
            suggestion="Use the async API (await saver.aget_tuple(...), graph.ainvoke(...)), "
            "or call from another thread.",
        )
        self._runner.bind()

    def __repr__(self) -> str:
        return f"ThreadstoreSaver({self.store!r})"

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def _target(config: RunnableConfig) -> tuple[str, str, str | None]:
        configurable = config.get("configurable") or {}
        if configurable.get("thread_id") is None:
            raise ValidationError(
                "the config has no configurable.thread_id",
                suggestion='Pass config={"configurable": {"thread_id": "..."}}.',
            )
        thread_id = check_id("thread_id", str(configurable["thread_id"]))
        ns = check_id("checkpoint_ns", configurable.get("checkpoint_ns") or "", allow_empty=True)
        checkpoint_id = configurable.get("checkpoint_id") or None
        if checkpoint_id is not None:
            check_id("checkpoint_id", checkpoint_id)
        return thread_id, ns, checkpoint_id

    def _tuple(self, row: CheckpointRow, writes: list[WriteRow]) -> CheckpointTuple:
        checkpoint: dict[str, Any] = dict(row.checkpoint)
        if row.payload_type is not None and row.payload is not None:
            checkpoint.update(self.serde.loads_typed((row.payload_type, row.payload)))
        for key in ("channel_values", "channel_versions", "versions_seen"):
            checkpoint.setdefault(key, {})
        writes.sort(key=lambda w: writes_sort_key(w.task_path, w.task_id, w.idx))
        pending = [
            (w.task_id, w.channel, self.serde.loads_typed((w.value_type, w.value))) for w in writes
        ]
        parent: RunnableConfig | None = None
        if row.parent_checkpoint_id:
            parent = {
                "configurable": {
                    "thread_id": row.thread_id,
                    "checkpoint_ns": row.checkpoint_ns,
                    "checkpoint_id": row.parent_checkpoint_id,
                }
            }
        return CheckpointTuple(
            config={
                "configurable": {
                    "thread_id": row.thread_id,
                    "checkpoint_ns": row.checkpoint_ns,
                    "checkpoint_id": row.checkpoint_id,
                }
            },
            checkpoint=checkpoint,  # type: ignore[arg-type]
            metadata=row.metadata,  # type: ignore[arg-type]
            parent_config=parent,
            pending_writes=pending,
        )

    # -- async API ---------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Return the checkpoint named by ``config``, or its namespace's latest.

        The latest is one primary-key probe (thread, namespace, newest id);
        pending writes come in ``writes_sort_key`` order.
        """
        self._runner.bind()
        thread_id, ns, checkpoint_id = self._target(config)
        found = await self._rows.get(thread_id, ns, checkpoint_id)
        return None if found is None else self._tuple(*found)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Yield checkpoints newest first.

        ``config`` restricts to a thread, and to a namespace when it names one
        (``""`` included); ``filter`` keeps checkpoints whose metadata has
        every given key with an equal value; ``before`` keeps ids before that
        checkpoint's; ``limit`` counts matches. Checkpoints are fetched a page
        at a time and no connection is held while the caller iterates.
        """
        self._runner.bind()
        query = self._list_query(config, filter, before)
        remaining = None if limit is None else check_limit("limit", limit)
        wanted = dict(filter or {})
        exact = len(query.metadata) == len(wanted)
        cursor = None
        while remaining is None or remaining > 0:
            size = self._page_size
            if remaining is not None and exact:
                size = min(size, remaining)
            page = await self._rows.page(query, cursor, size)
            for row, writes in page:
                metadata = row.metadata
                if all(k in metadata and metadata[k] == v for k, v in wanted.items()):
                    yield self._tuple(row, writes)
                    if remaining is not None:
                        remaining -= 1
                        if remaining == 0:
                            return
            if len(page) < size:
                return
            last = page[-1][0]
            cursor = (last.checkpoint_id, last.thread_id, last.checkpoint_ns)

    def _list_query(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
    ) -> ListQuery:
        thread_id = ns = checkpoint_id = None
        if config is not None:
            thread_id, _, checkpoint_id = self._target(config)
            raw_ns = (config.get("configurable") or {}).get("checkpoint_ns")
            if raw_ns is not None:
                ns = check_id("checkpoint_ns", raw_ns, allow_empty=True)
        before_id = None
        if before is not None:
            before_id = (before.get("configurable") or {}).get("checkpoint_id")
        return ListQuery(
            thread_id=thread_id,
            checkpoint_ns=ns,
            checkpoint_id=checkpoint_id,
            before=before_id,
            metadata=pushdown(json_safe(dict(filter or {}))),
        )

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save a checkpoint (one upsert) and return the config that names it.

        The JSON header (id, ts, versions) and metadata go to JSON columns; the
        channel values go through the serializer into the binary payload, so
        trigger channels bumped in ``new_versions`` without a value need no
        special handling.
        """
        self._runner.bind()
        thread_id, ns, parent_id = self._target(config)
        checkpoint_id = check_id("checkpoint id", checkpoint["id"])
        header = {k: checkpoint[k] for k in _HEADER_KEYS if k in checkpoint}  # type: ignore[literal-required]
        rest = {k: v for k, v in checkpoint.items() if k not in _HEADER_KEYS}
        payload_type, payload = self.serde.dumps_typed(rest)
        row = CheckpointRow(
            thread_id=thread_id,
            checkpoint_ns=ns,
            checkpoint_id=checkpoint_id,
            parent_checkpoint_id=parent_id,
            checkpoint=json_safe(header, "header"),
            metadata=json_safe(get_serializable_checkpoint_metadata(config, metadata)),
            payload_type=payload_type,
            payload=payload,
        )
        await self._rows.put_checkpoint(row)
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Save a task's writes for the checkpoint in ``config``.

        Idempotent per (task_id, idx): a regular write saved twice is kept
        once; a batch of only special writes (error, interrupt, resume,
        scheduled) replaces the earlier one, as LangGraph's own savers do.
        """
        self._runner.bind()
        thread_id, ns, checkpoint_id = self._target(config)
        if checkpoint_id is None:
            raise ValidationError(
                "put_writes needs the config of a saved checkpoint (configurable.checkpoint_id)",
                suggestion="Pass the config returned by put/aput.",
            )
        if not writes:
            return
        check_id("task_id", task_id)
        rows = [
            WriteRow(
                task_id=task_id,
                idx=WRITES_IDX_MAP.get(channel, idx),
                channel=channel,
                value_type=value_type,
                value=value_bytes,
                task_path=task_path,
            )
            for idx, (channel, value) in enumerate(writes)
            for value_type, value_bytes in (self.serde.dumps_typed(value),)
        ]
        replace = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        await self._rows.put_writes((thread_id, ns, checkpoint_id), rows, replace=replace)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread, in all namespaces.

        The threadstore thread itself (messages, ...) is untouched; use
        ``store.delete_thread`` to delete everything.
        """
        self._runner.bind()
        await self._rows.delete_threads([check_id("thread_id", str(thread_id))])

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) saved by the given runs.

        A run is the ``run_id`` in a checkpoint's metadata (LangGraph copies it
        from the config). Children of a deleted checkpoint lose their parent.
        """
        self._runner.bind()
        ids = self._ids("run_ids", run_ids)
        if ids:
            await self._rows.delete_runs(ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread, all namespaces, to another."""
        self._runner.bind()
        source = check_id("source_thread_id", str(source_thread_id))
        target = check_id("target_thread_id", str(target_thread_id))
        await self._rows.copy_thread(source, target)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Prune threads' checkpoints.

        ``"keep_latest"`` keeps the newest checkpoint per namespace (with its
        writes); ``"delete"`` removes everything.

        Raises:
            ValidationError: unknown strategy, or a single str for ``thread_ids``.
            NotImplementedError: ``keep_latest`` on a thread that uses a
                ``DeltaChannel`` (its history lives in the older checkpoints).
        """
        self._runner.bind()
        if strategy not in _PRUNE_STRATEGIES:
            raise ValidationError(
                f"unknown prune strategy {strategy!r}",
                suggestion=f"Use one of {', '.join(_PRUNE_STRATEGIES)}.",
            )
        ids = self._ids("thread_ids", thread_ids)
        if not ids:
            return
        if strategy == "delete":
            await self._rows.delete_threads(ids)
            return
        delta = await self._rows.threads_with_metadata_key(ids, DELTA_METADATA_KEY)
        if delta:
            raise NotImplementedError(
                f"keep_latest cannot prune threads that use a DeltaChannel: {', '.join(delta)}"
            )
        await self._rows.keep_latest(ids)

    @staticmethod
    def _ids(name: str, values: Sequence[str]) -> list[str]:
        if isinstance(values, str):
            raise ValidationError(
                f"{name} must be a list of ids, not a str",
                suggestion=f"Pass {name}=[...].",
            )
        return [check_id(name, str(v)) for v in values]
