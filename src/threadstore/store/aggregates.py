"""aggregate_stats, written once: backends group and count, this module adds the groups up.

A backend answers a :class:`~threadstore.store.tool_inputs.StatsQuery` with
:class:`StatsGroups`: a few rows per entity, one per group (role, status,
tool, ...) and bucket, counted and summed by the database (GROUP BY) or, in
memory, from the state. :func:`build_stats` turns them into the totals and the
time series, so every backend reports the same numbers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from threadstore.clock import isoformat, parse_iso
from threadstore.records import AggregateStatsRecord, StatsBucketRecord
from threadstore.store.tool_inputs import StatsQuery

__all__ = ["StatsGroups", "bucket_label", "build_stats", "truncate"]


@dataclass
class StatsGroups:
    """Grouped counts and sums; ``bucket`` is a bucket's ISO start, or None without buckets.

    Attributes:
        threads: (bucket, threads).
        messages: (bucket, role, messages).
        feedback: (bucket, feedback, rated feedback, sum of ratings).
        runs: (bucket, status, runs, input tokens, output tokens, cost).
        tool_calls: (bucket, tool name, is_error, tool calls).
    """

    threads: list[tuple[str | None, int]] = field(default_factory=list)
    messages: list[tuple[str | None, str, int]] = field(default_factory=list)
    feedback: list[tuple[str | None, int, int, int]] = field(default_factory=list)
    runs: list[tuple[str | None, str, int, int, int, float]] = field(default_factory=list)
    tool_calls: list[tuple[str | None, str, bool, int]] = field(default_factory=list)


def truncate(value: datetime, bucket: str) -> datetime:
    """The start (UTC) of the day or hour holding ``value``."""
    value = value.astimezone(UTC)
    if bucket == "day":
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    return value.replace(minute=0, second=0, microsecond=0)


def bucket_label(value: object) -> str:
    """A bucket start as records show it, from a datetime (naive = UTC) or SQLite's text."""
    if isinstance(value, str):
        value = parse_iso(value.replace(" ", "T"))
    assert isinstance(value, datetime), value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return isoformat(value)


def _empty_bucket(label: str) -> StatsBucketRecord:
    return {
        "bucket": label,
        "threads": 0,
        "messages": 0,
        "feedback": 0,
        "runs": 0,
        "run_errors": 0,
        "tool_calls": 0,
        "tool_call_errors": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost": 0.0,
    }


def _add(counts: dict[str, int], key: str, amount: int) -> None:
    counts[key] = counts.get(key, 0) + amount


def build_stats(query: StatsQuery, groups: StatsGroups) -> AggregateStatsRecord:
    """The totals and (with a bucket) the series of ``groups``."""
    series: dict[str, StatsBucketRecord] = {}

    def at(label: str | None) -> StatsBucketRecord:
        key = label or ""
        if key not in series:
            series[key] = _empty_bucket(key)
        return series[key]

    by_role: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_tool: dict[str, int] = {}
    by_error = {"error": 0, "ok": 0}
    rated = rating_sum = 0
    for label, count in groups.threads:
        at(label)["threads"] += count
    for label, role, count in groups.messages:
        at(label)["messages"] += count
        _add(by_role, role, count)
    for label, count, rated_count, ratings in groups.feedback:
        at(label)["feedback"] += count
        rated += rated_count
        rating_sum += ratings
    for label, status, count, tokens_in, tokens_out, cost in groups.runs:
        row = at(label)
        row["runs"] += count
        row["run_errors"] += count if status == "error" else 0
        row["input_tokens"] += tokens_in
        row["output_tokens"] += tokens_out
        row["cost"] += cost
        _add(by_status, status, count)
    for label, tool, is_error, count in groups.tool_calls:
        row = at(label)
        row["tool_calls"] += count
        row["tool_call_errors"] += count if is_error else 0
        _add(by_tool, tool, count)
        by_error["error" if is_error else "ok"] += count
    rows = [series[key] for key in sorted(series)]
    return {
        "agent_name": query.agent_name,
        "user_id": query.user_id,
        "since": None if query.since is None else isoformat(query.since),
        "until": None if query.until is None else isoformat(query.until),
        "bucket": query.bucket,
        "threads": sum(row["threads"] for row in rows),
        "messages": sum(row["messages"] for row in rows),
        "messages_by_role": dict(sorted(by_role.items())),
        "feedback": sum(row["feedback"] for row in rows),
        "feedback_mean_rating": rating_sum / rated if rated else None,
        "runs": sum(row["runs"] for row in rows),
        "runs_by_status": dict(sorted(by_status.items())),
        "tool_calls": sum(row["tool_calls"] for row in rows),
        "tool_calls_by_tool": dict(sorted(by_tool.items())),
        "tool_calls_by_error": by_error,
        "input_tokens": sum(row["input_tokens"] for row in rows),
        "output_tokens": sum(row["output_tokens"] for row in rows),
        "cost": sum(row["cost"] for row in rows),
        "series": rows if query.bucket is not None else [],
    }
