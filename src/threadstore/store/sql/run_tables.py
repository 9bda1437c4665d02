"""The run tables as Core handles, and their rows turned into records."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from threadstore.clock import isoformat, stamp
from threadstore.models import InvocationLog, LogAnalysis, OptimizationRun, ToolCall
from threadstore.records import (
    InvocationLogRecord,
    LogAnalysisRecord,
    OptimizationRunRecord,
    ToolCallRecord,
)
from threadstore.store.sql.tables import Row

__all__ = [
    "analysis_record",
    "invocation_logs",
    "log_analyses",
    "log_record",
    "optimization_record",
    "optimization_runs",
    "tool_call_record",
    "tool_calls",
]

invocation_logs = cast(Table, InvocationLog.__table__)
tool_calls = cast(Table, ToolCall.__table__)
log_analyses = cast(Table, LogAnalysis.__table__)
optimization_runs = cast(Table, OptimizationRun.__table__)


def log_record(row: Row) -> InvocationLogRecord:
    """An invocation-log row (or its inserted values) as a record."""
    return {
        "id": row["id"],
        "resource_type": row["resource_type"],
        "resource_name": row["agent_name"],
        "agent_name": row["agent_name"],
        "user_id": row["user_id"],
        "thread_id": row["thread_id"],
        "run_id": row["run_id"],
        "timestamp": stamp(row["timestamp"]),
        "endpoint": row["endpoint"],
        "input": row["input"],
        "output": row["output"],
        "metadata": row["metadata"],
        "error": row["error"],
        "duration_ms": row["duration_ms"],
        "status": row["status"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cost": row["cost"],
    }


def tool_call_record(row: Row) -> ToolCallRecord:
    """A tool-call row as a record."""
    return {
        "id": row["id"],
        "tool_name": row["tool_name"],
        "agent_name": row["agent_name"],
        "user_id": row["user_id"],
        "thread_id": row["thread_id"],
        "run_id": row["run_id"],
        "input": row["input"],
        "output": row["output"],
        "is_error": bool(row["is_error"]),
        "error": row["error"],
        "approval": row["approval"],
        "duration_ms": row["duration_ms"],
        "metadata": row["metadata"],
        "created_at": stamp(row["created_at"]),
    }


def analysis_record(row: Row) -> LogAnalysisRecord:
    """A log-analysis row as a record."""
    return {
        "id": row["id"],
        "resource_type": row["resource_type"],
        "resource_name": row["agent_name"],
        "agent_name": row["agent_name"],
        "score": row["score"],
        "summary": row["summary"],
        "status": row["status"],
        "recommendations": row["recommendations"],
        "metadata": row["metadata"],
        "created_at": isoformat(row["created_at"]),
    }


def optimization_record(row: Row) -> OptimizationRunRecord:
    """An optimization-run row as a record."""
    return {
        "id": row["id"],
        "experiment_id": row["experiment_id"],
        "agent_name": row["agent_name"],
        "baseline_score": row["baseline_score"],
        "best_score": row["best_score"],
        "prompt_versions": row["prompt_versions"],
        "score_history": row["score_history"],
        "learnings": row["learnings"],
        "artefacts": row["artefacts"],
        "metadata": row["metadata"],
        "created_at": isoformat(row["created_at"]),
    }
