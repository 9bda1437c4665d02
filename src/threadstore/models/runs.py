"""Agent runs (invocation logs), their tool calls, log analyses and optimization runs.

Runs and tool calls need no thread row (a platform logs whatever thread id it
was given, like checkpoints); each carries the ``user_id`` that owns it: the
thread's owner when the thread exists, else the user given (None: nobody's).
A ``for_user`` view sees exactly the rows of its user, and a user export
selects them by that column (``info["owner"]``). Log analyses and optimization
runs are per agent, not per user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from threadstore.models.base import Base
from threadstore.types import Identifier, JSONDocument

__all__ = [
    "APPROVAL_STATES",
    "RUN_STATUSES",
    "InvocationLog",
    "LogAnalysis",
    "OptimizationRun",
    "ToolCall",
]

RUN_STATUSES = ("ok", "error", "suspended", "running", "cancelled")
"""Statuses of a run: Agentomatic's ``ok``/``error``/``suspended``, plus two more."""

APPROVAL_STATES = ("pending", "approved", "denied")
"""Approval states of a tool call; None means no approval was involved."""

_RUNS_BY_AGENT = "ix_threadstore_invocation_logs_agent_time"  # the full name is > 63 bytes
_RUNS_BY_AGENT_SQLITE = f"{_RUNS_BY_AGENT}_totals"  # its own name: other columns
_RUN_KEYS = ("agent_name", "timestamp", "id")
_RUN_TOTALS = ["status", "input_tokens", "output_tokens", "cost"]
_CALL_KEYS = ("agent_name", "created_at", "id")
_CALL_GROUPS = ["tool_name", "is_error"]


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class InvocationLog(Base):
    """One run of an agent (or plugin, pipeline, ...): Agentomatic's invocation log."""

    __tablename__ = "threadstore_invocation_logs"

    id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    agent_name: Mapped[str] = mapped_column(Identifier)
    resource_type: Mapped[str] = mapped_column(Identifier)
    user_id: Mapped[str | None] = mapped_column(Identifier)
    thread_id: Mapped[str | None] = mapped_column(Identifier)
    run_id: Mapped[str | None] = mapped_column(Identifier)
    endpoint: Mapped[str] = mapped_column(Identifier)
    input: Mapped[dict[str, Any]]
    output: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Identifier)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    input_tokens: Mapped[int | None] = mapped_column(BigInteger)
    output_tokens: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        CheckConstraint(
            "(duration_ms IS NULL OR duration_ms >= 0) AND (cost IS NULL OR cost >= 0)"
            " AND (input_tokens IS NULL OR input_tokens >= 0)"
            " AND (output_tokens IS NULL OR output_tokens >= 0)",
            name="non_negative",
        ),
        # list/count_invocation_logs: newest first by (timestamp, id) per agent and type,
        # per thread, per user (views) or unfiltered (and aggregate_stats' time range).
        Index(
            "ix_threadstore_invocation_logs_agent_resource_time",  # the full name is > 63 bytes
            "agent_name",
            "resource_type",
            "timestamp",
            "id",
        ),
        Index(None, "thread_id", "timestamp", "id"),
        Index(None, "user_id", "timestamp", "id"),
        Index(None, "run_id"),
        Index(None, "timestamp", "id"),
        # aggregate_stats per agent (and list_invocation_logs by agent alone): a range of
        # (agent_name, timestamp) with the totals in the index (0013). PostgreSQL INCLUDEs
        # them; SQLite, which has no INCLUDE, keys on them.
        Index(_RUNS_BY_AGENT, *_RUN_KEYS, postgresql_include=_RUN_TOTALS).ddl_if(
            dialect="postgresql"
        ),
        Index(_RUNS_BY_AGENT_SQLITE, *_RUN_KEYS, *_RUN_TOTALS).ddl_if(dialect="sqlite"),
        {"info": {"owner": "user_id"}},
    )


class ToolCall(Base):
    """One tool call of an agent, belonging to a run (``run_id``) and/or a thread."""

    __tablename__ = "threadstore_tool_calls"

    id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    tool_name: Mapped[str] = mapped_column(Identifier)
    agent_name: Mapped[str] = mapped_column(Identifier)
    user_id: Mapped[str | None] = mapped_column(Identifier)
    thread_id: Mapped[str | None] = mapped_column(Identifier)
    run_id: Mapped[str | None] = mapped_column(Identifier)
    # Any JSON value; the columns are NOT NULL, so None is stored as JSON null.
    input: Mapped[Any] = mapped_column(JSONDocument)
    output: Mapped[Any] = mapped_column(JSONDocument)
    is_error: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    approval: Mapped[str | None] = mapped_column(Identifier)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            f"approval IS NULL OR {_one_of('approval', APPROVAL_STATES)}", name="approval"
        ),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_non_negative"),
        # query_tool_calls: newest first by (created_at, id) under its leading filter.
        Index(None, "thread_id", "created_at", "id"),
        Index(None, "run_id", "created_at", "id"),
        # per agent, it also holds what aggregate_stats groups by (0013), as for runs
        Index(None, *_CALL_KEYS, postgresql_include=_CALL_GROUPS).ddl_if(dialect="postgresql"),
        Index(None, *_CALL_KEYS, *_CALL_GROUPS).ddl_if(dialect="sqlite"),
        Index(None, "tool_name", "created_at", "id"),
        Index(None, "user_id", "created_at", "id"),
        Index(None, "created_at", "id"),
        {"info": {"owner": "user_id"}},
    )


class LogAnalysis(Base):
    """An (LLM-made) analysis of an agent's recent invocation logs."""

    __tablename__ = "threadstore_log_analyses"

    id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    agent_name: Mapped[str] = mapped_column(Identifier)
    resource_type: Mapped[str] = mapped_column(Identifier)
    score: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Identifier)
    recommendations: Mapped[list[str]] = mapped_column(JSONDocument)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "ix_threadstore_log_analyses_agent_resource_time",  # the full name is > 63 bytes
            "agent_name",
            "resource_type",
            "created_at",
            "id",
        ),
        Index(None, "created_at", "id"),
    )


class OptimizationRun(Base):
    """An auditable prompt-optimization (retrain) run of an agent."""

    __tablename__ = "threadstore_optimization_runs"

    id: Mapped[str] = mapped_column(Identifier, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(Identifier)
    agent_name: Mapped[str] = mapped_column(Identifier)
    baseline_score: Mapped[float | None] = mapped_column(Float)
    best_score: Mapped[float | None] = mapped_column(Float)
    prompt_versions: Mapped[dict[str, Any]]
    score_history: Mapped[list[Any]] = mapped_column(JSONDocument)
    learnings: Mapped[list[Any]] = mapped_column(JSONDocument)
    artefacts: Mapped[dict[str, Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    created_at: Mapped[datetime]

    __table_args__ = (
        Index(None, "agent_name", "created_at", "id"),
        Index(None, "experiment_id", "created_at", "id"),
        Index(None, "created_at", "id"),
    )
