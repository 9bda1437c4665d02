"""Messages: gap-free seq, batches, paging by offset and keyset, concurrency."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, ThreadNotFoundError, ValidationError

MESSAGE_KEYS = {"id", "thread_id", "seq", "role", "content", "metadata", "timestamp"}


async def _thread_with(store: BaseStore, count: int, thread_id: str = "t1") -> None:
    await store.create_thread(thread_id, "alice", "helper")
    await store.add_messages(
        thread_id, [{"role": "user", "content": f"m{i}"} for i in range(count)]
    )


async def test_add_message_round_trip(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper")
    clock.advance(2)
    message = await store.add_message(
        "t1", "assistant", "héllo ✓ 🙂", metadata={"tool": {"name": "x", "args": [1]}}
    )
    assert set(message) == MESSAGE_KEYS
    assert message["seq"] == 0
    assert message["role"] == "assistant"
    assert message["content"] == "héllo ✓ 🙂"
    assert message["metadata"] == {"tool": {"name": "x", "args": [1]}}
    assert message["timestamp"] == "2026-01-01T00:00:02.000000+00:00"
    assert isinstance(message["id"], int)
    assert await store.get_messages("t1") == [message]
    assert json.loads(json.dumps(message)) == message
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 1
    assert thread["updated_at"] == message["timestamp"]


async def test_seq_is_gap_free_and_ids_increase(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    added = [await store.add_message("t1", "user", f"m{i}") for i in range(5)]
    assert [m["seq"] for m in added] == [0, 1, 2, 3, 4]
    ids = [m["id"] for m in added]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5


async def test_order_is_by_seq_even_with_equal_timestamps(store: BaseStore) -> None:
    await _thread_with(store, 30)
    messages = await store.get_messages("t1")
    assert len({m["timestamp"] for m in messages}) == 1
    assert [m["content"] for m in messages] == [f"m{i}" for i in range(30)]


async def test_add_messages_batch(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.add_message("t1", "system", "be nice")
    batch = await store.add_messages(
        "t1",
        [
            {"role": "user", "content": "q", "metadata": {"a": 1}},
            {"role": "assistant", "content": "a"},
        ],
    )
    assert [m["seq"] for m in batch] == [1, 2]
    assert batch[0]["metadata"] == {"a": 1}
    assert batch[1]["metadata"] == {}
    assert await store.get_messages("t1", after_seq=0) == batch
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 3
    assert await store.add_messages("t1", []) == []


@pytest.mark.parametrize(
    "bad_batch",
    [
        [{"role": "user", "content": "ok"}, {"role": "user", "content": "nul\x00"}],
        [{"role": "user", "content": "ok"}, {"role": "user"}],
        [{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "extra": 1}],
        [{"role": "user", "content": "ok"}, "not a dict"],
        [{"role": "", "content": "x"}],
        [{"role": "user", "content": "x", "metadata": {"f": float("nan")}}],
        {"role": "user", "content": "a dict, not a list"},
    ],
)
async def test_add_messages_is_atomic_on_bad_item(store: BaseStore, bad_batch: object) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ValidationError):
        await store.add_messages("t1", bad_batch)  # type: ignore[arg-type]
    assert await store.get_messages("t1") == []
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 0


async def test_add_message_to_missing_thread(store: BaseStore) -> None:
    with pytest.raises(ThreadNotFoundError) as info:
        await store.add_message("ghost", "user", "hi")
    assert "create_thread" in info.value.suggestion
    with pytest.raises(ThreadNotFoundError):
        await store.add_messages("ghost", [{"role": "user", "content": "hi"}])
    with pytest.raises(ThreadNotFoundError):  # an empty batch too, on every backend
        await store.add_messages("ghost", [])
    assert (await store.get_stats())["messages"] == 0


async def test_get_messages_unknown_thread_is_empty(store: BaseStore) -> None:
    assert await store.get_messages("ghost") == []


async def test_offset_paging_covers_every_message_once(store: BaseStore) -> None:
    await _thread_with(store, 23)
    seen = []
    for offset in range(0, 30, 5):
        seen += [m["seq"] for m in await store.get_messages("t1", limit=5, offset=offset)]
    assert seen == list(range(23))
    assert await store.get_messages("t1", limit=0) == []


async def test_keyset_paging(store: BaseStore) -> None:
    await _thread_with(store, 12)
    forward: list[int] = []
    cursor = -1
    while page := await store.get_messages("t1", limit=5, after_seq=cursor):
        forward += [m["seq"] for m in page]
        cursor = page[-1]["seq"]
    assert forward == list(range(12))

    backward: list[int] = []
    before = None
    while page := await store.get_messages("t1", limit=5, before_seq=before, newest_first=True):
        backward += [m["seq"] for m in page]
        before = page[-1]["seq"]
    assert backward == list(range(11, -1, -1))

    window = await store.get_messages("t1", after_seq=3, before_seq=7)
    assert [m["seq"] for m in window] == [4, 5, 6]
    latest = await store.get_messages("t1", limit=3, newest_first=True)
    assert [m["seq"] for m in latest] == [11, 10, 9]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": -1},
        {"offset": -5},
        {"limit": "10"},
        {"after_seq": 1.5},
        {"limit": True},
    ],
)
async def test_bad_paging_arguments(store: BaseStore, kwargs: dict[str, object]) -> None:
    await _thread_with(store, 2)
    with pytest.raises(ValidationError):
        await store.get_messages("t1", **kwargs)  # type: ignore[arg-type]


async def test_messages_of_threads_do_not_mix(store: BaseStore) -> None:
    await _thread_with(store, 3, "a")
    await _thread_with(store, 2, "b")
    assert [m["content"] for m in await store.get_messages("b")] == ["m0", "m1"]
    assert {m["thread_id"] for m in await store.get_messages("a")} == {"a"}


async def test_concurrent_appends_keep_count_exact(store: BaseStore) -> None:
    """8 tasks x 250 appends into one thread: count == rows, seq 0..1999 once each."""
    await store.create_thread("t1", "alice", "helper")

    async def writer(worker: int) -> None:
        for index in range(250):
            await store.add_message("t1", "user", f"{worker}:{index}")

    await asyncio.gather(*(writer(w) for w in range(8)))
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 2000
    seqs: list[int] = []
    cursor = -1
    while page := await store.get_messages("t1", limit=500, after_seq=cursor):
        seqs += [m["seq"] for m in page]
        cursor = page[-1]["seq"]
    assert seqs == list(range(2000))
    assert (await store.get_stats())["messages"] == 2000
    # each worker's own messages keep their order
    contents = [m["content"] for m in await store.get_messages("t1", limit=2000)]
    for worker in range(8):
        mine = [int(c.split(":")[1]) for c in contents if c.startswith(f"{worker}:")]
        assert mine == list(range(250))


async def test_concurrent_batches_interleave_without_gaps(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")

    async def writer(worker: int) -> None:
        for _ in range(10):
            await store.add_messages(
                "t1", [{"role": "user", "content": f"{worker}"} for _ in range(3)]
            )

    await asyncio.gather(*(writer(w) for w in range(6)))
    messages = await store.get_messages("t1", limit=1000)
    assert [m["seq"] for m in messages] == list(range(180))
    # a batch is contiguous
    for start in range(0, 180, 3):
        assert len({m["content"] for m in messages[start : start + 3]}) == 1
