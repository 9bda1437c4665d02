"""Random sets of runs and tool calls: aggregate_stats agrees with Python, on every backend."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeClock
from threadstore import BaseStore

START = datetime(2026, 5, 1, 22, tzinfo=UTC)
STATUSES = ("ok", "error", "suspended", "running", "cancelled")
TOOLS = ("search", "bash", "book")

tokens = st.one_of(st.none(), st.integers(min_value=0, max_value=10**9))
cost = st.one_of(st.none(), st.floats(min_value=0, max_value=1000, allow_nan=False))
minutes = st.integers(min_value=0, max_value=3 * 24 * 60)
run = st.tuples(st.just("run"), minutes, st.sampled_from(STATUSES), tokens, tokens, cost)
call = st.tuples(st.just("tool"), minutes, st.sampled_from(TOOLS), st.booleans())
events = st.lists(st.one_of(run, call), max_size=12)


def _bucket_of(at: datetime, bucket: str) -> str:
    if bucket == "day":
        at = at.replace(hour=0)
    return at.replace(minute=0, second=0, microsecond=0).isoformat(timespec="microseconds")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    generated=events,
    bucket=st.sampled_from([None, "day", "hour"]),
    window=st.tuples(minutes, minutes),
)
async def test_totals_and_series_agree_with_python(
    store: BaseStore,
    clock: FakeClock,
    generated: list[tuple[Any, ...]],
    bucket: str | None,
    window: tuple[int, int],
) -> None:
    agent = f"agent-{uuid.uuid4().hex[:8]}"  # each example reads only its own rows
    stamped = []
    for event in generated:
        clock.now = START + timedelta(minutes=event[1])
        stamped.append((clock.now, event))
        if event[0] == "run":
            _, _, status, tokens_in, tokens_out, price = event
            await store.create_invocation_log(
                agent_name=agent,
                status=status,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost=price,
            )
        else:
            _, _, tool, is_error = event
            await store.record_tool_call(tool_name=tool, agent_name=agent, is_error=is_error)
    since = START + timedelta(minutes=min(window))
    until = START + timedelta(minutes=max(window))
    stats = await store.aggregate_stats(agent_name=agent, since=since, until=until, bucket=bucket)

    inside = [(at, e) for at, e in stamped if since <= at < until]
    runs = [e for _, e in inside if e[0] == "run"]
    calls = [e for _, e in inside if e[0] == "tool"]
    assert stats["runs"] == len(runs)
    assert stats["runs_by_status"] == dict(Counter(e[2] for e in runs))
    assert stats["input_tokens"] == sum(e[3] or 0 for e in runs)
    assert stats["output_tokens"] == sum(e[4] or 0 for e in runs)
    assert stats["cost"] == pytest.approx(sum(e[5] or 0 for e in runs))
    assert stats["tool_calls"] == len(calls)
    assert stats["tool_calls_by_tool"] == dict(Counter(e[2] for e in calls))
    assert stats["tool_calls_by_error"] == {
        "error": sum(1 for e in calls if e[3]),
        "ok": sum(1 for e in calls if not e[3]),
    }
    assert (stats["threads"], stats["messages"], stats["feedback"]) == (0, 0, 0)
    if bucket is None:
        assert stats["series"] == []
        return
    labels = Counter(_bucket_of(at, bucket) for at, _ in inside)
    assert [row["bucket"] for row in stats["series"]] == sorted(labels)
    for row in stats["series"]:
        assert row["runs"] + row["tool_calls"] == labels[row["bucket"]]
    assert sum(row["run_errors"] for row in stats["series"]) == stats["runs_by_status"].get(
        "error", 0
    )
