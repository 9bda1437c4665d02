"""Suspended (human-approval) states: save/replace, TTL expiry by clock, cleanup."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, DuplicateRecordError, ThreadNotFoundError, ValidationError

STATE_KEYS = {
    "id",
    "thread_id",
    "agent_name",
    "node_name",
    "state_snapshot",
    "created_at",
    "expires_at",
}


async def test_save_and_get_with_default_ttl(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    saved = await store.save_suspended_state(
        "ap1", "t1", "helper", "approve_payment", {"amount": 10, "items": [1, 2]}
    )
    assert set(saved) == STATE_KEYS
    assert saved["state_snapshot"] == {"amount": 10, "items": [1, 2]}
    assert saved["created_at"] == "2026-01-01T00:00:00.000000+00:00"
    assert saved["expires_at"] == "2026-01-08T00:00:00.000000+00:00"
    assert await store.get_suspended_state("ap1") == saved


async def test_expiry_by_clock(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.save_suspended_state("short", "t1", "helper", "n", {}, ttl=60)
    await store.save_suspended_state("long", "t1", "helper", "n", {}, ttl=timedelta(hours=1))
    clock.advance(59)
    assert await store.get_suspended_state("short") is not None
    clock.advance(1)  # exactly at expires_at: expired
    assert await store.get_suspended_state("short") is None
    assert [s["id"] for s in await store.list_suspended_states()] == ["long"]
    assert await store.cleanup_expired_states() == 1
    assert await store.cleanup_expired_states() == 0
    assert (await store.get_stats())["suspended_states"] == 1
    clock.advance(3600)
    assert await store.cleanup_expired_states() == 1
    assert await store.get_suspended_state("long") is None


async def test_save_replaces_existing_approval(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.save_suspended_state("ap1", "t1", "helper", "first", {"v": 1}, ttl=10)
    clock.advance(5)
    replaced = await store.save_suspended_state("ap1", "t1", "coder", "second", {"v": 2})
    assert replaced["node_name"] == "second"
    assert await store.get_suspended_state("ap1") == replaced
    assert len(await store.list_suspended_states()) == 1
    clock.advance(20)  # the old 10 s ttl no longer applies
    assert await store.get_suspended_state("ap1") == replaced


async def test_list_filters_and_order(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "alice", "helper")
    await store.save_suspended_state("b", "t1", "helper", "n", {})
    await store.save_suspended_state("a", "t1", "coder", "n", {})
    clock.advance()
    await store.save_suspended_state("c", "t2", "helper", "n", {})
    assert [s["id"] for s in await store.list_suspended_states()] == ["a", "b", "c"]
    assert [s["id"] for s in await store.list_suspended_states(thread_id="t1")] == ["a", "b"]
    assert [s["id"] for s in await store.list_suspended_states(agent_name="helper")] == [
        "b",
        "c",
    ]
    assert [
        s["id"] for s in await store.list_suspended_states(thread_id="t2", agent_name="coder")
    ] == []


async def test_delete(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.save_suspended_state("ap1", "t1", "helper", "n", {})
    assert await store.delete_suspended_state("ap1") is True
    assert await store.delete_suspended_state("ap1") is False
    assert await store.get_suspended_state("ap1") is None


async def test_missing_thread(store: BaseStore) -> None:
    with pytest.raises(ThreadNotFoundError):
        await store.save_suspended_state("ap1", "ghost", "helper", "n", {})
    assert await store.list_suspended_states() == []


async def test_missing_thread_is_reported_before_a_taken_approval_id(store: BaseStore) -> None:
    """Found by the agreement machine: SQL used to report the taken id first."""
    await store.create_thread("t1", "u1", "helper")
    await store.save_suspended_state("ap1", "t1", "helper", "n", {"x": 1})
    with pytest.raises(ThreadNotFoundError):
        await store.save_suspended_state("ap1", "ghost", "helper", "n", {})
    assert [s["thread_id"] for s in await store.list_suspended_states()] == ["t1"]


async def test_racing_saves_of_one_approval_id_in_two_threads_leave_one(store: BaseStore) -> None:
    """The key is (thread_id, id); the store still keeps an approval id to one thread."""
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "bob", "helper")
    for n in range(8):
        results = await asyncio.gather(
            *(store.save_suspended_state(f"a{n}", t, "helper", "review", {}) for t in ("t1", "t2")),
            return_exceptions=True,
        )
        saved = [r for r in results if not isinstance(r, BaseException)]
        assert len(saved) == 1, results
        assert all(isinstance(r, DuplicateRecordError) for r in results if r not in saved)
        assert await store.get_suspended_state(f"a{n}") == saved[0]
    listed = [s["id"] for t in ("t1", "t2") for s in await store.list_suspended_states(thread_id=t)]
    assert sorted(listed) == [f"a{n}" for n in range(8)]


@pytest.mark.parametrize(
    ("ttl", "state"),
    [(0, {}), (-5, {}), ("60", {}), (float("inf"), {}), (None, None), (None, {"t": (1, 2)})],
)
async def test_invalid_input(store: BaseStore, ttl: object, state: object) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ValidationError):
        await store.save_suspended_state("ap1", "t1", "helper", "n", state, ttl=ttl)  # type: ignore[arg-type]
    assert await store.get_suspended_state("ap1") is None
