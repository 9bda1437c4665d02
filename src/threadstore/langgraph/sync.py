"""The sync half of the saver's API: each call runs its async twin on the saver's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from threadstore.store.base import BaseStore

__all__ = ["SyncSaver"]

_T = TypeVar("_T")


def _drive(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine that never suspends (the memory backend) to completion."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("the saver's coroutine waited on I/O without an event loop")


class SyncSaver(BaseCheckpointSaver[int]):
    """Sync methods over the async ones, for ``graph.invoke`` called off the saver's loop."""

    store: BaseStore
    _loop: asyncio.AbstractEventLoop | None
    _sync_lock: threading.Lock

    # -- sync API ----------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run an async method for a sync caller (see the class docstring)."""
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and (loop is None or running is loop):
            coro.close()
            raise asyncio.InvalidStateError(
                "synchronous ThreadstoreSaver methods cannot run on the saver's event loop "
                "thread; use the async API (await saver.aget_tuple(...), graph.ainvoke(...)) "
                "or call them from another thread"
            )
        if loop is not None and loop.is_running():
            return asyncio.run_coroutine_threadsafe(coro, loop).result()
        if self.store.runs_without_loop:
            with self._sync_lock:
                return _drive(coro)
        coro.close()
        raise asyncio.InvalidStateError(
            "the saver's event loop is not running; a database-backed ThreadstoreSaver "
            "serves sync calls only from other threads while its loop runs. Use the "
            "async API (graph.ainvoke) or run the loop in a background thread"
        )

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Sync :meth:`aget_tuple`."""
        return self._call(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Sync :meth:`alist`; each step runs on the saver's loop."""
        iterator = self.alist(config, filter=filter, before=before, limit=limit)

        async def step() -> tuple[bool, CheckpointTuple | None]:
            try:
                return True, await anext(iterator)
            except StopAsyncIteration:
                return False, None

        while True:
            more, item = self._call(step())
            if not more or item is None:
                return
            yield item

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Sync :meth:`aput`."""
        return self._call(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Sync :meth:`aput_writes`."""
        self._call(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        """Sync :meth:`adelete_thread`."""
        self._call(self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Sync :meth:`adelete_for_runs`."""
        self._call(self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Sync :meth:`acopy_thread`."""
        self._call(self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Sync :meth:`aprune`."""
        self._call(self.aprune(thread_ids, strategy=strategy))
