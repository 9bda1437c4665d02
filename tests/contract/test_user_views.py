"""``store.for_user(user_id)``: every public method, run through a view at another user's data."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import FakeClock
from threadstore import (
    BaseStore,
    PermissionDeniedError,
    ThreadNotFoundError,
)
from threadstore.store.base import LIFECYCLE_METHODS

NOT_DATA = {"transaction", "unit", "for_user", "refuse_inside_own_block", "root", "scope_owner"}
DATA_METHODS = (
    {
        name
        for name, value in inspect.getmembers(BaseStore)
        if not name.startswith("_") and callable(value)
    }
    - LIFECYCLE_METHODS
    - NOT_DATA
)


class Recorder:
    """Forwards to a store view and remembers which methods were called."""

    def __init__(self, view: BaseStore) -> None:
        self.view = view
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.called.add(name)
        return getattr(self.view, name)


async def _alice_data(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("a1", "alice", "helper", title="secret")
    await store.add_messages(
        "a1", [{"role": "user", "content": "hi"}, {"role": "ai", "content": "yo"}]
    )
    await store.add_feedback("a1", "alice", "helper", rating=5)
    await store.save_suspended_state("ap1", "a1", "helper", "n", {"s": 1})
    await store.save_suspended_state("ap-old", "a1", "helper", "n", {"s": 0}, ttl=1)
    await store.save_checkpoint("a1", "", "c1", None, {"v": 1}, {})
    await store.save_checkpoint("a1", "", "c2", "c1", {"v": 2}, {})
    await store.fork_thread("a1", 0, "a2")
    await store.create_invocation_log(agent_name="helper", thread_id="a1", log_id="a-run")
    await store.record_tool_call(tool_name="t", agent_name="helper", tool_call_id="a-call")
    await store.record_tool_call(tool_name="t", agent_name="helper", thread_id="a1")
    await store.save_log_analysis(agent_name="helper", score=1, summary="", status="ok")
    await store.create_optimization_run(experiment_id="e", agent_name="helper", run_id="o1")
    for user in ("alice", None):
        await store.save_context_item("note", {"who": user}, user_id=user)
        await store.save_context_item("old", 1, user_id=user, ttl=1)
        await store.save_agent_topics("planner", ["news"], user_id=user)
        await store.save_agent_permissions("planner", ["news"], user_id=user)
    clock.advance(5)


async def _everything(store: BaseStore) -> dict[str, Any]:
    threads = await store.list_threads(limit=100)
    scopes: dict[str, Any] = {}
    for user in ("alice", None):
        scopes[str(user)] = (
            await store.get_all_context_items(user_id=user),
            await store.get_all_agent_topics(user_id=user),
            await store.get_all_agent_permissions(user_id=user),
        )
    return {
        "threads": threads,
        "messages": [await store.get_messages(t["id"]) for t in threads],
        "feedback": await store.get_feedback(),
        "states": await store.list_suspended_states(),
        "checkpoints": await store.list_checkpoints("a1", ""),
        "stats": await store.get_stats(),
        "scopes": scopes,
        "runs": await store.list_invocation_logs(),
        "tool_calls": await store.query_tool_calls(),
        "analyses": await store.list_log_analyses(),
        "optimizations": await store.list_optimization_runs(),
        "aggregates": await store.aggregate_stats(bucket="day"),
    }


async def _run_every_method(bob: Recorder) -> None:
    same = "a1", "missing"
    for thread_id in same:  # a foreign id behaves like a missing one
        assert await bob.get_thread(thread_id) is None
        assert await bob.update_thread(thread_id, title="mine now") is None
        assert await bob.get_messages(thread_id) == []
        assert await bob.pop_message(thread_id) is None
        assert await bob.clear_messages(thread_id) == 0
        assert await bob.fork_thread(thread_id, 0, "b-fork") is None
        assert await bob.get_thread_lineage(thread_id) == {
            "thread_id": thread_id,
            "ancestors": [],
            "descendants": [],
        }
        assert await bob.get_checkpoint(thread_id, "", "") is None
        assert await bob.list_checkpoints(thread_id, "") == []
        assert await bob.get_feedback(thread_id=thread_id) == []
        assert await bob.list_suspended_states(thread_id=thread_id) == []
        for call in (
            lambda t: bob.add_message(t, "user", "x"),
            lambda t: bob.add_messages(t, [{"role": "user", "content": "x"}]),
            lambda t: bob.add_messages(t, []),
            lambda t: bob.add_feedback(t, "bob", "helper", rating=1),
            lambda t: bob.save_suspended_state("b-ap", t, "helper", "n", {}),
            lambda t: bob.save_checkpoint(t, "", "c9", None, {}, {}),
            lambda t: bob.create_invocation_log(agent_name="helper", thread_id=t),
            lambda t: bob.record_tool_call(tool_name="x", agent_name="helper", thread_id=t),
        ):
            with pytest.raises(ThreadNotFoundError):
                await call(thread_id)
        assert await bob.delete_thread(thread_id) is False
    assert await bob.get_thread_lineage("a2") == {
        "thread_id": "a2",
        "ancestors": [],
        "descendants": [],
    }
    for approval_id in ("ap1", "missing"):
        assert await bob.get_suspended_state(approval_id) is None
        assert await bob.delete_suspended_state(approval_id) is False
    assert await bob.cleanup_expired_states() == 0
    assert await bob.list_threads() == []
    assert await bob.list_threads(user_id="alice") == []
    assert await bob.get_feedback() == []
    assert await bob.list_suspended_states() == []
    empty = {"items": [], "next_cursor": None}
    for order in ("created", "updated"):
        assert await bob.list_threads_page(order=order) == empty
        assert await bob.list_threads_page(user_id="alice", order=order, limit=1) == empty
    assert await bob.get_feedback_page(limit=1) == empty
    assert await bob.get_feedback_page(thread_id="a1") == empty
    assert await bob.list_suspended_states_page(limit=1) == empty
    assert await bob.list_suspended_states_page(thread_id="a1") == empty
    with pytest.raises(PermissionDeniedError):
        await bob.create_thread("b-x", "alice", "helper")
    with pytest.raises(PermissionDeniedError):
        await bob.erase_user("alice")
    assert set((await bob.erase_user("bob")).values()) == {0}
    assert (await bob.delete_idle_threads(timedelta(seconds=1)))["threads"] == 0
    assert (await bob.prune_checkpoints(1))["checkpoints"] == 0
    assert await bob.purge_expired() == {
        "suspended_states": 0,
        "context_items": 0,
        "memory_items": 0,
        "batches": 1,
    }

    for user in ("alice", None):  # None is bob's own scope in his view: empty
        assert await bob.get_context_item("note", user_id=user) is None
        assert await bob.get_all_context_items(user_id=user) == []
        assert await bob.get_context_items_page(user_id=user, limit=1) == {
            "items": [],
            "next_cursor": None,
        }
        assert await bob.delete_context_item("note", user_id=user) is False
        assert await bob.clear_context_items(user_id=user) == 0
        assert await bob.get_agent_topics("planner", user_id=user) == []
        assert await bob.get_all_agent_topics(user_id=user) == {}
        assert await bob.remove_agent_topics("planner", user_id=user) is False
        assert await bob.get_agent_permissions("planner", user_id=user) is None
        assert await bob.get_all_agent_permissions(user_id=user) == {}
        assert await bob.remove_agent_permissions("planner", user_id=user) is False
    assert await bob.cleanup_expired_context_items() == 0
    for write in (
        lambda: bob.save_context_item("note", 1, user_id="alice"),
        lambda: bob.save_agent_topics("planner", ["x"], user_id="alice"),
        lambda: bob.save_agent_permissions("planner", ["x"], user_id="alice"),
    ):
        with pytest.raises(PermissionDeniedError):
            await write()
    assert await bob.get_invocation_log("a-run") is None
    assert await bob.list_invocation_logs() == []
    assert await bob.list_invocation_logs(user_id="alice") == []
    assert await bob.count_invocation_logs() == 0
    assert await bob.query_tool_calls() == []
    assert await bob.query_tool_calls(user_id="alice") == []
    assert await bob.query_tool_calls_page(user_id="alice", limit=1) == empty
    assert await bob.list_invocation_logs_page(limit=1) == empty
    for thread_id in same:
        assert await bob.query_messages(thread_id=thread_id) == empty
        assert await bob.query_tool_calls_page(thread_id=thread_id) == empty
        assert await bob.list_invocation_logs_page(thread_id=thread_id) == empty
    assert await bob.query_threads() == empty
    assert await bob.query_threads(user_id="alice", metadata_contains={}) == empty
    assert await bob.query_messages(user_id="alice", limit=1) == empty
    assert await bob.get_latest_log_analysis("helper") is None
    assert await bob.list_log_analyses() == []
    assert await bob.get_optimization_run("o1") is None
    assert await bob.list_optimization_runs() == []
    for write in (
        lambda: bob.save_log_analysis(agent_name="helper", score=1, summary="", status="ok"),
        lambda: bob.create_optimization_run(experiment_id="e", agent_name="helper"),
        lambda: bob.create_invocation_log(agent_name="helper", user_id="alice"),
        lambda: bob.record_tool_call(tool_name="x", agent_name="helper", user_id="alice"),
    ):
        with pytest.raises(PermissionDeniedError):
            await write()
    totals = await bob.aggregate_stats()
    assert (totals["threads"], totals["runs"], totals["tool_calls"]) == (0, 0, 0)
    assert (await bob.search_messages("hi"))["items"] == []
    assert (await bob.search_messages("yo", user_id="alice", thread_id="a1"))["items"] == []
    assert (await bob.search_threads("secret"))["items"] == []
    assert (await bob.search_threads("secret", user_id="alice"))["items"] == []
    stats = await bob.get_stats()
    assert {k: v for k, v in stats.items() if k not in ("backend", "dialect")} == dict.fromkeys(
        ("threads", "messages", "feedback", "suspended_states", "checkpoints", "context_items"), 0
    )


async def test_a_view_never_touches_another_users_data(store: BaseStore, clock: FakeClock) -> None:
    await _alice_data(store, clock)
    before = await _everything(store)
    bob = Recorder(store.for_user("bob"))
    await _run_every_method(bob)
    assert await _everything(store) == before
    assert bob.called >= DATA_METHODS, f"not run through the view: {DATA_METHODS - bob.called}"


async def test_a_view_sees_and_changes_its_own_data(store: BaseStore) -> None:
    await store.create_thread("a1", "alice", "helper")
    bob = store.for_user("bob")
    created = await bob.create_thread("b1", "bob", "helper")
    assert created["user_id"] == "bob"
    await bob.add_message("b1", "user", "hi")
    await bob.save_checkpoint("b1", "", "c1", None, {"v": 1}, {})
    item = await bob.save_context_item("note", 1)
    assert item["user_id"] == "bob"
    assert await store.get_context_item("note", user_id="bob") is not None
    assert await store.get_context_item("note") is None  # not the global scope
    assert [t["id"] for t in await bob.list_threads()] == ["b1"]
    assert (await bob.get_stats())["threads"] == 1
    assert (await store.get_stats())["threads"] == 2
    assert await bob.delete_thread("b1") is True


async def _as_carol(tx: BaseStore) -> None:
    async with tx.transaction() as inner:
        await inner.for_user("carol").add_message("b1", "user", "not hers")


async def test_views_compose_with_transactions(store: BaseStore) -> None:
    await store.create_thread("a1", "alice", "helper")
    bob = store.for_user("bob")
    async with bob.transaction() as tx:
        await tx.create_thread("b1", "bob", "helper")
        assert await tx.get_thread("a1") is None
        with pytest.raises(PermissionDeniedError):
            tx.for_user("alice")
        assert tx.for_user("bob") is tx
    async with store.transaction() as tx:
        scoped = tx.for_user("bob")
        assert await scoped.get_thread("a1") is None
        assert await tx.get_thread("a1") is not None
        await scoped.add_message("b1", "user", "in the block")
        with pytest.raises(ThreadNotFoundError):
            await _as_carol(tx)
    assert len(await store.get_messages("b1")) == 1  # carol's failure rolled back alone
    with pytest.raises(PermissionDeniedError):
        bob.for_user("alice")
