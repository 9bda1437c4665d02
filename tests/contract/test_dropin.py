"""Agentomatic drop-in details and exact errors, the same on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from tests.conftest import FakeClock
from threadstore import (
    BaseStore,
    DuplicateRecordError,
    MemoryStore,
    RecordNotFoundError,
    SQLAlchemyStore,
    ThreadNotFoundError,
    ValidationError,
)


async def test_add_feedback_defaults_query_and_response_to_empty_text(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    record = await store.add_feedback("t1", "alice", "helper", rating=5)
    assert record["query"] == ""
    assert record["response"] == ""
    assert (await store.get_feedback(thread_id="t1"))[0]["query"] == ""


async def test_feedback_on_a_missing_thread_is_an_error(store: BaseStore) -> None:
    with pytest.raises(ThreadNotFoundError):
        await store.add_feedback("nope", "alice", "helper", rating=1)
    with pytest.raises(ThreadNotFoundError):
        await store.add_feedback("nope", "alice", "helper", rating=1, message_id=1)
    assert (await store.get_stats())["feedback"] == 0


async def test_feedback_message_id_must_name_a_message_of_the_thread(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "alice", "helper")
    mine = await store.add_message("t1", "assistant", "mine")
    other = await store.add_message("t2", "assistant", "other")
    with pytest.raises(RecordNotFoundError) as info:
        await store.add_feedback("t1", "alice", "helper", rating=2, message_id=other["id"])
    assert not isinstance(info.value, ThreadNotFoundError)
    assert str(other["id"]) in info.value.message
    assert "'t1'" in info.value.message
    with pytest.raises(RecordNotFoundError):
        await store.add_feedback("t1", "alice", "helper", message_id=other["id"] + 1000)
    assert await store.get_feedback(thread_id="t1") == []
    record = await store.add_feedback("t1", "alice", "helper", rating=4, message_id=mine["id"])
    assert record["message_id"] == mine["id"]


async def test_approval_id_of_another_thread_is_refused_not_moved(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "bob", "helper")
    first = await store.save_suspended_state("a1", "t1", "helper", "review", {"n": 1})
    with pytest.raises(DuplicateRecordError) as info:
        await store.save_suspended_state("a1", "t2", "helper", "review", {"n": 2})
    assert "'a1'" in info.value.message
    assert await store.get_suspended_state("a1") == first
    assert await store.list_suspended_states(thread_id="t2") == []

    clock.advance(1)
    replaced = await store.save_suspended_state("a1", "t1", "helper", "review", {"n": 3})
    assert replaced["state_snapshot"] == {"n": 3}
    assert await store.get_suspended_state("a1") == replaced


async def test_an_expired_approval_id_may_be_reused_by_another_thread(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "bob", "helper")
    await store.save_suspended_state("a1", "t1", "helper", "review", {"n": 1}, ttl=10)
    clock.advance(11)
    reused = await store.save_suspended_state("a1", "t2", "helper", "review", {"n": 2})
    assert reused["thread_id"] == "t2"
    assert await store.list_suspended_states(thread_id="t2") == [reused]


def _hitl_state() -> dict[str, object]:
    return {
        "messages": [
            HumanMessage(content="Refund order 42?", id="m1"),
            AIMessage(
                content="",
                id="m2",
                tool_calls=[{"name": "refund", "args": {"order": 42}, "id": "call-1"}],
            ),
            ToolMessage(content="pending approval", tool_call_id="call-1", id="m3"),
        ],
        "step": 3,
    }


async def test_suspended_state_with_langchain_messages_round_trips(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    state = _hitl_state()
    saved = await store.save_suspended_state("a1", "t1", "helper", "approve", state)
    for record in (
        saved,
        await store.get_suspended_state("a1"),
        (await store.list_suspended_states(thread_id="t1"))[0],
    ):
        assert record is not None
        snapshot = record["state_snapshot"]
        assert snapshot == state
        assert [type(m) for m in snapshot["messages"]] == [HumanMessage, AIMessage, ToolMessage]
        assert snapshot["messages"][1].tool_calls[0]["args"] == {"order": 42}


async def test_checkpoint_with_langchain_messages_round_trips(store: BaseStore) -> None:
    body = {"channel_values": _hitl_state(), "v": 1}
    await store.save_checkpoint("t1", "", "c1", None, body, {"source": "loop"})
    latest = await store.get_checkpoint("t1", "", "")
    assert latest is not None
    assert latest["checkpoint"] == body
    listed = await store.list_checkpoints("t1", "")
    assert isinstance(listed[0]["checkpoint"]["channel_values"]["messages"][0], HumanMessage)


async def test_other_objects_in_a_state_are_still_refused(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ValidationError, match="datetime"):
        await store.save_suspended_state(
            "a1", "t1", "helper", "n", {"messages": [HumanMessage("x")], "at": datetime.now()}
        )
    with pytest.raises(ValidationError):
        await store.save_checkpoint("t1", "", "c1", None, {"x": object()}, {})
    assert await store.get_suspended_state("a1") is None
    assert await store.get_checkpoint("t1", "", "") is None


async def test_lookalike_json_that_is_no_message_is_returned_as_stored(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    value = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"x": 1}}
    await store.save_suspended_state("a1", "t1", "helper", "n", {"v": value})
    record = await store.get_suspended_state("a1")
    assert record is not None
    assert record["state_snapshot"] == {"v": value}


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda s: s.get_messages("t1", after_seq=2**63), "after_seq"),
        (lambda s: s.get_messages("t1", after_seq=2**31), "after_seq"),
        (lambda s: s.get_messages("t1", before_seq=-(2**31) - 1), "before_seq"),
        (lambda s: s.get_messages("t1", limit=2**63), "limit"),
        (lambda s: s.get_messages("t1", offset=2**63), "offset"),
        (lambda s: s.list_threads(limit=2**63), "limit"),
        (lambda s: s.get_feedback(limit=2**64), "limit"),
        (lambda s: s.list_checkpoints("t1", "", limit=2**63), "limit"),
        (lambda s: s.add_feedback("t1", "alice", "helper", message_id=2**63), "message_id"),
        (lambda s: s.fork_thread("t1", 2**31, "t2"), "message_index"),
    ],
)
async def test_integers_outside_the_column_range_are_refused(
    store: BaseStore, call: object, argument: str
) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.add_message("t1", "user", "hi")
    with pytest.raises(ValidationError, match=argument):
        await call(store)  # type: ignore[operator]
    assert (await store.get_stats())["threads"] == 1
    assert (await store.get_stats())["feedback"] == 0


async def test_the_largest_values_in_range_are_accepted(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.add_message("t1", "user", "hi")
    assert await store.get_messages("t1", after_seq=2**31 - 1) == []
    assert len(await store.get_messages("t1", before_seq=2**31 - 1, limit=2**63 - 1)) == 1
    assert len(await store.list_threads(limit=2**63 - 1)) == 1
    assert await store.fork_thread("t1", 2**31 - 1, "t2") is None


async def test_duplicate_thread_error_names_the_thread(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.add_message("t1", "user", "hi")
    with pytest.raises(DuplicateRecordError) as created:
        await store.create_thread("t1", "bob", "helper")
    await store.create_thread("t2", "alice", "helper")
    with pytest.raises(DuplicateRecordError) as forked:
        await store.fork_thread("t1", 0, "t2")
    assert created.value.message == "thread 't1' already exists"
    assert forked.value.message == "thread 't2' already exists"
    for error in (created.value, forked.value):
        assert "pk_" not in str(error)
        assert "UNIQUE" not in str(error)
        assert "duplicate key" not in str(error)


def test_max_threads_is_a_public_attribute() -> None:
    assert MemoryStore().max_threads is None
    assert MemoryStore(max_threads=3).max_threads == 3


@pytest.mark.parametrize("factory", [MemoryStore, SQLAlchemyStore])
def test_a_naive_clock_is_refused_at_construction(factory: type[BaseStore]) -> None:
    with pytest.raises(ValidationError, match="naive"):
        factory(clock=datetime.now)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="datetime"):
        factory(clock=lambda: "2026-01-01")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="callable"):
        factory(clock=timedelta(1))  # type: ignore[call-arg]
