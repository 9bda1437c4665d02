"""The LangGraph saver's rows inside a :class:`MemoryStore`.

Checkpoints live in the store's own checkpoint records (so its dict methods
see them) and the binary parts beside them. No method awaits, so each call is
atomic on the event loop, and data is copied in and out.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from threadstore.clock import isoformat
from threadstore.langgraph.rows import (
    CheckpointKey,
    CheckpointRow,
    Found,
    ListCursor,
    ListQuery,
    WriteRow,
)
from threadstore.models.checkpoint import run_id_of
from threadstore.records import CheckpointRecord
from threadstore.store.memory import MemoryStore

__all__ = ["MemoryCheckpointRows"]


class MemoryCheckpointRows:
    """Saver rows kept in a :class:`MemoryStore`."""

    runs_without_loop = True

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _row(self, record: CheckpointRecord) -> CheckpointRow:
        key = (record["thread_id"], record["checkpoint_ns"], record["checkpoint_id"])
        payload_type, payload = self._store._checkpoint_payloads.get(key, (None, None))
        return CheckpointRow(
            thread_id=record["thread_id"],
            checkpoint_ns=record["checkpoint_ns"],
            checkpoint_id=record["checkpoint_id"],
            parent_checkpoint_id=record["parent_checkpoint_id"],
            checkpoint=copy.deepcopy(record["checkpoint"]),
            metadata=copy.deepcopy(record["metadata"]),
            payload_type=payload_type,
            payload=payload,
        )

    def _found(self, record: CheckpointRecord) -> Found:
        row = self._row(record)
        stored = self._store._checkpoint_writes.get(row.key, {})
        writes = [
            WriteRow(task_id, idx, channel, value_type, value, task_path)
            for (task_id, idx), (channel, value_type, value, task_path) in stored.items()
        ]
        return row, writes

    async def put_checkpoint(self, row: CheckpointRow) -> None:
        """See :meth:`CheckpointRows.put_checkpoint`."""
        self._store._checkpoints.setdefault((row.thread_id, row.checkpoint_ns), {})[
            row.checkpoint_id
        ] = {
            "thread_id": row.thread_id,
            "checkpoint_ns": row.checkpoint_ns,
            "checkpoint_id": row.checkpoint_id,
            "parent_checkpoint_id": row.parent_checkpoint_id,
            "checkpoint": copy.deepcopy(row.checkpoint),
            "metadata": copy.deepcopy(row.metadata),
            "created_at": isoformat(self._store._clock()),
        }
        if row.payload_type is None or row.payload is None:
            self._store._checkpoint_payloads.pop(row.key, None)
        else:
            self._store._checkpoint_payloads[row.key] = (row.payload_type, row.payload)

    async def put_writes(
        self, key: CheckpointKey, writes: Sequence[WriteRow], *, replace: bool
    ) -> None:
        """See :meth:`CheckpointRows.put_writes`."""
        stored = self._store._checkpoint_writes.setdefault(key, {})
        for w in writes:
            if replace or (w.task_id, w.idx) not in stored:
                stored[(w.task_id, w.idx)] = (w.channel, w.value_type, w.value, w.task_path)

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Found | None:
        """See :meth:`CheckpointRows.get`."""
        saved = self._store._checkpoints.get((thread_id, checkpoint_ns), {})
        record = saved.get(checkpoint_id or max(saved, default=""))
        return None if record is None else self._found(record)

    async def page(self, query: ListQuery, after: ListCursor | None, size: int) -> list[Found]:
        """See :meth:`CheckpointRows.page`."""
        selected: list[tuple[ListCursor, CheckpointRecord]] = []
        for (thread_id, ns), saved in self._store._checkpoints.items():
            if query.thread_id is not None and thread_id != query.thread_id:
                continue
            if query.checkpoint_ns is not None and ns != query.checkpoint_ns:
                continue
            for checkpoint_id, record in saved.items():
                position = (checkpoint_id, thread_id, ns)
                if (
                    (query.checkpoint_id is None or checkpoint_id == query.checkpoint_id)
                    and (query.before is None or checkpoint_id < query.before)
                    and (after is None or position < after)
                    and all(record["metadata"].get(k) == v for k, v in query.metadata.items())
                ):
                    selected.append((position, record))
        selected.sort(key=lambda item: item[0], reverse=True)
        return [self._found(record) for _, record in selected[:size]]

    async def threads_with_metadata_key(self, thread_ids: Sequence[str], key: str) -> list[str]:
        """See :meth:`CheckpointRows.threads_with_metadata_key`."""
        wanted = set(thread_ids)
        return sorted(
            {
                thread_id
                for (thread_id, _), saved in self._store._checkpoints.items()
                if thread_id in wanted
                and any(r["metadata"].get(key) is not None for r in saved.values())
            }
        )

    async def delete_threads(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_threads`."""
        for thread_id in set(thread_ids):
            self._store._delete_checkpoints(thread_id)

    async def copy_thread(self, source: str, target: str) -> None:
        """See :meth:`CheckpointRows.copy_thread`; existing target checkpoints are kept."""
        store = self._store
        for (thread_id, ns), saved in list(store._checkpoints.items()):
            if thread_id != source:
                continue
            copies = store._checkpoints.setdefault((target, ns), {})
            for checkpoint_id, record in saved.items():
                if checkpoint_id in copies:
                    continue
                copies[checkpoint_id] = {**copy.deepcopy(record), "thread_id": target}
                old, new = (source, ns, checkpoint_id), (target, ns, checkpoint_id)
                if old in store._checkpoint_payloads:
                    store._checkpoint_payloads[new] = store._checkpoint_payloads[old]
        for (thread_id, ns, checkpoint_id), writes in list(store._checkpoint_writes.items()):
            if thread_id == source:
                target_writes = store._checkpoint_writes.setdefault((target, ns, checkpoint_id), {})
                for write_key, write in writes.items():
                    target_writes.setdefault(write_key, write)

    async def keep_latest(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.keep_latest`."""
        store = self._store
        wanted = set(thread_ids)
        latest: dict[tuple[str, str], str] = {}
        for (thread_id, ns), saved in store._checkpoints.items():
            if thread_id in wanted and saved:
                keep = max(saved)
                latest[(thread_id, ns)] = keep
                for checkpoint_id in [c for c in saved if c != keep]:
                    del saved[checkpoint_id]
                    store._checkpoint_payloads.pop((thread_id, ns, checkpoint_id), None)
                record = saved[keep]
                if record["parent_checkpoint_id"] is not None:
                    record["parent_checkpoint_id"] = None
        for key in list(store._checkpoint_writes):
            thread_id, ns, checkpoint_id = key
            if thread_id in wanted and checkpoint_id < latest.get((thread_id, ns), ""):
                del store._checkpoint_writes[key]

    async def delete_runs(self, run_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_runs`."""
        store = self._store
        runs = set(run_ids)
        touched: set[tuple[str, str]] = set()
        for (thread_id, ns), saved in store._checkpoints.items():
            for checkpoint_id in [c for c, r in saved.items() if run_id_of(r["metadata"]) in runs]:
                del saved[checkpoint_id]
                key = (thread_id, ns, checkpoint_id)
                store._checkpoint_payloads.pop(key, None)
                store._checkpoint_writes.pop(key, None)
                touched.add((thread_id, ns))
        for namespace in touched:
            saved = store._checkpoints[namespace]
            for record in saved.values():
                if record["parent_checkpoint_id"] not in saved:
                    record["parent_checkpoint_id"] = None
