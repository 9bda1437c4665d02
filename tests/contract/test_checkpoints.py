"""Dict checkpoints: save/replace, latest, newest-first listing with before/limit."""

from __future__ import annotations

import pytest

from threadstore import BaseStore, ValidationError

CHECKPOINT_KEYS = {
    "thread_id",
    "checkpoint_ns",
    "checkpoint_id",
    "parent_checkpoint_id",
    "checkpoint",
    "metadata",
    "created_at",
}


async def _save_chain(store: BaseStore, thread_id: str, ns: str, count: int) -> list[str]:
    ids = [f"1ef-{i:04d}" for i in range(count)]
    parent = None
    for index, checkpoint_id in enumerate(ids):
        await store.save_checkpoint(
            thread_id, ns, checkpoint_id, parent, {"step": index}, {"source": "loop"}
        )
        parent = checkpoint_id
    return ids


async def test_checkpoints_need_no_thread(store: BaseStore) -> None:
    await store.save_checkpoint("never-created", "", "c1", None, {"v": {"x": [1]}}, {"s": 1})
    record = await store.get_checkpoint("never-created", "", "c1")
    assert record is not None
    assert set(record) == CHECKPOINT_KEYS
    assert record["checkpoint"] == {"v": {"x": [1]}}
    assert record["metadata"] == {"s": 1}
    assert record["parent_checkpoint_id"] is None
    assert await store.get_thread("never-created") is None


async def test_latest_and_specific(store: BaseStore) -> None:
    ids = await _save_chain(store, "t", "", 5)
    latest = await store.get_checkpoint("t", "", "")
    assert latest is not None
    assert latest["checkpoint_id"] == ids[-1]
    assert latest["parent_checkpoint_id"] == ids[-2]
    second = await store.get_checkpoint("t", "", ids[1])
    assert second is not None
    assert second["checkpoint"] == {"step": 1}
    assert await store.get_checkpoint("t", "", "missing") is None
    assert await store.get_checkpoint("t", "other-ns", "") is None
    assert await store.get_checkpoint("other", "", "") is None


async def test_order_is_by_checkpoint_id_not_insert_order(store: BaseStore) -> None:
    for checkpoint_id in ["b", "c", "a"]:
        await store.save_checkpoint("t", "", checkpoint_id, None, {}, {})
    assert [c["checkpoint_id"] for c in await store.list_checkpoints("t", "")] == ["c", "b", "a"]
    latest = await store.get_checkpoint("t", "", "")
    assert latest is not None
    assert latest["checkpoint_id"] == "c"


async def test_list_newest_first_with_before_and_limit(store: BaseStore) -> None:
    ids = await _save_chain(store, "t", "", 8)
    await _save_chain(store, "t", "sub", 2)
    listed = [c["checkpoint_id"] for c in await store.list_checkpoints("t", "")]
    assert listed == ids[::-1]
    assert [c["checkpoint_id"] for c in await store.list_checkpoints("t", "", limit=3)] == ids[
        :4:-1
    ]
    before = [c["checkpoint_id"] for c in await store.list_checkpoints("t", "", before=ids[5])]
    assert before == ids[4::-1]
    page = await store.list_checkpoints("t", "", before=ids[5], limit=2)
    assert [c["checkpoint_id"] for c in page] == [ids[4], ids[3]]
    assert len(await store.list_checkpoints("t", "sub")) == 2
    assert await store.list_checkpoints("t", "", limit=0) == []
    assert await store.list_checkpoints("nobody", "") == []


async def test_save_replaces_same_id(store: BaseStore) -> None:
    await store.save_checkpoint("t", "", "c1", None, {"v": 1}, {"m": 1})
    await store.save_checkpoint("t", "", "c1", "c0", {"v": 2}, {"m": 2})
    records = await store.list_checkpoints("t", "")
    assert len(records) == 1
    assert records[0]["checkpoint"] == {"v": 2}
    assert records[0]["parent_checkpoint_id"] == "c0"


async def test_delete_thread_removes_checkpoints_only_of_that_thread(store: BaseStore) -> None:
    await store.create_thread("t", "alice", "helper")
    await _save_chain(store, "t", "", 3)
    await _save_chain(store, "u", "", 2)
    assert await store.delete_thread("t") is True
    assert await store.list_checkpoints("t", "") == []
    assert len(await store.list_checkpoints("u", "")) == 2
    # a thread id that was never created: checkpoints go, the answer is False
    assert await store.delete_thread("u") is False
    assert await store.list_checkpoints("u", "") == []


@pytest.mark.parametrize(
    "args",
    [
        ("", "", "c", None, {}, {}),
        ("t", "", "", None, {}, {}),
        ("t", "", "c", None, {"x": b"bytes"}, {}),
        ("t", "", "c", None, {"x": "nul\x00"}, {}),
        ("t", "", "c", None, {}, {"x": object()}),
        ("t", "", "c" * 300, None, {}, {}),
        ("t", "", "c", None, None, {}),
    ],
)
async def test_invalid_checkpoints_rejected(store: BaseStore, args: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError):
        await store.save_checkpoint(*args)  # type: ignore[arg-type]
    assert (await store.get_stats())["checkpoints"] == 0
