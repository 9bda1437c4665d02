"""Feedback: fields, validation, filters, newest-first order, stats."""

from __future__ import annotations

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, ThreadNotFoundError, ValidationError

FEEDBACK_KEYS = {
    "id",
    "thread_id",
    "user_id",
    "agent_name",
    "rating",
    "comment",
    "message_id",
    "feedback_type",
    "query",
    "response",
    "correction",
    "created_at",
}


async def test_add_feedback_round_trip(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    message = await store.add_message("t1", "assistant", "42")
    record = await store.add_feedback(
        "t1",
        "alice",
        "helper",
        rating=4,
        comment="close",
        message_id=message["id"],
        feedback_type="stars",
        query="what?",
        response="42",
        correction="43",
    )
    assert set(record) == FEEDBACK_KEYS
    assert record["rating"] == 4
    assert record["message_id"] == message["id"]
    assert record["feedback_type"] == "stars"
    assert record["correction"] == "43"
    assert await store.get_feedback() == [record]


async def test_defaults(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    record = await store.add_feedback("t1", "alice", "helper")
    assert record["rating"] is None
    assert record["feedback_type"] == "thumbs"
    assert record["comment"] is None


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, "5", True])
async def test_rating_out_of_range_is_rejected(store: BaseStore, rating: object) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(ValidationError) as info:
        await store.add_feedback("t1", "alice", "helper", rating=rating)  # type: ignore[arg-type]
    assert info.value.suggestion
    assert await store.get_feedback() == []


async def test_feedback_on_missing_thread(store: BaseStore) -> None:
    with pytest.raises(ThreadNotFoundError):
        await store.add_feedback("ghost", "alice", "helper", rating=3)
    assert await store.get_feedback() == []


async def test_filters_and_order(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "bob", "coder")
    ids = []
    for thread, user, agent in [
        ("t1", "alice", "helper"),
        ("t2", "bob", "coder"),
        ("t1", "alice", "helper"),
        ("t2", "alice", "coder"),
    ]:
        ids.append((await store.add_feedback(thread, user, agent, rating=5))["id"])
    # equal timestamps: newest id first
    assert [f["id"] for f in await store.get_feedback()] == ids[::-1]
    clock.advance()
    late = await store.add_feedback("t1", "bob", "helper")
    assert (await store.get_feedback(limit=1))[0]["id"] == late["id"]
    assert [f["id"] for f in await store.get_feedback(agent_name="coder")] == [ids[3], ids[1]]
    assert [f["id"] for f in await store.get_feedback(user_id="alice")] == [
        ids[3],
        ids[2],
        ids[0],
    ]
    assert [f["id"] for f in await store.get_feedback(thread_id="t1", user_id="alice")] == [
        ids[2],
        ids[0],
    ]
    assert len(await store.get_feedback(limit=2)) == 2
    with pytest.raises(ValidationError):
        await store.get_feedback(limit=-1)
