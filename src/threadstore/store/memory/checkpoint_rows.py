"""The LangGraph saver's rows inside a MemoryStore.

Checkpoints live in the store's own checkpoint records (so its dict methods
see them) and the binary parts beside them; data is copied in and out, and
every change is journaled like any other of the unit.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

from threadstore.clock import isoformat
from threadstore.errors import PermissionDeniedError
from threadstore.models.checkpoint import run_id_of
from threadstore.records import CheckpointRecord
from threadstore.store.checkpoint_rows import (
    CheckpointKey,
    CheckpointRow,
    Found,
    ListCursor,
    ListQuery,
    WriteRow,
)
from threadstore.store.memory.threads import delete_checkpoints

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryCheckpointRows"]


class MemoryCheckpointRows:
    """See :class:`~threadstore.store.checkpoint_rows.CheckpointRows`."""

    def __init__(self, unit: MemoryUnit) -> None:
        if unit.owner is not None:
            raise PermissionDeniedError(
                "the LangGraph saver cannot be bound to a for_user(...) view yet",
                suggestion="Bind ThreadstoreSaver to the store or to a transaction of it.",
            )
        self._unit = unit
        self._state = unit.state
        self._journal = unit.journal

    def _row(self, record: CheckpointRecord) -> CheckpointRow:
        key = (record["thread_id"], record["checkpoint_ns"], record["checkpoint_id"])
        payload_type, payload = self._state.checkpoint_payloads.get(key, (None, None))
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
        stored = self._state.checkpoint_writes.get(row.key, {})
        writes = [
            WriteRow(task_id, idx, channel, value_type, value, task_path)
            for (task_id, idx), (channel, value_type, value, task_path) in stored.items()
        ]
        return row, writes

    def _namespace(self, thread_id: str, ns: str) -> dict[str, CheckpointRecord]:
        saved = self._state.checkpoints.get((thread_id, ns))
        if saved is None:
            saved = {}
            self._journal.put(self._state.checkpoints, (thread_id, ns), saved)
        return saved

    async def put_checkpoint(self, row: CheckpointRow) -> None:
        """See :meth:`CheckpointRows.put_checkpoint`."""
        record: CheckpointRecord = {
            "thread_id": row.thread_id,
            "checkpoint_ns": row.checkpoint_ns,
            "checkpoint_id": row.checkpoint_id,
            "parent_checkpoint_id": row.parent_checkpoint_id,
            "checkpoint": copy.deepcopy(row.checkpoint),
            "metadata": copy.deepcopy(row.metadata),
            "created_at": isoformat(self._unit.clock()),
        }
        self._journal.put(
            self._namespace(row.thread_id, row.checkpoint_ns), row.checkpoint_id, record
        )
        if row.payload_type is None or row.payload is None:
            self._journal.pop(self._state.checkpoint_payloads, row.key)
        else:
            self._journal.put(
                self._state.checkpoint_payloads, row.key, (row.payload_type, row.payload)
            )

    async def put_writes(
        self, key: CheckpointKey, writes: Sequence[WriteRow], *, replace: bool
    ) -> None:
        """See :meth:`CheckpointRows.put_writes`."""
        stored = self._state.checkpoint_writes.get(key)
        if stored is None:
            stored = {}
            self._journal.put(self._state.checkpoint_writes, key, stored)
        for w in writes:
            if replace or (w.task_id, w.idx) not in stored:
                self._journal.put(
                    stored, (w.task_id, w.idx), (w.channel, w.value_type, w.value, w.task_path)
                )

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Found | None:
        """See :meth:`CheckpointRows.get`."""
        saved = self._state.checkpoints.get((thread_id, checkpoint_ns), {})
        record = saved.get(checkpoint_id or max(saved, default=""))
        return None if record is None else self._found(record)

    async def page(self, query: ListQuery, after: ListCursor | None, size: int) -> list[Found]:
        """See :meth:`CheckpointRows.page`."""
        selected: list[tuple[ListCursor, CheckpointRecord]] = []
        for (thread_id, ns), saved in self._state.checkpoints.items():
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
                for (thread_id, _), saved in self._state.checkpoints.items()
                if thread_id in wanted
                and any(r["metadata"].get(key) is not None for r in saved.values())
            }
        )

    async def delete_threads(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_threads`."""
        for thread_id in set(thread_ids):
            delete_checkpoints(self._unit, thread_id)

    async def copy_thread(self, source: str, target: str) -> None:
        """See :meth:`CheckpointRows.copy_thread`; existing target checkpoints are kept."""
        state, journal = self._state, self._journal
        for (thread_id, ns), saved in list(state.checkpoints.items()):
            if thread_id != source:
                continue
            copies = self._namespace(target, ns)
            for checkpoint_id, record in saved.items():
                if checkpoint_id in copies:
                    continue
                duplicate: CheckpointRecord = {**copy.deepcopy(record), "thread_id": target}
                journal.put(copies, checkpoint_id, duplicate)
                old, new = (source, ns, checkpoint_id), (target, ns, checkpoint_id)
                if old in state.checkpoint_payloads:
                    journal.put(state.checkpoint_payloads, new, state.checkpoint_payloads[old])
        for (thread_id, ns, checkpoint_id), writes in list(state.checkpoint_writes.items()):
            if thread_id == source:
                key = (target, ns, checkpoint_id)
                target_writes = state.checkpoint_writes.get(key)
                if target_writes is None:
                    target_writes = {}
                    journal.put(state.checkpoint_writes, key, target_writes)
                for write_key, write in writes.items():
                    if write_key not in target_writes:
                        journal.put(target_writes, write_key, write)

    async def keep_latest(self, thread_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.keep_latest`."""
        state, journal = self._state, self._journal
        wanted = set(thread_ids)
        latest: dict[tuple[str, str], str] = {}
        for (thread_id, ns), saved in state.checkpoints.items():
            if thread_id in wanted and saved:
                keep = max(saved)
                latest[(thread_id, ns)] = keep
                for checkpoint_id in [c for c in saved if c != keep]:
                    journal.pop(saved, checkpoint_id)
                    journal.pop(state.checkpoint_payloads, (thread_id, ns, checkpoint_id))
                record = saved[keep]
                if record["parent_checkpoint_id"] is not None:
                    journal.set_fields(record, parent_checkpoint_id=None)
        for key in list(state.checkpoint_writes):
            thread_id, ns, checkpoint_id = key
            if thread_id in wanted and checkpoint_id < latest.get((thread_id, ns), ""):
                journal.pop(state.checkpoint_writes, key)

    async def delete_runs(self, run_ids: Sequence[str]) -> None:
        """See :meth:`CheckpointRows.delete_runs`."""
        state, journal = self._state, self._journal
        runs = set(run_ids)
        touched: set[tuple[str, str]] = set()
        for (thread_id, ns), saved in state.checkpoints.items():
            for checkpoint_id in [c for c, r in saved.items() if run_id_of(r["metadata"]) in runs]:
                journal.pop(saved, checkpoint_id)
                key = (thread_id, ns, checkpoint_id)
                journal.pop(state.checkpoint_payloads, key)
                journal.pop(state.checkpoint_writes, key)
                touched.add((thread_id, ns))
        for namespace in touched:
            saved = state.checkpoints[namespace]
            for record in saved.values():
                if record["parent_checkpoint_id"] not in saved:
                    journal.set_fields(record, parent_checkpoint_id=None)
