"""aggregate_stats: totals and day/hour series equal a recomputation from what was inserted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, ValidationError

DAY1 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Event:
    """One inserted row, as the test itself remembers it."""

    kind: str
    at: datetime
    agent: str
    user: str | None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    events: list[Event] = field(default_factory=list)
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)  # thread -> (user, agent)


async def _build(store: BaseStore, clock: FakeClock) -> World:
    world = World()

    def at(days: int, hours: int, minutes: int = 0) -> datetime:
        clock.now = DAY1 + timedelta(days=days, hours=hours, minutes=minutes)
        return clock.now

    for thread, user, agent, when in [
        ("t1", "alice", "travel", (0, 9, 10)),
        ("t2", "bob", "travel", (0, 23, 59)),
        ("t3", "alice", "coder", (1, 0, 0)),
    ]:
        stamp = at(*when)
        await store.create_thread(thread, user, agent)
        world.owners[thread] = (user, agent)
        world.events.append(Event("thread", stamp, agent, user))
    for thread, role, when in [
        ("t1", "user", (0, 9, 11)),
        ("t1", "assistant", (0, 9, 12)),
        ("t1", "user", (0, 10, 0)),
        ("t2", "user", (1, 0, 30)),
        ("t3", "system", (1, 1, 0)),
        ("t3", "assistant", (2, 5, 0)),
    ]:
        stamp = at(*when)
        await store.add_message(thread, role, f"{role} says hi")
        user, agent = world.owners[thread]
        world.events.append(Event("message", stamp, agent, user, {"role": role}))
    for thread, rating, when in [("t1", 5, (0, 11)), ("t1", None, (1, 2)), ("t2", 2, (1, 3))]:
        stamp = at(*when)
        user, agent = world.owners[thread]
        await store.add_feedback(thread, user, agent, rating=rating)
        world.events.append(Event("feedback", stamp, agent, user, {"rating": rating}))
    for thread, agent, status, tokens, cost, when in [
        ("t1", "travel", "ok", (100, 20), 0.25, (0, 9, 30)),
        ("t1", "travel", "error", (50, None), 0.125, (0, 9, 45)),
        ("t2", "travel", "ok", (10, 5), None, (1, 0, 30)),
        (None, "travel", "suspended", (None, 7), 1.5, (1, 4, 0)),
        ("t3", "coder", "ok", (1000, 300), 2.0, (2, 5, 0)),
    ]:
        stamp = at(*when)
        await store.create_invocation_log(
            agent_name=agent,
            thread_id=thread,
            status=status,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cost=cost,
        )
        user = None if thread is None else world.owners[thread][0]
        fields = {"status": status, "in": tokens[0], "out": tokens[1], "cost": cost}
        world.events.append(Event("run", stamp, agent, user, fields))
    for thread, agent, tool, is_error, when in [
        ("t1", "travel", "search", False, (0, 9, 31)),
        ("t1", "travel", "book", True, (0, 9, 32)),
        ("t1", "travel", "book", False, (0, 10, 5)),
        ("t2", "travel", "search", True, (1, 0, 31)),
        (None, "coder", "bash", False, (2, 5, 1)),
        ("t3", "coder", "bash", True, (2, 5, 2)),
    ]:
        stamp = at(*when)
        await store.record_tool_call(
            tool_name=tool, agent_name=agent, thread_id=thread, is_error=is_error
        )
        user = None if thread is None else world.owners[thread][0]
        world.events.append(Event("tool", stamp, agent, user, {"tool": tool, "error": is_error}))
    return world


def _expected(
    world: World,
    *,
    agent_name: str | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: str | None = None,
) -> dict[str, Any]:
    """What aggregate_stats must say, recomputed here from the events."""
    chosen = [
        e
        for e in world.events
        if (agent_name is None or e.agent == agent_name)
        and (user_id is None or e.user == user_id)
        and (since is None or e.at >= since)
        and (until is None or e.at < until)
    ]

    def of(kind: str) -> list[Event]:
        return [e for e in chosen if e.kind == kind]

    ratings = [e.fields["rating"] for e in of("feedback") if e.fields["rating"] is not None]
    runs = of("run")
    tools = of("tool")
    totals: dict[str, Any] = {
        "threads": len(of("thread")),
        "messages": len(of("message")),
        "messages_by_role": dict(Counter(e.fields["role"] for e in of("message"))),
        "feedback": len(of("feedback")),
        "feedback_mean_rating": sum(ratings) / len(ratings) if ratings else None,
        "runs": len(runs),
        "runs_by_status": dict(Counter(e.fields["status"] for e in runs)),
        "tool_calls": len(tools),
        "tool_calls_by_tool": dict(Counter(e.fields["tool"] for e in tools)),
        "tool_calls_by_error": {
            "error": sum(1 for e in tools if e.fields["error"]),
            "ok": sum(1 for e in tools if not e.fields["error"]),
        },
        "input_tokens": sum(e.fields["in"] or 0 for e in runs),
        "output_tokens": sum(e.fields["out"] or 0 for e in runs),
        "cost": pytest.approx(sum(e.fields["cost"] or 0 for e in runs)),
    }
    series = []
    if bucket is not None:
        width = {"day": "%Y-%m-%dT00:00:00.000000+00:00", "hour": "%Y-%m-%dT%H:00:00.000000+00:00"}
        labels = sorted({e.at.strftime(width[bucket]) for e in chosen})
        for label in labels:
            inside = [e for e in chosen if e.at.strftime(width[bucket]) == label]
            in_runs = [e for e in inside if e.kind == "run"]
            in_tools = [e for e in inside if e.kind == "tool"]
            series.append(
                {
                    "bucket": label,
                    "threads": sum(1 for e in inside if e.kind == "thread"),
                    "messages": sum(1 for e in inside if e.kind == "message"),
                    "feedback": sum(1 for e in inside if e.kind == "feedback"),
                    "runs": len(in_runs),
                    "run_errors": sum(1 for e in in_runs if e.fields["status"] == "error"),
                    "tool_calls": len(in_tools),
                    "tool_call_errors": sum(1 for e in in_tools if e.fields["error"]),
                    "input_tokens": sum(e.fields["in"] or 0 for e in in_runs),
                    "output_tokens": sum(e.fields["out"] or 0 for e in in_runs),
                    "cost": pytest.approx(sum(e.fields["cost"] or 0 for e in in_runs)),
                }
            )
    return {**totals, "series": series}


def _without_echo(stats: Any) -> dict[str, Any]:
    echoed = ("agent_name", "user_id", "since", "until", "bucket")
    return {key: value for key, value in stats.items() if key not in echoed}


CASES: list[dict[str, Any]] = [
    {},
    {"agent_name": "travel"},
    {"agent_name": "coder"},
    {"user_id": "alice"},
    {"user_id": "bob", "agent_name": "travel"},
    {"since": DAY1 + timedelta(days=1)},
    {"until": DAY1 + timedelta(days=1)},
    {"since": DAY1 + timedelta(hours=9, minutes=31), "until": DAY1 + timedelta(days=1, hours=1)},
    {"bucket": "day"},
    {"bucket": "hour"},
    {"bucket": "hour", "agent_name": "travel", "since": DAY1 + timedelta(hours=10)},
    {"bucket": "day", "user_id": "alice", "until": DAY1 + timedelta(days=2)},
]


@pytest.mark.parametrize("case", CASES, ids=[str(sorted(c)) for c in CASES])
async def test_aggregates_equal_a_recomputation(
    store: BaseStore, clock: FakeClock, case: dict[str, Any]
) -> None:
    world = await _build(store, clock)
    stats = await store.aggregate_stats(**case)
    assert _without_echo(stats) == _expected(world, **case)
    assert stats["bucket"] == case.get("bucket")
    assert stats["agent_name"] == case.get("agent_name")


async def test_series_buckets_sit_on_day_and_hour_boundaries(
    store: BaseStore, clock: FakeClock
) -> None:
    await _build(store, clock)
    days = await store.aggregate_stats(bucket="day")
    assert [row["bucket"] for row in days["series"]] == [
        "2026-03-01T00:00:00.000000+00:00",
        "2026-03-02T00:00:00.000000+00:00",
        "2026-03-03T00:00:00.000000+00:00",
    ]
    # t3 was created at 00:00:00 of day 2, t2 at 23:59 of day 1
    assert [row["threads"] for row in days["series"]] == [2, 1, 0]
    hours = await store.aggregate_stats(bucket="hour", agent_name="coder")
    assert [row["bucket"][11:13] for row in hours["series"]] == ["00", "01", "05"]


async def test_a_view_aggregates_its_users_data_only(store: BaseStore, clock: FakeClock) -> None:
    world = await _build(store, clock)
    alice = store.for_user("alice")
    assert _without_echo(await alice.aggregate_stats()) == _expected(world, user_id="alice")
    assert _without_echo(await alice.aggregate_stats(bucket="day")) == _expected(
        world, user_id="alice", bucket="day"
    )
    nothing = await alice.aggregate_stats(user_id="bob")
    assert (nothing["threads"], nothing["runs"], nothing["tool_calls"]) == (0, 0, 0)


async def test_an_empty_store_reports_zeros(store: BaseStore) -> None:
    stats = await store.aggregate_stats(bucket="hour")
    assert _without_echo(stats) == {
        "threads": 0,
        "messages": 0,
        "messages_by_role": {},
        "feedback": 0,
        "feedback_mean_rating": None,
        "runs": 0,
        "runs_by_status": {},
        "tool_calls": 0,
        "tool_calls_by_tool": {},
        "tool_calls_by_error": {"error": 0, "ok": 0},
        "input_tokens": 0,
        "output_tokens": 0,
        "cost": 0,
        "series": [],
    }


async def test_get_stats_keeps_its_keys(store: BaseStore, clock: FakeClock) -> None:
    await _build(store, clock)
    stats = await store.get_stats()
    assert set(stats) == {
        "backend",
        "dialect",
        "threads",
        "messages",
        "feedback",
        "suspended_states",
        "checkpoints",
        "context_items",
    }
    assert (stats["threads"], stats["messages"], stats["feedback"]) == (3, 6, 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"bucket": "week"},
        {"since": datetime(2026, 1, 1)},
        {"until": "not a time"},
        {"agent_name": ""},
        {"user_id": 5},
    ],
)
async def test_invalid_arguments_are_refused(store: BaseStore, bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        await store.aggregate_stats(**bad)
    assert info.value.suggestion


async def test_iso_strings_bound_the_range_like_datetimes(
    store: BaseStore, clock: FakeClock
) -> None:
    world = await _build(store, clock)
    since = DAY1 + timedelta(hours=10)
    stats = await store.aggregate_stats(since=since.isoformat(), until="2026-03-02T02:00:00+01:00")
    assert _without_echo(stats) == _expected(
        world, since=since, until=datetime(2026, 3, 2, 1, tzinfo=UTC)
    )
    assert stats["since"] == "2026-03-01T10:00:00.000000+00:00"
