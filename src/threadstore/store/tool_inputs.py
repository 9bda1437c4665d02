"""Validated arguments of record_tool_call, query_tool_calls and aggregate_stats.

As :mod:`threadstore.store.run_inputs` does for runs: every check runs before
anything is written, and the backends receive the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from threadstore.errors import ValidationError
from threadstore.models.runs import APPROVAL_STATES
from threadstore.store.run_inputs import (
    check_json,
    check_number,
    check_object,
    check_time,
    new_id,
)
from threadstore.validation import check_id, check_limit, check_optional_id, check_optional_text

__all__ = ["BUCKETS", "StatsQuery", "ToolCallInput", "ToolCallQuery"]

BUCKETS = ("day", "hour")
"""The time-series buckets of ``aggregate_stats``."""


def _approval(value: object, *, name: str = "approval") -> str | None:
    if value is None:
        return None
    if value not in APPROVAL_STATES:
        raise ValidationError(
            f"{name} must be None or one of {', '.join(APPROVAL_STATES)}, got {value!r}",
            suggestion="Pass None for a call that needed no approval.",
        )
    return str(value)


def _flag(name: str, value: object, *, optional: bool) -> bool | None:
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise ValidationError(
            f"{name} must be a bool, got {type(value).__name__}",
            suggestion=f"Pass {name}=True or {name}=False.",
        )
    return value


@dataclass(frozen=True, slots=True)
class ToolCallInput:
    """Arguments of record_tool_call."""

    tool_call_id: str
    tool_name: str
    agent_name: str
    user_id: str | None
    thread_id: str | None
    run_id: str | None
    input: Any
    output: Any
    is_error: bool
    error: str | None
    approval: str | None
    duration_ms: float | None
    metadata: dict[str, Any]

    @classmethod
    def check(cls, **values: Any) -> ToolCallInput:
        """Check every argument."""
        return cls(
            tool_call_id=new_id("toolcall", values["tool_call_id"], "tool_call_id"),
            tool_name=check_id("tool_name", values["tool_name"]),
            agent_name=check_id("agent_name", values["agent_name"]),
            user_id=check_optional_id("user_id", values["user_id"]),
            thread_id=check_optional_id("thread_id", values["thread_id"]),
            run_id=check_optional_id("run_id", values["run_id"]),
            input=check_json("input", values["input"]),
            output=check_json("output", values["output"]),
            is_error=bool(_flag("is_error", values["is_error"], optional=False)),
            error=check_optional_text("error", values["error"]),
            approval=_approval(values["approval"]),
            duration_ms=check_number("duration_ms", values["duration_ms"]),
            metadata=check_object("metadata", values["metadata"]),
        )

    def row(self, user_id: str | None, now: Any) -> dict[str, Any]:
        """The stored fields (column names), owned by ``user_id``, recorded ``now``."""
        return {
            "id": self.tool_call_id,
            "tool_name": self.tool_name,
            "agent_name": self.agent_name,
            "user_id": user_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "input": self.input,
            "output": self.output,
            "is_error": self.is_error,
            "error": self.error,
            "approval": self.approval,
            "duration_ms": self.duration_ms,
            "metadata": self.metadata,
            "created_at": now,
        }


@dataclass(frozen=True, slots=True)
class ToolCallQuery:
    """Filters and page of query_tool_calls, newest first by ``(created_at, id)``.

    Every listing orders by that pair, so a keyset cursor (the last row's
    ``(created_at, id)``) can bound a page later without changing the indexes.
    """

    agent_name: str | None
    tool_name: str | None
    is_error: bool | None
    has_approval: bool | None
    approval: str | None
    created_after: datetime | None
    created_before: datetime | None
    thread_id: str | None
    run_id: str | None
    user_id: str | None
    limit: int
    offset: int

    @classmethod
    def check(cls, **values: Any) -> ToolCallQuery:
        """Check the filters and the page."""
        return cls(
            agent_name=check_optional_id("agent_name", values["agent_name"]),
            tool_name=check_optional_id("tool_name", values["tool_name"]),
            is_error=_flag("is_error", values["is_error"], optional=True),
            has_approval=_flag("has_approval", values["has_approval"], optional=True),
            approval=_approval(values["approval"]),
            created_after=check_time("created_after", values["created_after"]),
            created_before=check_time("created_before", values["created_before"]),
            thread_id=check_optional_id("thread_id", values["thread_id"]),
            run_id=check_optional_id("run_id", values["run_id"]),
            user_id=check_optional_id("user_id", values["user_id"]),
            limit=check_limit("limit", values["limit"]),
            offset=check_limit("offset", values["offset"]),
        )


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """Arguments of aggregate_stats: filters, a time range [since, until) and a bucket."""

    agent_name: str | None
    user_id: str | None
    since: datetime | None
    until: datetime | None
    bucket: str | None

    @classmethod
    def check(cls, **values: Any) -> StatsQuery:
        """Check the arguments."""
        bucket = values["bucket"]
        if bucket is not None and bucket not in BUCKETS:
            raise ValidationError(
                f"bucket must be None, 'day' or 'hour', got {bucket!r}",
                suggestion="Pass bucket='day' (or 'hour') for a time series, None for totals.",
            )
        return cls(
            agent_name=check_optional_id("agent_name", values["agent_name"]),
            user_id=check_optional_id("user_id", values["user_id"]),
            since=check_time("since", values["since"]),
            until=check_time("until", values["until"]),
            bucket=bucket,
        )
