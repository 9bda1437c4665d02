"""aggregate_stats counts an agent's runs and tool calls from indexes alone

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Schema change:
    ``threadstore_invocation_logs``: a new index
    ``ix_threadstore_invocation_logs_agent_time`` on ``(agent_name,
    timestamp, id)`` holding ``status``, ``input_tokens``, ``output_tokens``
    and ``cost``. The agent's index of revision 0006 leads with
    ``resource_type`` after the agent, so a per-agent time range
    (``aggregate_stats(agent_name=...)``, ``list_invocation_logs`` by agent
    alone) read every run: a sequential scan. It now reads the range, and
    the totals from the index.

    ``threadstore_tool_calls``: revision 0006's ``(agent_name, created_at,
    id)`` index also holds ``tool_name`` and ``is_error``, so the per-agent
    count by tool and error state reads the index alone.

    PostgreSQL: ``INCLUDE`` columns (payload no plan ranges over); the tool
    calls' index keeps its name. SQLite, which has no INCLUDE, gets them as
    trailing key columns, under names of their own (the model comparison
    matches indexes by name): ``ix_threadstore_invocation_logs_agent_time_totals``
    and ``ix_threadstore_tool_calls_agent_name_created_at_id_tool_name_is_error``.

    Measured at a million messages (bench/bench_queries.py's data: 54,000
    runs and 101,000 tool calls), PostgreSQL 15: a 30-day
    ``aggregate_stats`` of one agent from 25 to 12 ms, per day from 31 to
    23 ms.

    Cost: building two indexes; ``CREATE INDEX`` blocks writes to each table
    while it runs (seconds per million rows). Run it as a deploy step.

Downgrade notes:
    Drops the new runs index and rebuilds revision 0006's tool-call index;
    no row is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNS = "threadstore_invocation_logs"
_RUNS_INDEX = "ix_threadstore_invocation_logs_agent_time"
_RUN_KEYS = ["agent_name", "timestamp", "id"]
_RUN_TOTALS = ["status", "input_tokens", "output_tokens", "cost"]
_CALLS = "threadstore_tool_calls"
_CALL_KEYS = ["agent_name", "created_at", "id"]
_CALL_GROUPS = ["tool_name", "is_error"]


def _name(table: str, columns: list[str]) -> str:
    return "_".join(["ix", table, *columns])


def _runs_index(dialect: str) -> str:
    return _RUNS_INDEX if dialect == "postgresql" else f"{_RUNS_INDEX}_totals"


def _covering(
    dialect: str, keys: list[str], payload: list[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """Columns and options of an index holding ``payload`` too."""
    if dialect == "postgresql":
        return keys, {"postgresql_include": payload}
    return [*keys, *payload], {}


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    columns, options = _covering(dialect, _RUN_KEYS, _RUN_TOTALS)
    op.create_index(_runs_index(dialect), _RUNS, columns, **options)
    columns, options = _covering(dialect, _CALL_KEYS, _CALL_GROUPS)
    op.drop_index(op.f(_name(_CALLS, _CALL_KEYS)), table_name=_CALLS)
    op.create_index(op.f(_name(_CALLS, columns)), _CALLS, columns, **options)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    columns, _ = _covering(dialect, _CALL_KEYS, _CALL_GROUPS)
    op.drop_index(op.f(_name(_CALLS, columns)), table_name=_CALLS)
    op.create_index(op.f(_name(_CALLS, _CALL_KEYS)), _CALLS, _CALL_KEYS)
    op.drop_index(_runs_index(dialect), table_name=_RUNS)
