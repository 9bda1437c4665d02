"""Threads: create, read, list (ordering, filters, paging), update, delete."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FakeClock
from threadstore import (
    BaseStore,
    DuplicateRecordError,
    ThreadRecord,
    ValidationError,
)

THREAD_KEYS = {
    "id",
    "user_id",
    "agent_name",
    "title",
    "metadata",
    "created_at",
    "updated_at",
    "message_count",
    "parent_thread_id",
    "fork_message_index",
    "version",
}


async def test_create_and_get_round_trip(store: BaseStore) -> None:
    created = await store.create_thread(
        "t1", "alice", "helper", title="Trip", metadata={"tags": ["a", "b"], "n": 1.5}
    )
    assert set(created) == THREAD_KEYS
    assert created["id"] == "t1"
    assert created["title"] == "Trip"
    assert created["metadata"] == {"tags": ["a", "b"], "n": 1.5}
    assert created["message_count"] == 0
    assert created["parent_thread_id"] is None
    assert created["created_at"] == "2026-01-01T00:00:00.000000+00:00"
    fetched = await store.get_thread("t1")
    assert fetched == created
    assert json.loads(json.dumps(fetched)) == fetched


async def test_defaults_title_none_metadata_empty(store: BaseStore) -> None:
    created = await store.create_thread("t1", "alice", "helper")
    assert created["title"] is None
    assert created["metadata"] == {}


async def test_get_missing_thread_returns_none(store: BaseStore) -> None:
    assert await store.get_thread("nope") is None


async def test_duplicate_thread_raises(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(DuplicateRecordError) as info:
        await store.create_thread("t1", "bob", "other")
    assert info.value.suggestion
    thread = await store.get_thread("t1")
    assert thread is not None
    assert thread["user_id"] == "alice"


async def test_returned_records_are_copies(store: BaseStore) -> None:
    metadata = {"nested": {"k": 1}}
    created = await store.create_thread("t1", "alice", "helper", metadata=metadata)
    metadata["nested"]["k"] = 2
    created["metadata"]["nested"]["k"] = 3
    created["title"] = "changed"
    fetched = await store.get_thread("t1")
    assert fetched is not None
    assert fetched["metadata"] == {"nested": {"k": 1}}
    assert fetched["title"] is None
    fetched["metadata"]["nested"]["k"] = 4
    again = await store.get_thread("t1")
    assert again is not None
    assert again["metadata"] == {"nested": {"k": 1}}


async def test_list_newest_updated_first_with_id_tiebreak(
    store: BaseStore, clock: FakeClock
) -> None:
    for thread_id in ("b", "a", "c"):
        await store.create_thread(thread_id, "alice", "helper")
    clock.advance()
    await store.create_thread("z", "alice", "helper")
    clock.advance()
    await store.add_message("a", "user", "bump")
    listed = [t["id"] for t in await store.list_threads()]
    # a was updated last, then z; b and c tie on updated_at -> id descending
    assert listed == ["a", "z", "c", "b"]


async def test_list_filters_and_paging(store: BaseStore, clock: FakeClock) -> None:
    for index in range(7):
        clock.advance()
        user = "alice" if index % 2 == 0 else "bob"
        agent = "helper" if index < 4 else "coder"
        await store.create_thread(f"t{index}", user, agent)
    alice = [t["id"] for t in await store.list_threads(user_id="alice")]
    assert alice == ["t6", "t4", "t2", "t0"]
    coder = [t["id"] for t in await store.list_threads(agent_name="coder")]
    assert coder == ["t6", "t5", "t4"]
    both = [t["id"] for t in await store.list_threads(agent_name="helper", user_id="bob")]
    assert both == ["t3", "t1"]
    page1 = [t["id"] for t in await store.list_threads(limit=3)]
    page2 = [t["id"] for t in await store.list_threads(limit=3, offset=3)]
    page3 = [t["id"] for t in await store.list_threads(limit=3, offset=6)]
    assert page1 + page2 + page3 == [f"t{i}" for i in range(6, -1, -1)]
    assert await store.list_threads(limit=0) == []


async def test_update_title_and_metadata(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper", title="old", metadata={"a": 1})
    clock.advance(5)
    updated = await store.update_thread("t1", title="new")
    assert updated is not None
    assert updated["title"] == "new"
    assert updated["metadata"] == {"a": 1}
    assert updated["updated_at"] == "2026-01-01T00:00:05.000000+00:00"
    updated = await store.update_thread("t1", metadata={"b": 2})
    assert updated is not None
    assert updated["metadata"] == {"b": 2}
    assert updated["title"] == "new"
    cleared = await store.update_thread("t1", title=None)
    assert cleared is not None
    assert cleared["title"] is None
    assert await store.get_thread("t1") == cleared


async def test_update_missing_thread_returns_none(store: BaseStore) -> None:
    assert await store.update_thread("nope", title="x") is None


@pytest.mark.parametrize(
    "updates",
    [
        {"user_id": "mallory"},
        {"message_count": 99},
        {"id": "other"},
        {"title": "ok", "created_at": "2020-01-01"},
        {"metadata": None},
        {"metadata": {"bad": {1, 2}}},
    ],
)
async def test_update_rejects_other_fields(store: BaseStore, updates: dict[str, object]) -> None:
    original = await store.create_thread("t1", "alice", "helper", title="keep")
    with pytest.raises(ValidationError) as info:
        await store.update_thread("t1", **updates)
    assert info.value.suggestion
    assert await store.get_thread("t1") == original


async def test_delete_thread(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    assert await store.delete_thread("t1") is True
    assert await store.get_thread("t1") is None
    assert await store.delete_thread("t1") is False
    assert await store.list_threads() == []


def _ids(threads: list[ThreadRecord]) -> list[str]:
    return [t["id"] for t in threads]


async def test_list_threads_ignores_deleted(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "alice", "helper")
    await store.delete_thread("t1")
    assert _ids(await store.list_threads()) == ["t2"]
