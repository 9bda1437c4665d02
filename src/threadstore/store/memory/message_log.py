"""One thread's messages in a MemoryStore, stored by column so RAM stays near the content's size.

A dict per message costs about 500 bytes before its content (the dict, its
id, seq, timestamp string and an empty metadata dict). A :class:`MessageLog`
keeps one column per field instead: ids and times as 8-byte integers, roles
interned, empty metadata as ``None``, contents as the strings handed in, and
the seq implied by the position. Records are built on the way out.
"""

from __future__ import annotations

import bisect
import copy
import sys
from array import array
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from threadstore.clock import isoformat
from threadstore.records import MessageRecord

__all__ = ["MessageLog"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(stamp: str) -> int:
    return (datetime.fromisoformat(stamp) - _EPOCH) // _MICROSECOND


def _stamp(micros: int) -> str:
    return isoformat(_EPOCH + timedelta(microseconds=micros))


class MessageLog:
    """The messages of one thread, in seq order; list-like for the undo journal.

    Stored metadata is private to the store and never changed in place, so a
    fork shares it (and the content strings) with its parent. Records it
    returns share the metadata object: callers copy before handing one out.
    """

    __slots__ = ("_contents", "_ids", "_metadata", "_roles", "_stamps", "thread_id")

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self._ids = array("q")
        self._stamps = array("q")
        self._roles: list[str] = []
        self._contents: list[str] = []
        self._metadata: list[dict[str, Any] | None] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessageLog):
            return NotImplemented
        return self.thread_id == other.thread_id and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it replaces

    def __repr__(self) -> str:
        return f"MessageLog({self.thread_id!r}, {len(self)} messages)"

    def _record(self, seq: int) -> MessageRecord:
        metadata = self._metadata[seq]
        return {
            "id": self._ids[seq],
            "thread_id": self.thread_id,
            "seq": seq,
            "role": self._roles[seq],
            "content": self._contents[seq],
            "metadata": {} if metadata is None else metadata,
            "timestamp": _stamp(self._stamps[seq]),
        }

    @overload
    def __getitem__(self, index: int) -> MessageRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[MessageRecord]: ...

    def __getitem__(self, index: int | slice) -> MessageRecord | list[MessageRecord]:
        """The record at a seq (negative counts from the end), or the records of a slice."""
        if isinstance(index, slice):
            return [self._record(seq) for seq in range(*index.indices(len(self)))]
        return self._record(range(len(self))[index])

    def copies(self, start: int, stop: int) -> list[MessageRecord]:
        """Records of seqs ``start..stop-1`` the caller may keep: their metadata is copied."""
        found = self[start:stop]
        for record in found:
            if record["metadata"]:
                record["metadata"] = copy.deepcopy(record["metadata"])
        return found

    def __iter__(self) -> Iterator[MessageRecord]:
        return (self._record(seq) for seq in range(len(self)))

    def __delitem__(self, index: slice) -> None:
        """Drop a tail, ``del log[size:]`` (the only deletion a thread's messages see)."""
        start, stop, step = index.indices(len(self))
        if stop != len(self) or step != 1:
            raise ValueError("a message log only drops a tail")
        for column in (self._ids, self._stamps, self._roles, self._contents, self._metadata):
            del column[start:]

    def extend(self, records: Iterable[MessageRecord]) -> None:
        """Append records whose seqs continue the log."""
        for record in records:
            if record["seq"] != len(self):
                raise ValueError(f"seq {record['seq']} does not follow {len(self)} messages")
            self._ids.append(record["id"])
            self._stamps.append(_micros(record["timestamp"]))
            self._roles.append(sys.intern(record["role"]))
            self._contents.append(record["content"])
            self._metadata.append(record["metadata"] or None)

    def has_id(self, message_id: int) -> bool:
        """Whether a message of this thread has ``message_id`` (ids grow along the log)."""
        at = bisect.bisect_left(self._ids, message_id)
        return at < len(self._ids) and self._ids[at] == message_id

    def fork(self, thread_id: str, count: int, first_id: int) -> MessageLog:
        """A new thread's log copying the first ``count`` messages, ids from ``first_id``."""
        copy = MessageLog(thread_id)
        copy._ids = array("q", range(first_id, first_id + count))
        copy._stamps = self._stamps[:count]
        copy._roles = self._roles[:count]
        copy._contents = self._contents[:count]
        copy._metadata = self._metadata[:count]
        return copy
