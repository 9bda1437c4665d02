"""Validated arguments of the run, tool-call, analysis and aggregate methods.

As :mod:`threadstore.store.inputs` does for threads and messages: every check
runs before anything is written, and the backends receive the same values.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from threadstore.errors import PermissionDeniedError, ThreadNotFoundError, ValidationError
from threadstore.models.runs import RUN_STATUSES
from threadstore.records import ThreadRecord
from threadstore.validation import (
    check_id,
    check_int,
    check_optional_id,
    check_optional_text,
    check_text,
    json_copy,
    json_object_copy,
)

__all__ = [
    "AnalysisInput",
    "InvocationInput",
    "LogFilter",
    "OptimizationInput",
    "check_json",
    "check_number",
    "check_object",
    "check_time",
    "json_list",
    "new_id",
    "record_owner",
    "resource_type",
    "run_status",
]


def new_id(prefix: str, given: object, name: str) -> str:
    """The caller's id (checked), or a new random one with Agentomatic's prefix."""
    if given is None or given == "":
        return f"{prefix}_{uuid.uuid4().hex}"
    return check_id(name, given)


def resource_type(value: object) -> str:
    """A resource type; None or "" mean ``"agent"``, as in Agentomatic."""
    return "agent" if value is None or value == "" else check_id("resource_type", value)


def run_status(value: object) -> str:
    """A run's status: one of :data:`RUN_STATUSES`."""
    if value not in RUN_STATUSES:
        raise ValidationError(
            f"status must be one of {', '.join(RUN_STATUSES)}, got {value!r}",
            suggestion="Use 'ok' for a finished run, 'error' for a failed one, 'suspended' "
            "for one waiting for approval.",
        )
    return str(value)


def check_number(name: str, value: object, *, minimum: float | None = 0.0) -> float | None:
    """A finite number (int or float, not bool) or None, at least ``minimum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            f"{name} must be a number, got {type(value).__name__}",
            suggestion=f"Pass {name} as an int or float (or None).",
        )
    if not math.isfinite(value):
        raise ValidationError(f"{name} must be finite", suggestion=f"Pass a real {name}.")
    if minimum is not None and value < minimum:
        raise ValidationError(
            f"{name} must be >= {minimum:g}, got {value}",
            suggestion=f"Pass a non-negative {name}.",
        )
    return float(value)


def _tokens(name: str, value: object) -> int | None:
    return None if value is None else check_int(name, value, minimum=0)


def json_list(name: str, value: object, *, strings: bool = False) -> list[Any]:
    """A JSON list (None gives ``[]``), deep-copied; ``strings``: of str only."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(
            f"{name} must be a list, got {type(value).__name__}",
            suggestion=f"Pass {name} as a list of JSON values.",
        )
    copied: list[Any] = json_copy(name, value)
    if strings and not all(isinstance(item, str) for item in copied):
        raise ValidationError(f"{name} must hold strings only", suggestion="Pass a list of str.")
    return copied


def check_object(name: str, value: object) -> dict[str, Any]:
    """A JSON object (None gives ``{}``), deep-copied."""
    return json_object_copy(name, value)


def check_json(name: str, value: object) -> Any:
    """Any JSON value (checked), deep-copied."""
    return json_copy(name, value)


def check_time(name: str, value: object) -> datetime | None:
    """An aware datetime, or an ISO-8601 string with an offset; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"{name} is not an ISO-8601 timestamp: {value!r}",
                suggestion="Pass e.g. '2026-01-01T00:00:00+00:00' or an aware datetime.",
            ) from None
    if not isinstance(value, datetime):
        raise ValidationError(
            f"{name} must be a datetime or an ISO-8601 string, got {type(value).__name__}",
            suggestion="Pass an aware datetime, e.g. datetime.now(UTC) - timedelta(days=1).",
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"{name} is a naive datetime; threadstore compares aware UTC times only",
            suggestion="Attach a timezone, e.g. value.replace(tzinfo=UTC).",
        )
    return value


def record_owner(
    owner: str | None, thread: ThreadRecord | None, thread_id: str | None, user_id: str | None
) -> str | None:
    """The user a new run or tool call belongs to.

    ``thread`` is the thread as the unit sees it (None: missing or foreign).
    Through a view, the record is the view's user's, and ``thread_id`` must
    name one of that user's threads. Otherwise an existing thread's owner owns
    it (a different ``user_id`` is refused), else ``user_id`` (None: nobody).

    Raises:
        PermissionDeniedError: a view asked for another user's record.
        ThreadNotFoundError: a view named a thread that is not its user's.
        ValidationError: ``user_id`` is not the thread's owner.
    """
    if owner is not None:
        if user_id is not None and user_id != owner:
            raise PermissionDeniedError(
                f"a view of user {owner!r} cannot create records of user {user_id!r}",
                suggestion="Leave user_id out: a view's records are its user's.",
            )
        if thread_id is not None and thread is None:
            raise ThreadNotFoundError(thread_id)
        return owner
    if thread is None:
        return user_id
    if user_id is not None and user_id != thread["user_id"]:
        raise ValidationError(
            f"user_id {user_id!r} is not the owner of thread {thread['id']!r}",
            suggestion="Leave user_id out for a run of a thread: it belongs to the thread's owner.",
        )
    return thread["user_id"]


@dataclass(frozen=True, slots=True)
class InvocationInput:
    """Arguments of create_invocation_log."""

    log_id: str
    agent_name: str
    resource_type: str
    user_id: str | None
    thread_id: str | None
    run_id: str | None
    endpoint: str
    input: dict[str, Any]
    output: dict[str, Any]
    metadata: dict[str, Any]
    error: str | None
    duration_ms: float | None
    status: str
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None

    @classmethod
    def check(cls, **values: Any) -> InvocationInput:
        """Check every argument; ``input_data``/``output_data`` as Agentomatic names them."""
        status = run_status(values["status"])
        return cls(
            log_id=new_id("invlog", values["log_id"], "log_id"),
            agent_name=check_id("agent_name", values["agent_name"]),
            resource_type=resource_type(values["resource_type"]),
            user_id=check_optional_id("user_id", values["user_id"]),
            thread_id=check_optional_id("thread_id", values["thread_id"]),
            run_id=check_optional_id("run_id", values["run_id"]),
            endpoint=check_id("endpoint", values["endpoint"]),
            input=check_object("input_data", values["input_data"]),
            output=check_object("output_data", values["output_data"]),
            metadata=check_object("metadata", values["metadata"]),
            error=check_optional_text("error", values["error"]),
            duration_ms=check_number("duration_ms", values["duration_ms"]),
            status=status,
            input_tokens=_tokens("input_tokens", values["input_tokens"]),
            output_tokens=_tokens("output_tokens", values["output_tokens"]),
            cost=check_number("cost", values["cost"]),
        )

    def row(self, user_id: str | None, now: Any) -> dict[str, Any]:
        """The stored fields (column names), owned by ``user_id``, logged ``now``."""
        return {
            "id": self.log_id,
            "agent_name": self.agent_name,
            "resource_type": self.resource_type,
            "user_id": user_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "endpoint": self.endpoint,
            "input": self.input,
            "output": self.output,
            "metadata": self.metadata,
            "error": self.error,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "timestamp": now,
        }


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Filters of list/count_invocation_logs (None: any)."""

    agent_name: str | None
    resource_type: str | None
    thread_id: str | None
    status: str | None
    endpoint: str | None
    user_id: str | None

    @classmethod
    def check(cls, **values: Any) -> LogFilter:
        """Check the filters."""
        return cls(
            agent_name=check_optional_id("agent_name", values["agent_name"]),
            resource_type=check_optional_id("resource_type", values["resource_type"]),
            thread_id=check_optional_id("thread_id", values["thread_id"]),
            # any status filters (Agentomatic's routers pass the query string through):
            # one no run can have matches nothing, as there
            status=check_optional_id("status", values["status"]),
            endpoint=check_optional_id("endpoint", values["endpoint"]),
            user_id=check_optional_id("user_id", values["user_id"]),
        )


@dataclass(frozen=True, slots=True)
class AnalysisInput:
    """Arguments of save_log_analysis."""

    analysis_id: str
    agent_name: str
    resource_type: str
    score: float | None
    summary: str
    status: str
    recommendations: list[str]
    metadata: dict[str, Any]

    @classmethod
    def check(cls, **values: Any) -> AnalysisInput:
        """Check every argument."""
        return cls(
            analysis_id=new_id("logan", values["analysis_id"], "analysis_id"),
            agent_name=check_id("agent_name", values["agent_name"]),
            resource_type=resource_type(values["resource_type"]),
            score=check_number("score", values["score"], minimum=None),
            summary=check_text("summary", values["summary"]),
            status=check_id("status", values["status"]),
            recommendations=json_list("recommendations", values["recommendations"], strings=True),
            metadata=check_object("metadata", values["metadata"]),
        )


@dataclass(frozen=True, slots=True)
class OptimizationInput:
    """Arguments of create_optimization_run."""

    run_id: str
    experiment_id: str
    agent_name: str
    baseline_score: float | None
    best_score: float | None
    prompt_versions: dict[str, Any]
    score_history: list[Any]
    learnings: list[Any]
    artefacts: dict[str, Any]
    metadata: dict[str, Any]

    @classmethod
    def check(cls, **values: Any) -> OptimizationInput:
        """Check every argument."""
        return cls(
            run_id=new_id("optrun", values["run_id"], "run_id"),
            experiment_id=check_id("experiment_id", values["experiment_id"]),
            agent_name=check_id("agent_name", values["agent_name"]),
            baseline_score=check_number("baseline_score", values["baseline_score"], minimum=None),
            best_score=check_number("best_score", values["best_score"], minimum=None),
            prompt_versions=check_object("prompt_versions", values["prompt_versions"]),
            score_history=json_list("score_history", values["score_history"]),
            learnings=json_list("learnings", values["learnings"]),
            artefacts=check_object("artefacts", values["artefacts"]),
            metadata=check_object("metadata", values["metadata"]),
        )
