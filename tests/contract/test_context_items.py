"""Context items: scopes, routing, TTL, cleanup, topics, permissions, JSON values, isolation."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import (
    BaseStore,
    ContextItemRecord,
    PermissionDeniedError,
    SQLAlchemyStore,
    ValidationError,
)

ITEM_KEYS = {
    "key",
    "value",
    "subscribers",
    "topics",
    "ttl",
    "created_at",
    "expires_at",
    "user_id",
    "posted_by",
}


def keys(items: list[ContextItemRecord]) -> list[str]:
    return [item["key"] for item in items]


async def visible_keys(
    store: BaseStore, agent: str | None, user_id: str | None = None
) -> list[str]:
    return keys(await store.get_all_context_items(user_id=user_id, agent_name=agent))


# -- saving and reading ------------------------------------------------------------------


async def test_save_and_get_round_trip(store: BaseStore) -> None:
    saved = await store.save_context_item(
        "prefs",
        {"theme": "dark"},
        user_id="alice",
        subscribers=["chat"],
        topics=["ui"],
        posted_by="planner",
    )
    assert set(saved) == ITEM_KEYS
    assert saved == {
        "key": "prefs",
        "value": {"theme": "dark"},
        "subscribers": ["chat"],
        "topics": ["ui"],
        "ttl": None,
        "created_at": "2026-01-01T00:00:00.000000+00:00",
        "expires_at": None,
        "user_id": "alice",
        "posted_by": "planner",
    }
    assert await store.get_context_item("prefs", user_id="alice") == saved
    assert await store.get_all_context_items(user_id="alice") == [saved]
    assert json.loads(json.dumps(saved)) == saved


async def test_global_scope_reports_user_id_none(store: BaseStore) -> None:
    saved = await store.save_context_item("k", 1)
    assert saved["user_id"] is None
    fetched = await store.get_context_item("k")
    assert fetched is not None
    assert fetched["user_id"] is None


async def test_missing_item_reads_none(store: BaseStore) -> None:
    assert await store.get_context_item("nope") is None
    assert await store.get_context_item("nope", user_id="alice", agent_name="a") is None
    assert await store.get_all_context_items() == []
    assert await store.delete_context_item("nope") is False


async def test_one_global_key_is_one_row(store: BaseStore) -> None:
    """The NULL-in-a-primary-key trap: saving a global key twice must not duplicate it."""
    await store.save_context_item("k", "first")
    await store.save_context_item("k", "second")
    assert keys(await store.get_all_context_items()) == ["k"]
    assert (await store.get_stats())["context_items"] == 1
    item = await store.get_context_item("k")
    assert item is not None
    assert item["value"] == "second"


async def test_concurrent_saves_of_one_global_key_leave_one_row(store: BaseStore) -> None:
    await asyncio.gather(
        *(store.save_context_item("k", n, subscribers=[f"agent{n}"]) for n in range(20))
    )
    assert (await store.get_stats())["context_items"] == 1
    item = await store.get_context_item("k")
    assert item is not None
    assert item["subscribers"] == [f"agent{item['value']}"]
    # The routes are the winner's only: no other writer's subscriber is left behind.
    for n in range(20):
        expected = ["k"] if n == item["value"] else []
        assert await visible_keys(store, f"agent{n}") == expected


async def test_same_key_in_each_scope_is_a_separate_item(store: BaseStore) -> None:
    await store.save_context_item("k", "global")
    await store.save_context_item("k", "alice's", user_id="alice")
    await store.save_context_item("k", "bob's", user_id="bob")
    assert (await store.get_stats())["context_items"] == 3
    for user, value in ((None, "global"), ("alice", "alice's"), ("bob", "bob's")):
        item = await store.get_context_item("k", user_id=user)
        assert item is not None
        assert (item["value"], item["user_id"]) == (value, user)


async def test_overwrite_replaces_everything_and_restarts_ttl(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.save_context_item("k", "old", subscribers=["a"], topics=["t"], ttl=10)
    clock.advance(5)
    new = await store.save_context_item("k", "new", posted_by="b")
    assert new["value"] == "new"
    assert (new["subscribers"], new["topics"], new["ttl"], new["expires_at"]) == (
        [],
        [],
        None,
        None,
    )
    assert new["created_at"] == "2026-01-01T00:00:05.000000+00:00"
    assert await store.get_context_item("k") == new
    # The old subscriber route is gone: the item is now a broadcast.
    assert await visible_keys(store, "anyone") == ["k"]


async def test_items_are_listed_by_key(store: BaseStore) -> None:
    for key in ("b", "a", "C", "é", "a2"):
        await store.save_context_item(key, key)
    assert await visible_keys(store, None) == ["C", "a", "a2", "b", "é"]


async def test_returned_items_are_copies(store: BaseStore) -> None:
    value: dict[str, Any] = {"list": [1, 2]}
    subscribers = ["a"]
    saved = await store.save_context_item("k", value, subscribers=subscribers)
    value["list"].append(3)
    subscribers.append("b")
    saved["value"]["list"].append(4)
    saved["subscribers"].append("c")
    fetched = await store.get_context_item("k")
    assert fetched is not None
    assert fetched["value"] == {"list": [1, 2]}
    assert fetched["subscribers"] == ["a"]
    fetched["value"]["list"].clear()
    again = await store.get_context_item("k")
    assert again is not None
    assert again["value"] == {"list": [1, 2]}


async def test_duplicate_names_are_dropped_in_order(store: BaseStore) -> None:
    saved = await store.save_context_item("k", 1, subscribers=["b", "a", "b"], topics=("t", "t"))
    assert (saved["subscribers"], saved["topics"]) == (["b", "a"], ["t"])
    fetched = await store.get_context_item("k")
    assert fetched == saved


# -- JSON values --------------------------------------------------------------------------

LARGE_DOCUMENT = {
    "rows": [
        {"id": i, "text": f"row {i} " + "x" * 200, "tags": ["a", "b", str(i)], "score": i / 7}
        for i in range(5000)
    ],
    "nested": {"level": {"deeper": {"deepest": [None, True, False, 0, -1, 1.25]}}},
}

JSON_VALUES = [
    pytest.param({"a": 1, "b": [True, None], "c": {"d": "e"}}, id="object"),
    pytest.param({}, id="empty-object"),
    pytest.param([1, "two", 3.5, None, [], {}], id="array"),
    pytest.param([], id="empty-array"),
    pytest.param("plain string", id="string"),
    pytest.param("", id="empty-string"),
    pytest.param(42, id="int"),
    pytest.param(-(2**62), id="big-int"),
    pytest.param(0.1, id="float"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param(None, id="null"),
    pytest.param("null", id="string-null"),
    pytest.param({"k": None}, id="object-with-null"),
    pytest.param({"ünï": "日本語 — 🧵 ✓", "emoji": ["🚀", "\u00e9", "e\u0301"]}, id="unicode"),
    pytest.param(LARGE_DOCUMENT, id="large-document"),
]


@pytest.mark.parametrize("value", JSON_VALUES)
async def test_json_values_round_trip(store: BaseStore, value: Any) -> None:
    saved = await store.save_context_item("k", value, user_id="alice")
    assert saved["value"] == value
    fetched = await store.get_context_item("k", user_id="alice")
    assert fetched is not None
    assert fetched["value"] == value
    assert type(fetched["value"]) is type(value)
    (listed,) = await store.get_all_context_items(user_id="alice")
    assert listed["value"] == value


async def test_json_null_value_is_an_item_not_a_missing_one(store: BaseStore) -> None:
    await store.save_context_item("nothing", None)
    item = await store.get_context_item("nothing")
    assert item is not None
    assert item["value"] is None
    assert await store.delete_context_item("nothing") is True


@pytest.mark.parametrize(
    "value",
    [
        pytest.param((1, 2), id="tuple"),
        pytest.param({1, 2}, id="set"),
        pytest.param(math.nan, id="nan"),
        pytest.param({"a": math.inf}, id="inf"),
        pytest.param("nul\x00byte", id="nul"),
        pytest.param(["lone \ud800 surrogate"], id="lone-surrogate"),
        pytest.param({"\udfff": 1}, id="surrogate-key"),
        pytest.param({1: "int key"}, id="int-key"),
        pytest.param(object(), id="object"),
    ],
)
async def test_non_json_values_are_rejected_before_writing(store: BaseStore, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        await store.save_context_item("k", value)
    assert info.value.suggestion
    assert await store.get_context_item("k") is None


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        pytest.param({"key": ""}, "key", id="empty-key"),
        pytest.param({"key": "k" * 256}, "key", id="long-key"),
        pytest.param({"key": 7}, "key", id="int-key"),
        pytest.param({"user_id": ""}, "user_id", id="empty-user"),
        pytest.param({"subscribers": "agent"}, "subscribers", id="subscribers-str"),
        pytest.param({"subscribers": [""]}, "subscribers", id="empty-subscriber"),
        pytest.param({"topics": [None]}, "topics", id="topic-none"),
        pytest.param({"posted_by": ""}, "posted_by", id="empty-poster"),
        pytest.param({"ttl": 0}, "ttl", id="zero-ttl"),
        pytest.param({"ttl": -5}, "ttl", id="negative-ttl"),
        pytest.param({"ttl": math.inf}, "ttl", id="infinite-ttl"),
        pytest.param({"ttl": "60"}, "ttl", id="str-ttl"),
        pytest.param({"ttl": True}, "ttl", id="bool-ttl"),
        pytest.param({"ttl": 1e20}, "ttl", id="huge-ttl"),
        pytest.param({"ttl": -1e20}, "ttl", id="huge-negative-ttl"),
        pytest.param({"ttl": timedelta(days=10**6)}, "ttl", id="huge-timedelta-ttl"),
    ],
)
async def test_invalid_arguments_are_rejected(
    store: BaseStore, arguments: dict[str, Any], name: str
) -> None:
    call: dict[str, Any] = {"key": "k", "value": 1, **arguments}
    with pytest.raises(ValidationError, match=name):
        await store.save_context_item(call.pop("key"), call.pop("value"), **call)
    assert (await store.get_stats())["context_items"] == 0


async def test_invalid_read_arguments_are_rejected(store: BaseStore) -> None:
    with pytest.raises(ValidationError):
        await store.get_context_item("k", agent_name="")
    with pytest.raises(ValidationError):
        await store.get_all_context_items(user_id="")
    with pytest.raises(ValidationError):
        await store.save_agent_topics("a", "topic")
    with pytest.raises(ValidationError):
        await store.save_agent_permissions("", ["t"])


# -- routing ----------------------------------------------------------------------------


async def test_routing_by_subscribers_and_topics(store: BaseStore) -> None:
    await store.save_context_item("broadcast", 1)
    await store.save_context_item("for-a", 2, subscribers=["a"])
    await store.save_context_item("for-a-and-b", 3, subscribers=["a", "b"])
    await store.save_context_item("on-sales", 4, topics=["sales"])
    await store.save_context_item("on-sales-or-ops", 5, topics=["sales", "ops"])
    await store.save_context_item("for-c-or-on-ops", 6, subscribers=["c"], topics=["ops"])
    await store.save_agent_topics("b", ["sales"])
    await store.save_agent_topics("c", ["billing"])
    await store.save_agent_topics("d", ["ops", "unused"])

    assert await visible_keys(store, "a") == ["broadcast", "for-a", "for-a-and-b"]
    assert await visible_keys(store, "b") == [
        "broadcast",
        "for-a-and-b",
        "on-sales",
        "on-sales-or-ops",
    ]
    assert await visible_keys(store, "c") == ["broadcast", "for-c-or-on-ops"]
    assert await visible_keys(store, "d") == ["broadcast", "for-c-or-on-ops", "on-sales-or-ops"]
    assert await visible_keys(store, "stranger") == ["broadcast"]
    assert len(await visible_keys(store, None)) == 6

    assert await store.get_context_item("for-a", agent_name="b") is None
    assert await store.get_context_item("on-sales", agent_name="a") is None
    item = await store.get_context_item("on-sales", agent_name="b")
    assert item is not None
    assert item["value"] == 4
    assert await store.get_context_item("on-sales") is not None


async def test_topic_routing_follows_subscriptions_at_read_time(store: BaseStore) -> None:
    await store.save_context_item("news", "x", topics=["sales"])
    assert await store.get_context_item("news", agent_name="late") is None
    await store.save_agent_topics("late", ["sales"])
    assert await visible_keys(store, "late") == ["news"]
    await store.save_agent_topics("late", ["other"])
    assert await visible_keys(store, "late") == []
    await store.save_agent_topics("late", ["sales"])
    assert await store.remove_agent_topics("late") is True
    assert await visible_keys(store, "late") == []


async def test_routing_is_per_scope(store: BaseStore) -> None:
    await store.save_agent_topics("a", ["sales"], user_id="alice")
    await store.save_context_item("news", 1, topics=["sales"])
    await store.save_context_item("news", 2, topics=["sales"], user_id="bob")
    await store.save_context_item("news", 3, topics=["sales"], user_id="alice")
    assert await visible_keys(store, "a") == []
    assert await visible_keys(store, "a", user_id="bob") == []
    assert await visible_keys(store, "a", user_id="alice") == ["news"]


# -- TTL and cleanup ------------------------------------------------------------------------


async def test_ttl_expiry_is_decided_by_the_clock(store: BaseStore, clock: FakeClock) -> None:
    saved = await store.save_context_item("k", "v", ttl=10)
    assert saved["ttl"] == 10.0
    assert saved["expires_at"] == "2026-01-01T00:00:10.000000+00:00"
    clock.advance(9.999)
    assert await store.get_context_item("k") is not None
    assert await visible_keys(store, None) == ["k"]
    clock.advance(0.001)
    assert await store.get_context_item("k") is None
    assert await store.get_context_item("k", agent_name="a") is None
    assert await visible_keys(store, None) == []
    assert await visible_keys(store, "a") == []


async def test_ttl_accepts_fractions_and_timedeltas(store: BaseStore, clock: FakeClock) -> None:
    fraction = await store.save_context_item("f", 1, ttl=0.25)
    assert (fraction["ttl"], fraction["expires_at"]) == (0.25, "2026-01-01T00:00:00.250000+00:00")
    delta = await store.save_context_item("d", 1, ttl=timedelta(minutes=2))
    assert delta["ttl"] == 120.0
    clock.advance(0.25)
    assert await visible_keys(store, None) == ["d"]


async def test_cleanup_deletes_expired_items_in_every_scope(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.save_context_item("short", 1, ttl=5, subscribers=["a"], topics=["t"])
    await store.save_context_item("short", 1, ttl=5, user_id="alice")
    await store.save_context_item("long", 1, ttl=50, user_id="bob")
    await store.save_context_item("forever", 1)
    assert await store.cleanup_expired_context_items() == 0
    clock.advance(5)
    assert await store.cleanup_expired_context_items() == 2
    assert await store.cleanup_expired_context_items() == 0
    assert (await store.get_stats())["context_items"] == 2
    # A key freed by cleanup can be saved again, with fresh routes.
    await store.save_context_item("short", 2)
    assert await visible_keys(store, "z") == ["forever", "short"]


async def test_expired_items_cannot_be_deleted_or_counted(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.save_context_item("gone", 1, ttl=1)
    await store.save_context_item("kept", 1)
    clock.advance(2)
    assert await store.delete_context_item("gone") is False
    await store.save_context_item("gone-too", 1, ttl=1)
    clock.advance(2)
    assert await store.clear_context_items() == 1
    assert (await store.get_stats())["context_items"] == 0


async def test_saving_over_an_expired_item_revives_the_key(
    store: BaseStore, clock: FakeClock
) -> None:
    await store.save_context_item("k", "old", ttl=1)
    clock.advance(1)
    await store.save_context_item("k", "new")
    item = await store.get_context_item("k")
    assert item is not None
    assert item["value"] == "new"


# -- delete and clear --------------------------------------------------------------------


async def test_delete_removes_item_and_its_routes(store: BaseStore) -> None:
    await store.save_context_item("k", 1, subscribers=["a"])
    assert await store.delete_context_item("k") is True
    assert await store.delete_context_item("k") is False
    assert await store.get_context_item("k") is None
    await store.save_context_item("k", 2)
    assert await visible_keys(store, "b") == ["k"]


async def test_clear_empties_one_scope_and_keeps_topics_and_permissions(
    store: BaseStore,
) -> None:
    await store.save_agent_topics("a", ["t"], user_id="alice")
    await store.save_agent_permissions("a", ["t"], user_id="alice")
    for key in ("x", "y"):
        await store.save_context_item(key, 1, user_id="alice", topics=["t"])
    await store.save_context_item("x", 1)
    assert await store.clear_context_items(user_id="alice") == 2
    assert await store.clear_context_items(user_id="alice") == 0
    assert await store.get_all_context_items(user_id="alice") == []
    assert keys(await store.get_all_context_items()) == ["x"]
    assert await store.get_agent_topics("a", user_id="alice") == ["t"]
    assert await store.get_agent_permissions("a", user_id="alice") == ["t"]


# -- topics and permissions ------------------------------------------------------------------


async def test_agent_topics_crud(store: BaseStore) -> None:
    assert await store.get_agent_topics("a") == []
    assert await store.save_agent_topics("a", ["z", "m", "z", "a"]) == ["z", "m", "a"]
    assert await store.get_agent_topics("a") == ["z", "m", "a"]
    await store.save_agent_topics("b", ["m"])
    assert await store.get_all_agent_topics() == {"a": ["z", "m", "a"], "b": ["m"]}
    assert await store.save_agent_topics("a", ["n"]) == ["n"]
    assert await store.get_agent_topics("a") == ["n"]
    assert await store.remove_agent_topics("a") is True
    assert await store.remove_agent_topics("a") is False
    assert await store.save_agent_topics("b", []) == []
    assert await store.get_all_agent_topics() == {}


async def test_agent_permissions_crud(store: BaseStore) -> None:
    assert await store.get_agent_permissions("a") is None
    assert await store.save_agent_permissions("a", ["t2", "t1", "t2"]) == ["t2", "t1"]
    assert await store.get_agent_permissions("a") == ["t2", "t1"]
    assert await store.save_agent_permissions("b", []) == []
    assert await store.get_agent_permissions("b") == []
    assert await store.get_all_agent_permissions() == {"a": ["t2", "t1"], "b": []}
    assert await store.save_agent_permissions("a", ["t3"]) == ["t3"]
    assert await store.get_all_agent_permissions() == {"a": ["t3"], "b": []}
    assert await store.remove_agent_permissions("a") is True
    assert await store.remove_agent_permissions("a") is False
    assert await store.get_agent_permissions("a") is None
    assert await store.get_all_agent_permissions() == {"b": []}
    # without a restriction the agent may post to any topic again
    await store.save_context_item("k", 1, topics=["anything"], posted_by="a")


async def test_permission_denied_writes_nothing(store: BaseStore) -> None:
    await store.save_agent_permissions("writer", ["sales"], user_id="alice")
    await store.save_context_item("k", "before", user_id="alice", topics=["sales"])

    with pytest.raises(PermissionDeniedError) as info:
        await store.save_context_item(
            "k", "after", user_id="alice", topics=["sales", "hr"], posted_by="writer"
        )
    assert "hr" in info.value.message
    assert "sales" not in info.value.message
    assert info.value.suggestion
    with pytest.raises(PermissionDeniedError):
        await store.save_context_item("new", 1, user_id="alice", topics=["hr"], posted_by="writer")

    item = await store.get_context_item("k", user_id="alice")
    assert item is not None
    assert (item["value"], item["topics"]) == ("before", ["sales"])
    assert await store.get_context_item("new", user_id="alice") is None
    assert (await store.get_stats())["context_items"] == 1


async def test_permissions_allow_what_they_list(store: BaseStore) -> None:
    await store.save_agent_permissions("writer", ["sales", "ops"])
    await store.save_context_item("a", 1, topics=["ops", "sales"], posted_by="writer")
    # Without topics there is nothing to restrict; without posted_by nobody is checked.
    await store.save_context_item("b", 1, posted_by="writer")
    await store.save_context_item("c", 1, topics=["hr"])
    # An agent without configured permissions may post anywhere.
    await store.save_context_item("d", 1, topics=["hr"], posted_by="free")
    assert keys(await store.get_all_context_items()) == ["a", "b", "c", "d"]


async def test_empty_permissions_forbid_every_topic(store: BaseStore) -> None:
    await store.save_agent_permissions("muted", [])
    with pytest.raises(PermissionDeniedError):
        await store.save_context_item("k", 1, topics=["any"], posted_by="muted")
    await store.save_context_item("k", 1, subscribers=["x"], posted_by="muted")
    assert await store.get_context_item("k", agent_name="x") is not None


# -- isolation ----------------------------------------------------------------------------


async def test_other_scopes_cannot_reach_a_users_data(store: BaseStore) -> None:
    """User A and the global scope try every method on user B's data; all fail."""
    b = "user-b"
    await store.save_context_item("secret", {"owner": "b"}, user_id=b)
    await store.save_context_item("routed", "for agent", user_id=b, subscribers=["agent"])
    await store.save_context_item("topical", "on t", user_id=b, topics=["t"])
    await store.save_agent_topics("agent", ["t"], user_id=b)
    await store.save_agent_permissions("agent", ["t"], user_id=b)
    b_items = await store.get_all_context_items(user_id=b)
    assert keys(b_items) == ["routed", "secret", "topical"]

    for other in ("user-a", None):
        # read and list
        for key in ("secret", "routed", "topical"):
            assert await store.get_context_item(key, user_id=other) is None
            assert await store.get_context_item(key, user_id=other, agent_name="agent") is None
        assert await store.get_all_context_items(user_id=other) == []
        assert await store.get_all_context_items(user_id=other, agent_name="agent") == []
        assert await store.get_agent_topics("agent", user_id=other) == []
        assert await store.get_all_agent_topics(user_id=other) == {}
        assert await store.get_agent_permissions("agent", user_id=other) is None
        assert await store.get_all_agent_permissions(user_id=other) == {}
        # delete and clear
        assert await store.delete_context_item("secret", user_id=other) is False
        assert await store.clear_context_items(user_id=other) == 0
        assert await store.remove_agent_topics("agent", user_id=other) is False
        assert await store.remove_agent_permissions("agent", user_id=other) is False
        # overwrite: the same names in another scope make separate records
        await store.save_context_item("secret", "overwritten?", user_id=other, topics=["x"])
        await store.save_agent_topics("agent", ["x"], user_id=other)
        await store.save_agent_permissions("agent", ["x"], user_id=other)
        # B's permissions do not restrict posts in another scope ...
        await store.save_context_item("post", 1, user_id=other, topics=["x"], posted_by="agent")
        with pytest.raises(PermissionDeniedError):
            await store.save_context_item("p", 1, user_id=other, topics=["t"], posted_by="agent")
        # ... and B's subscriptions do not route another scope's items.
        await store.save_context_item("on-t", 1, user_id=other, topics=["t"])
        assert await visible_keys(store, "agent", user_id=other) == ["post", "secret"]
        assert await store.clear_context_items(user_id=other) == 3
        assert await store.remove_agent_topics("agent", user_id=other) is True
        assert await store.remove_agent_permissions("agent", user_id=other) is True

    # B's data is exactly as it was.
    assert await store.get_all_context_items(user_id=b) == b_items
    assert await visible_keys(store, "agent", user_id=b) == ["routed", "secret", "topical"]
    assert await store.get_all_agent_topics(user_id=b) == {"agent": ["t"]}
    assert await store.get_all_agent_permissions(user_id=b) == {"agent": ["t"]}
    with pytest.raises(PermissionDeniedError):
        await store.save_context_item("p", 1, user_id=b, topics=["x"], posted_by="agent")
    assert await store.clear_context_items(user_id=b) == 3


# -- SQL: one indexed query ------------------------------------------------------------------


async def test_visible_items_are_read_by_one_indexed_query(
    db_url: str, sql_backend: str, clock: FakeClock
) -> None:
    store = SQLAlchemyStore(db_url, clock=clock)
    await store.initialize()
    try:
        await store.save_agent_topics("a", ["t1", "t2"], user_id="alice")
        for n in range(30):
            routing: dict[str, Any] = [
                {},
                {"subscribers": ["a", "b"]},
                {"subscribers": ["b"]},
                {"topics": ["t2", "t9"]},
                {"topics": ["t9"]},
            ][n % 5]
            await store.save_context_item(f"k{n:02}", n, user_id="alice", **routing)
            await store.save_context_item(f"k{n:02}", n, user_id="bob", **routing)

        with recorded(store) as statements:
            items = await store.get_all_context_items(user_id="alice", agent_name="a")
            one = await store.get_context_item("k03", user_id="alice", agent_name="a")

        assert [item["value"] % 5 for item in items] == [0, 1, 3] * 6
        assert one is not None
        assert one["value"] == 3
        assert len(statements) == 2  # one statement per call
        async with store.engine.connect() as conn:
            if sql_backend == "postgres":
                await conn.exec_driver_sql("SET enable_seqscan = off")
            for statement, params in statements:
                if sql_backend == "sqlite":
                    result = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
                    plan = [str(row[-1]) for row in result]
                else:
                    result = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
                    plan = [str(row[0]) for row in result]
                assert _every_table_read_is_an_index_range_of_the_scope(plan), "\n".join(plan)
    finally:
        await store.close()


def _every_table_read_is_an_index_range_of_the_scope(plan: list[str]) -> bool:
    """True when each read of a threadstore table is an index search bounded by ``scope``.

    SQLite: every ``SEARCH``/``SCAN`` line of a table is a ``SEARCH`` on
    ``scope=?``. PostgreSQL: every scan node names a condition on ``scope``
    (``Index Cond`` or, for bitmap scans, ``Recheck Cond``) and none is a
    sequential scan.
    """
    reads = [n for n, line in enumerate(plan) if "threadstore_" in line and "SCAN" in line.upper()]
    reads += [n for n, line in enumerate(plan) if line.startswith("SEARCH threadstore_")]
    if not reads:
        return False
    for n in sorted(set(reads)):
        line = plan[n]
        if line.startswith(("SEARCH", "SCAN")):  # SQLite
            if not (line.startswith("SEARCH") and "(scope=?" in line):
                return False
            continue
        if "Seq Scan" in line:
            return False
        details = []
        for following in plan[n + 1 :]:
            if "->" in following:
                break
            details.append(following)
        if not any(("Index Cond" in d or "Recheck Cond" in d) and "scope" in d for d in details):
            return False
    return True
