"""Bad input is refused with ValidationError before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from threadstore import BaseStore, PersistenceError, ValidationError

BAD_IDS: list[Any] = ["", "x" * 256, "nul\x00id", 42, None]
BAD_METADATA: list[Any] = [
    {"set": {1, 2}},
    {"tuple": (1, 2)},
    {"nan": float("nan")},
    {"inf": float("inf")},
    {1: "int key"},
    {"nul": "a\x00b"},
    {"nul\x00key": 1},
    {"bytes": b"x"},
    ["not", "a", "dict"],
]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_bad_thread_ids(store: BaseStore, bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        await store.create_thread(bad, "alice", "helper")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, PersistenceError)
    assert info.value.suggestion
    assert "suggestion" in str(info.value)
    with pytest.raises(ValidationError):
        await store.create_thread("ok", bad, "helper")
    with pytest.raises(ValidationError):
        await store.create_thread("ok", "alice", bad)
    assert await store.list_threads() == []


async def test_max_length_id_is_accepted(store: BaseStore) -> None:
    thread_id = "é" * 255
    await store.create_thread(thread_id, "u" * 255, "a" * 255)
    assert (await store.get_thread(thread_id)) is not None


@pytest.mark.parametrize("bad", BAD_METADATA)
async def test_bad_metadata(store: BaseStore, bad: Any) -> None:
    with pytest.raises(ValidationError):
        await store.create_thread("t1", "alice", "helper", metadata=bad)
    assert await store.get_thread("t1") is None
    await store.create_thread("t2", "alice", "helper")
    with pytest.raises(ValidationError):
        await store.add_message("t2", "user", "hi", metadata=bad)
    assert await store.get_messages("t2") == []


@pytest.mark.parametrize("content", ["nul\x00", 123, None, b"bytes"])
async def test_bad_message_content(store: BaseStore, content: Any) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ValidationError):
        await store.add_message("t1", "user", content)
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 0


async def test_bad_title(store: BaseStore) -> None:
    with pytest.raises(ValidationError):
        await store.create_thread("t1", "alice", "helper", title="x\x00")
    with pytest.raises(ValidationError):
        await store.create_thread("t1", "alice", "helper", title="x" * 1001)
    assert await store.get_thread("t1") is None


async def test_json_edge_values_round_trip(store: BaseStore) -> None:
    metadata = {
        "unicode": "日本語 🙂 \u2028",
        "empty": {},
        "list": [None, True, False, 0, -1, 2**53, 1.25, "", []],
        "deep": {"a": {"b": {"c": {"d": [1, {"e": None}]}}}},
        "big": "x" * 100_000,
    }
    await store.create_thread("t1", "alice", "helper", metadata=metadata)
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["metadata"] == metadata


async def test_large_content_round_trip(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    content = "line\n" * 200_000
    await store.add_message("t1", "tool", content)
    assert (await store.get_messages("t1"))[0]["content"] == content


async def test_filters_are_validated_the_same_everywhere(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ValidationError):
        await store.list_threads(user_id=5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await store.list_threads(agent_name="x" * 300)
    with pytest.raises(ValidationError):
        await store.get_feedback(thread_id=["t1"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await store.list_suspended_states(agent_name=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await store.list_checkpoints("t1", "", before=3)  # type: ignore[arg-type]
