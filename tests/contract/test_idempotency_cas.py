"""Idempotent appends (idempotency keys) and conditional thread writes (version, CAS)."""

from __future__ import annotations

import asyncio

import pytest

from threadstore import BaseStore, DuplicateRecordError, ValidationError, VersionConflictError


async def test_a_retried_append_returns_the_original(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    first = await store.add_message("t1", "user", "hi", idempotency_key="k1")
    again = await store.add_message("t1", "user", "hi", idempotency_key="k1")
    assert again == first
    assert len(await store.get_messages("t1")) == 1
    other = await store.add_message("t1", "user", "hi", idempotency_key="k2")
    assert other["seq"] == 1
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["message_count"] == 2


async def test_a_reused_key_with_other_content_is_refused(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.add_message("t1", "user", "hi", idempotency_key="k1")
    with pytest.raises(DuplicateRecordError, match="k1"):
        await store.add_message("t1", "user", "something else", idempotency_key="k1")
    with pytest.raises(DuplicateRecordError):
        await store.add_message("t1", "assistant", "hi", idempotency_key="k1")
    assert len(await store.get_messages("t1")) == 1


async def test_keys_are_per_thread(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "alice", "helper")
    a = await store.add_message("t1", "user", "hi", idempotency_key="k")
    b = await store.add_message("t2", "user", "hi", idempotency_key="k")
    assert a["id"] != b["id"]


async def test_batches_with_keys(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    batch = [
        {"role": "user", "content": "a", "idempotency_key": "a"},
        {"role": "user", "content": "b"},
        {"role": "user", "content": "c", "idempotency_key": "c"},
    ]
    first = await store.add_messages("t1", batch)  # type: ignore[list-item]
    assert [m["seq"] for m in first] == [0, 1, 2]
    retry = await store.add_messages("t1", [batch[0], batch[2]])  # type: ignore[list-item]
    assert retry == [first[0], first[2]]
    assert len(await store.get_messages("t1")) == 3
    with pytest.raises(ValidationError, match="twice"):
        await store.add_messages("t1", [batch[0], batch[0]])  # type: ignore[list-item]


async def test_racing_retries_write_once(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    results = await asyncio.gather(
        *(store.add_message("t1", "user", "hi", idempotency_key="race") for _ in range(8))
    )
    assert len({m["id"] for m in results}) == 1
    assert len(await store.get_messages("t1")) == 1


async def test_every_change_bumps_the_version(store: BaseStore) -> None:
    created = await store.create_thread("t1", "alice", "helper")
    assert created["version"] == 1
    updated = await store.update_thread("t1", title="x")
    assert updated is not None
    assert updated["version"] == 2
    await store.add_message("t1", "user", "hi")
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["version"] == 3


async def test_expected_version_is_compare_and_swap(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper", metadata={"a": 1})
    moved = await store.update_thread("t1", title="first", expected_version=1)
    assert moved is not None
    assert moved["version"] == 2
    with pytest.raises(VersionConflictError):
        await store.update_thread("t1", title="stale", expected_version=1)
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["title"] == "first"
    assert await store.update_thread("ghost", title="x", expected_version=1) is None


async def test_concurrent_read_modify_writes_never_lose_one(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper", metadata={})

    async def add_key(n: int) -> None:
        while True:
            thread = await store.get_thread("t1")
            assert thread is not None
            metadata = {**thread["metadata"], f"k{n}": n}
            try:
                await store.update_thread(
                    "t1", metadata=metadata, expected_version=thread["version"]
                )
                return
            except VersionConflictError:
                continue

    await asyncio.gather(*(add_key(n) for n in range(6)))
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["metadata"] == {f"k{n}": n for n in range(6)}


async def test_metadata_patch_merges_keys(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper", metadata={"a": 1, "b": {"x": 1}})
    patched = await store.update_thread("t1", metadata_patch={"b": {"y": 2}, "c": 3})
    assert patched is not None
    assert patched["metadata"] == {"a": 1, "b": {"y": 2}, "c": 3}
    patches = [store.update_thread("t1", metadata_patch={f"p{n}": n}) for n in range(5)]
    await asyncio.gather(*patches)
    thread = await store.get_thread("t1")
    assert thread is not None
    assert {f"p{n}" for n in range(5)} <= set(thread["metadata"])
    with pytest.raises(ValidationError):
        await store.update_thread("t1", metadata={}, metadata_patch={"a": 1})
