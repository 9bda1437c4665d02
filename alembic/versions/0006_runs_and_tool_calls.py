"""agent runs (invocation logs), tool calls, log analyses and optimization runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Schema change:
    Four new tables; no existing table changes.

    ``threadstore_invocation_logs``: one row per run of an agent (Agentomatic
    1.16's invocation log) with token usage (``input_tokens``,
    ``output_tokens``), ``cost`` and the owning ``user_id``; ``thread_id`` and
    ``run_id`` are plain columns (a run may name a thread that was never
    created). CHECKs: ``status`` is one of ok/error/suspended/running/cancelled,
    durations, tokens and cost are non-negative.

    ``threadstore_tool_calls``: one row per tool call (tool name, JSON input
    and output, ``is_error``, ``approval`` pending/approved/denied or NULL,
    duration) belonging to a run (``run_id``) and/or a thread, with its
    ``user_id``.

    ``threadstore_log_analyses`` and ``threadstore_optimization_runs``:
    Agentomatic's per-agent analysis and optimization history.

    Every listing is newest first by ``(timestamp|created_at, id)``, so each
    filter gets an index ending with that order (thread-scoped ones lead with
    ``thread_id``). New, empty tables: nothing is rewritten or locked for long.

Downgrade notes:
    Drops the four tables: every stored run, tool call, analysis and
    optimization run is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUN_STATUS = "status IN ('ok', 'error', 'suspended', 'running', 'cancelled')"
_NON_NEGATIVE = (
    "(duration_ms IS NULL OR duration_ms >= 0) AND (cost IS NULL OR cost >= 0)"
    " AND (input_tokens IS NULL OR input_tokens >= 0)"
    " AND (output_tokens IS NULL OR output_tokens >= 0)"
)
_APPROVAL = "approval IS NULL OR approval IN ('pending', 'approved', 'denied')"


def _identifier() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, _identifier(), nullable=nullable)


def _indexes(table: str, *groups: list[str], named: dict[str, list[str]] | None = None) -> None:
    for columns in groups:
        op.create_index(op.f("_".join(["ix", table, *columns])), table, columns)
    for name, columns in (named or {}).items():
        op.create_index(name, table, columns)


def upgrade() -> None:
    op.create_table(
        "threadstore_invocation_logs",
        _id("id"),
        _id("agent_name"),
        _id("resource_type"),
        _id("user_id", nullable=True),
        _id("thread_id", nullable=True),
        _id("run_id", nullable=True),
        _id("endpoint"),
        sa.Column("input", _json(), nullable=False),
        sa.Column("output", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _id("status"),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("timestamp", _timestamp(), nullable=False),
        sa.CheckConstraint(_RUN_STATUS, name=op.f("ck_threadstore_invocation_logs_status")),
        sa.CheckConstraint(_NON_NEGATIVE, name=op.f("ck_threadstore_invocation_logs_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_invocation_logs")),
    )
    _indexes(
        "threadstore_invocation_logs",
        ["thread_id", "timestamp", "id"],
        ["user_id", "timestamp", "id"],
        ["run_id"],
        ["timestamp", "id"],
        named={
            "ix_threadstore_invocation_logs_agent_resource_time": [
                "agent_name",
                "resource_type",
                "timestamp",
                "id",
            ]
        },
    )

    op.create_table(
        "threadstore_tool_calls",
        _id("id"),
        _id("tool_name"),
        _id("agent_name"),
        _id("user_id", nullable=True),
        _id("thread_id", nullable=True),
        _id("run_id", nullable=True),
        sa.Column("input", _json(), nullable=False),
        sa.Column("output", _json(), nullable=False),
        sa.Column("is_error", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _id("approval", nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.CheckConstraint(_APPROVAL, name=op.f("ck_threadstore_tool_calls_approval")),
        sa.CheckConstraint(
            "duration_ms IS NULL OR duration_ms >= 0",
            name=op.f("ck_threadstore_tool_calls_duration_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_tool_calls")),
    )
    _indexes(
        "threadstore_tool_calls",
        ["thread_id", "created_at", "id"],
        ["run_id", "created_at", "id"],
        ["agent_name", "created_at", "id"],
        ["tool_name", "created_at", "id"],
        ["user_id", "created_at", "id"],
        ["created_at", "id"],
    )

    op.create_table(
        "threadstore_log_analyses",
        _id("id"),
        _id("agent_name"),
        _id("resource_type"),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        _id("status"),
        sa.Column("recommendations", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_log_analyses")),
    )
    _indexes(
        "threadstore_log_analyses",
        ["created_at", "id"],
        named={
            "ix_threadstore_log_analyses_agent_resource_time": [
                "agent_name",
                "resource_type",
                "created_at",
                "id",
            ]
        },
    )

    op.create_table(
        "threadstore_optimization_runs",
        _id("id"),
        _id("experiment_id"),
        _id("agent_name"),
        sa.Column("baseline_score", sa.Float(), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("prompt_versions", _json(), nullable=False),
        sa.Column("score_history", _json(), nullable=False),
        sa.Column("learnings", _json(), nullable=False),
        sa.Column("artefacts", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threadstore_optimization_runs")),
    )
    _indexes(
        "threadstore_optimization_runs",
        ["agent_name", "created_at", "id"],
        ["experiment_id", "created_at", "id"],
        ["created_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("threadstore_optimization_runs")
    op.drop_table("threadstore_log_analyses")
    op.drop_table("threadstore_tool_calls")
    op.drop_table("threadstore_invocation_logs")
