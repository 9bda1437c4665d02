"""The saver's storage: each call in one unit of work of the store it is bound to.

The store may be a store (each call its own unit and transaction) or the
object of a ``store.transaction()`` block (each call joins the block). No
backend is named here: the unit supplies its own checkpoint-row repository.
"""

from __future__ import annotations

from collections.abc import Sequence

from threadstore.store.base import BaseStore
from threadstore.store.checkpoint_rows import (
    CheckpointKey,
    CheckpointRow,
    Found,
    ListCursor,
    ListQuery,
    WriteRow,
)

__all__ = ["UnitRows"]


class UnitRows:
    """:class:`~threadstore.store.checkpoint_rows.CheckpointRows` over ``store.unit()``."""

    def __init__(self, store: BaseStore) -> None:
        self._store = store

    async def put_checkpoint(self, row: CheckpointRow) -> None:
        """See :meth:`CheckpointRows.put_checkpoint`."""
        async with self._store.unit(write=True) as unit:
            await unit.checkpoint_rows.put_checkpoint(row)

    async def put_writes(
        self, key: CheckpointKey, writes: Sequence[WriteRow], *, replace: bool
    ) -> None:
        """See :meth:`CheckpointRows.put_writes`."""
        async with self._store.unit(write=True) as unit:
            await unit.checkpoint_rows.put_writes(key, writes, replace=replace)

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Found | None:
        """See :meth:`CheckpointRows.get`."""
        async with self._store.unit(write=False) as unit:
            return await unit.checkpoint_rows.get(thread_id, checkpoint_ns, checkpoint_id)

    async def page(self, query: ListQuery, after: ListCursor | None, size: int) -> list[Found]:
        """See :meth:`CheckpointRows.page`."""
        async with self._store.unit(write=False) as unit:
            return await unit.checkpoint_rows.page(query, after, size)

    async def delete_threads(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_threads`."""
        async with self._store.unit(write=True) as unit:
            await unit.checkpoint_rows.delete_threads(thread_ids)

    async def copy_thread(self, source: str, target: str) -> None:
        """See :meth:`CheckpointRows.copy_thread`."""
        async with self._store.unit(write=True) as unit:
            await unit.checkpoint_rows.copy_thread(source, target)

    async def keep_latest(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.keep_latest`."""
        async with self._store.unit(write=True) as unit:
            await unit.checkpoint_rows.keep_latest(thread_ids)

    async def delete_runs(self, run_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_runs`."""
        async with self._store.unit(write=True) as unit:
            await unit.checkpoint_rows.delete_runs(run_ids)

    async def threads_with_metadata_key(self, thread_ids: Sequence[str], key: str) -> list[str]:
        """See :meth:`CheckpointRows.threads_with_metadata_key`."""
        async with self._store.unit(write=False) as unit:
            return await unit.checkpoint_rows.threads_with_metadata_key(thread_ids, key)
