"""MemoryStore's column store of a thread's messages: exact records back, little RAM each."""

from __future__ import annotations

import tracemalloc

import pytest

from threadstore.records import MessageRecord
from threadstore.store.memory.message_log import MessageLog

STAMPS = (
    "2026-12-02T10:39:41.123456+00:00",
    "1999-12-31T23:59:59.999999+00:00",
    "2026-01-01T00:00:00.000000+00:00",
)


def _records(thread_id: str, count: int, first_id: int = 1) -> list[MessageRecord]:
    return [
        {
            "id": first_id + seq,
            "thread_id": thread_id,
            "seq": seq,
            "role": ("user", "assistant", "tool")[seq % 3],
            "content": f"message {seq} " * (seq % 5),
            "metadata": {"n": seq, "nested": {"k": [seq]}} if seq % 2 else {},
            "timestamp": STAMPS[seq % len(STAMPS)],
        }
        for seq in range(count)
    ]


def test_records_come_back_exactly() -> None:
    log = MessageLog("t")
    records = _records("t", 7)
    log.extend(records)
    assert len(log) == 7
    assert list(log) == records
    assert log[-1] == records[-1]
    assert log[2:5] == records[2:5]
    assert log[5:100] == records[5:]
    with pytest.raises(IndexError):
        log[7]


def test_copies_do_not_share_metadata_with_the_log() -> None:
    log = MessageLog("t")
    log.extend(_records("t", 4))
    page = log.copies(1, 3)
    assert page == _records("t", 4)[1:3]
    page[0]["metadata"]["nested"]["k"].append("changed")
    page[1]["metadata"]["added"] = True
    assert log.copies(0, 4) == _records("t", 4)


def test_only_a_tail_is_dropped_and_seqs_must_follow() -> None:
    log = MessageLog("t")
    log.extend(_records("t", 5))
    del log[3:]
    assert [r["seq"] for r in log] == [0, 1, 2]
    with pytest.raises(ValueError, match="tail"):
        del log[0:1]
    with pytest.raises(ValueError, match="does not follow"):
        log.extend(_records("t", 5)[4:])


def test_fork_copies_a_prefix_under_new_ids() -> None:
    parent = MessageLog("p")
    parent.extend(_records("p", 6))
    child = parent.fork("c", 4, first_id=100)
    expected = [r | {"id": 100 + r["seq"], "thread_id": "c"} for r in _records("p", 4)]
    assert list(child) == expected
    assert [child.has_id(n) for n in (1, 100, 103, 104)] == [False, True, True, False]
    assert [parent.has_id(n) for n in (0, 1, 6, 7)] == [False, True, True, False]
    del child[0:]
    assert len(parent) == 6


def test_a_message_costs_little_beyond_its_content() -> None:
    """What survives an append is the columns: no dict, id, seq or timestamp object per message.

    The list of dicts it replaced kept about 500 bytes per message beyond the
    content (tracemalloc, the same way).
    """
    contents = [f"content {n}" for n in range(2_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        log = MessageLog("t")
        records: list[MessageRecord] = [
            {
                "id": 10_000 + seq,
                "thread_id": "t",
                "seq": seq,
                "role": "assistant",
                "content": contents[seq],
                "metadata": {},
                "timestamp": f"2026-12-02T10:39:41.{seq:06d}+00:00",
            }
            for seq in range(len(contents))
        ]
        log.extend(records)
        del records
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(log) == len(contents)
    assert held / len(contents) < 64
