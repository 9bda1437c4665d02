"""query_threads and query_messages: filters, keyset pages and views, on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, ValidationError


async def _fill(store: BaseStore, clock: FakeClock) -> datetime:
    """Five threads of two users and agents, with messages; returns the start time."""
    start = clock.now
    specs = [
        ("t1", "alice", "support", {"tier": "gold", "tags": ["refund", "vip"]}),
        ("t2", "alice", "sales", {"tier": "silver", "score": 3}),
        ("t3", "bob", "support", {"tier": "gold", "score": 3.0, "nested": {"a": {"b": 1}}}),
        ("t4", "bob", "sales", {}),
        ("t5", "carol", "support", {"tier": "gold", "tags": ["vip"], "flag": True}),
    ]
    for thread_id, user, agent, metadata in specs:
        clock.advance(60)
        await store.create_thread(thread_id, user, agent, metadata=metadata)
    for n in range(12):
        clock.advance(10 if n % 3 else 0)  # some messages share a timestamp
        thread_id = f"t{n % 5 + 1}"
        role = ("user", "assistant")[n % 2]
        await store.add_message(
            thread_id, role, f"message {n}", metadata={"n": n, "kind": ("q", "a")[n % 2]}
        )
    return start


def _ids(page: Any) -> list[str]:
    return [row["id"] for row in page["items"]]


def _keys(page: Any) -> list[tuple[str, int]]:
    return [(row["thread_id"], row["seq"]) for row in page["items"]]


async def _all_pages(call: Any, limit: int, **filters: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        page = await call(limit=limit, cursor=cursor, **filters)
        assert len(page["items"]) <= limit
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items


async def test_query_threads_filters(store: BaseStore, clock: FakeClock) -> None:
    start = await _fill(store, clock)
    everything = await store.query_threads()
    listed = await store.list_threads()
    assert _ids(everything) == [t["id"] for t in listed]  # same order as list_threads
    assert everything["next_cursor"] is None
    assert _ids(await store.query_threads(agent_name="support")) == [
        t["id"] for t in listed if t["agent_name"] == "support"
    ]
    assert set(_ids(await store.query_threads(user_id="bob"))) == {"t3", "t4"}
    created = await store.query_threads(
        created_after=start + timedelta(seconds=60), created_before=start + timedelta(seconds=300)
    )
    assert set(_ids(created)) == {"t2", "t3", "t4"}  # bounds are exclusive
    last = listed[0]["updated_at"]
    assert _ids(await store.query_threads(updated_after=last)) == []
    assert _ids(await store.query_threads(updated_before=last)) == [t["id"] for t in listed[1:]]
    by_created = await store.query_threads(order="created", newest_first=False)
    assert _ids(by_created) == ["t1", "t2", "t3", "t4", "t5"]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ({}, {"t1", "t2", "t3", "t4", "t5"}),
        ({"tier": "gold"}, {"t1", "t3", "t5"}),
        ({"tags": ["vip"]}, {"t1", "t5"}),
        ({"tags": ["vip", "refund"]}, {"t1"}),  # order does not matter
        ({"tags": []}, {"t1", "t5"}),
        ({"tags": "vip"}, set()),  # an array does not contain a bare scalar below the top
        ({"score": 3}, {"t2", "t3"}),  # 3 == 3.0
        ({"score": 3.0}, {"t2", "t3"}),
        ({"flag": True}, {"t5"}),
        ({"flag": 1}, set()),  # true is not 1
        ({"nested": {"a": {}}}, {"t3"}),
        ({"nested": {"a": {"b": 1}}}, {"t3"}),
        ({"nested": {"a": {"b": 2}}}, set()),
        ({"nested": {"b": 1}}, set()),  # containment is not a search at any depth
        ({"tier": "gold", "flag": True}, {"t5"}),
        ({"missing": None}, set()),
    ],
)
async def test_query_threads_metadata_contains(
    store: BaseStore, clock: FakeClock, needle: dict[str, Any], expected: set[str]
) -> None:
    await _fill(store, clock)
    assert set(_ids(await store.query_threads(metadata_contains=needle))) == expected


async def test_query_messages_filters_and_order(store: BaseStore, clock: FakeClock) -> None:
    start = await _fill(store, clock)
    everything = await store.query_messages(limit=100)
    rows = everything["items"]
    assert len(rows) == 12
    order = [(m["timestamp"], m["thread_id"], m["seq"]) for m in rows]
    assert order == sorted(order, reverse=True)  # newest first, ties by thread then seq
    oldest = await store.query_messages(limit=100, newest_first=False)
    assert _keys(oldest) == list(reversed(_keys(everything)))
    in_t1 = await store.query_messages(thread_id="t1")
    assert _keys(in_t1) == [("t1", 2), ("t1", 1), ("t1", 0)]
    assert {m["role"] for m in (await store.query_messages(role="user"))["items"]} == {"user"}
    assert len((await store.query_messages(role="user"))["items"]) == 6
    support = await store.query_messages(agent_name="support", limit=100)
    assert {m["thread_id"] for m in support["items"]} == {"t1", "t3", "t5"}
    alice = await store.query_messages(user_id="alice", role="assistant", limit=100)
    assert _keys(alice) == [("t2", 2), ("t1", 1), ("t2", 0)]  # messages 11, 5 and 1
    after = start + timedelta(seconds=300 + 10)
    later = await store.query_messages(created_after=after, limit=100)
    stamp = after.isoformat(timespec="microseconds")
    assert any(m["timestamp"] == stamp for m in rows)  # one at the bound: excluded
    assert later["items"] == [m for m in rows if m["timestamp"] > stamp]
    answers = await store.query_messages(metadata_contains={"kind": "a"}, limit=100)
    assert len(answers["items"]) == 6
    assert _keys(await store.query_messages(metadata_contains={"n": 7.0})) == [("t3", 1)]


@pytest.mark.parametrize("limit", [1, 2, 5])
async def test_pages_walk_every_row_once(store: BaseStore, clock: FakeClock, limit: int) -> None:
    await _fill(store, clock)
    threads = await _all_pages(store.query_threads, limit, metadata_contains={"tier": "gold"})
    assert [t["id"] for t in threads] == _ids(
        await store.query_threads(metadata_contains={"tier": "gold"})
    )
    for filters in ({}, {"thread_id": "t2"}, {"agent_name": "sales"}, {"role": "assistant"}):
        walked = await _all_pages(store.query_messages, limit, **filters)
        whole = await store.query_messages(limit=100, **filters)
        assert [(m["thread_id"], m["seq"]) for m in walked] == _keys(whole), filters


async def test_a_cursor_is_bound_to_its_filters(store: BaseStore, clock: FakeClock) -> None:
    await _fill(store, clock)
    page = await store.query_threads(agent_name="support", limit=1)
    assert page["next_cursor"] is not None
    with pytest.raises(ValidationError, match="other filters") as caught:
        await store.query_threads(agent_name="sales", limit=1, cursor=page["next_cursor"])
    assert caught.value.suggestion
    with pytest.raises(ValidationError, match="order"):
        await store.query_threads(agent_name="support", order="created", cursor=page["next_cursor"])
    messages = await store.query_messages(metadata_contains={"kind": "q"}, limit=1)
    with pytest.raises(ValidationError, match="other filters"):
        await store.query_messages(metadata_contains={"kind": "a"}, cursor=messages["next_cursor"])
    with pytest.raises(ValidationError, match="query_messages"):
        await store.query_threads(cursor=messages["next_cursor"])
    with pytest.raises(ValidationError, match="other filters"):
        await store.for_user("alice").query_messages(
            metadata_contains={"kind": "q"}, cursor=messages["next_cursor"]
        )


async def test_views_never_show_another_users_rows(store: BaseStore, clock: FakeClock) -> None:
    await _fill(store, clock)
    alice = store.for_user("alice")
    assert set(_ids(await alice.query_threads())) == {"t1", "t2"}
    assert _ids(await alice.query_threads(user_id="bob")) == []
    assert _ids(await alice.query_threads(metadata_contains={"tier": "gold"})) == ["t1"]
    mine = await alice.query_messages(limit=100)
    assert {m["thread_id"] for m in mine["items"]} == {"t1", "t2"}
    assert (await alice.query_messages(thread_id="t3"))["items"] == []
    assert (await alice.query_messages(user_id="bob"))["items"] == []
    walked = await _all_pages(alice.query_messages, 2, agent_name="support")
    assert {m["thread_id"] for m in walked} == {"t1"}


@pytest.mark.parametrize(
    "bad",
    [
        {"metadata_contains": ["tier"]},
        {"metadata_contains": {"n": float("nan")}},
        {"metadata_contains": {"n": 2**64}},
        {"metadata_contains": {1: "x"}},
        {"created_after": datetime(2026, 1, 1)},  # naive
        {"created_before": "yesterday"},
        {"agent_name": ""},
        {"limit": 0},
        {"cursor": "not-a-cursor"},
    ],
)
async def test_bad_arguments_are_refused(store: BaseStore, bad: dict[str, Any]) -> None:
    for call in (store.query_threads, store.query_messages):
        with pytest.raises(ValidationError) as caught:
            await call(**bad)
        assert caught.value.suggestion


async def test_queries_inside_a_transaction_see_its_writes(store: BaseStore) -> None:
    async with store.transaction() as tx:
        await tx.create_thread("tx1", "alice", "support", metadata={"tier": "gold"})
        await tx.add_message("tx1", "user", "hi", metadata={"intent": "greet"})
        assert _ids(await tx.query_threads(metadata_contains={"tier": "gold"})) == ["tx1"]
        found = await tx.for_user("alice").query_messages(metadata_contains={"intent": "greet"})
        assert _keys(found) == [("tx1", 0)]
    assert _ids(await store.query_threads(user_id="alice")) == ["tx1"]
