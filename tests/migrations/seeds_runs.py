"""Seed data of revision 0006 (runs, tool calls, log analyses, optimization runs).

Written with plain SQL on 0006's tables; read back through the store at head.
``tests/migrations/seeds.py`` registers ``write`` and ``check`` under "0006".
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from threadstore import BaseStore

__all__ = ["check", "write"]

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)
_WHEN = datetime(2025, 7, 1, 8, 30, 0, 250000, tzinfo=UTC)
_ISO = "2025-07-01T08:30:00.250000+00:00"


def _table(name: str, *columns: tuple[str, sa.types.TypeEngine[object]]) -> sa.TableClause:
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns))


_S, _F, _I = sa.String(), sa.Float(), sa.BigInteger()
_logs = _table(
    "threadstore_invocation_logs",
    *[(c, _S) for c in ("id", "agent_name", "resource_type", "user_id", "thread_id", "run_id")],
    *[("endpoint", _S), ("input", _JSON), ("output", _JSON), ("metadata", _JSON)],
    *[("error", sa.Text()), ("status", _S), ("duration_ms", _F), ("input_tokens", _I)],
    *[("output_tokens", _I), ("cost", _F), ("timestamp", _TS)],
)
_calls = _table(
    "threadstore_tool_calls",
    *[(c, _S) for c in ("id", "tool_name", "agent_name", "user_id", "thread_id", "run_id")],
    *[("input", _JSON), ("output", _JSON), ("is_error", sa.Boolean()), ("error", sa.Text())],
    *[("approval", _S), ("duration_ms", _F), ("metadata", _JSON), ("created_at", _TS)],
)
_analyses = _table(
    "threadstore_log_analyses",
    *[(c, _S) for c in ("id", "agent_name", "resource_type")],
    *[("score", _F), ("summary", sa.Text()), ("status", _S), ("recommendations", _JSON)],
    *[("metadata", _JSON), ("created_at", _TS)],
)
_optimizations = _table(
    "threadstore_optimization_runs",
    *[(c, _S) for c in ("id", "experiment_id", "agent_name")],
    *[("baseline_score", _F), ("best_score", _F), ("prompt_versions", _JSON)],
    *[("score_history", _JSON), ("learnings", _JSON), ("artefacts", _JSON)],
    *[("metadata", _JSON), ("created_at", _TS)],
)

_RUN = {
    "id": "seed-run",
    "agent_name": "planner",
    "resource_type": "agent",
    "user_id": "alice",
    "thread_id": "seed-root",
    "run_id": "run-7",
    "endpoint": "chat",
    "input": {"query": "Lisbon in May?", "tags": ["ß"]},
    "output": {"answer": "Mild."},
    "metadata": {"pipeline": "trip"},
    "error": None,
    "status": "ok",
    "duration_ms": 1234.5,
    "input_tokens": 120,
    "output_tokens": 45,
    "cost": 0.0125,
    "timestamp": _WHEN,
}
_CALL = {
    "id": "seed-call",
    "tool_name": "weather",
    "agent_name": "planner",
    "user_id": "alice",
    "thread_id": "seed-root",
    "run_id": "run-7",
    "input": {"city": "Lisbon"},
    "output": "22°C",
    "is_error": False,
    "error": None,
    "approval": "approved",
    "duration_ms": 80.0,
    "metadata": {},
    "created_at": _WHEN,
}


def write(conn: Connection) -> None:
    """Rows of every 0006 table (one run of nobody's too)."""
    conn.execute(
        sa.insert(_logs),
        [
            _RUN,
            {
                **_RUN,
                "id": "seed-orphan-run",
                "user_id": None,
                "thread_id": None,
                "status": "error",
                "error": "boom",
                "cost": None,
            },
        ],
    )
    conn.execute(
        sa.insert(_calls),
        [
            _CALL,
            {
                **_CALL,
                "id": "seed-failed-call",
                "is_error": True,
                "error": "timeout",
                "approval": None,
                "output": None,
            },
        ],
    )
    conn.execute(
        sa.insert(_analyses),
        {
            "id": "seed-analysis",
            "agent_name": "planner",
            "resource_type": "agent",
            "score": 0.75,
            "summary": "Mostly fine.",
            "status": "healthy",
            "recommendations": ["Cache the weather."],
            "metadata": {"sample_size": 2},
            "created_at": _WHEN,
        },
    )
    conn.execute(
        sa.insert(_optimizations),
        {
            "id": "seed-opt",
            "experiment_id": "exp-1",
            "agent_name": "planner",
            "baseline_score": 0.5,
            "best_score": None,
            "prompt_versions": {"baseline": "v1"},
            "score_history": [0.5, 0.6],
            "learnings": ["shorter"],
            "artefacts": {"n_trials": 2},
            "metadata": {},
            "created_at": _WHEN,
        },
    )


async def check(store: BaseStore) -> None:
    """The rows read back through every reading method."""
    run = await store.get_invocation_log("seed-run")
    assert run is not None
    expected = {**_RUN, "timestamp": _ISO, "resource_name": "planner"}
    assert run == expected
    assert await store.count_invocation_logs(agent_name="planner") == 2
    assert [r["id"] for r in await store.for_user("alice").list_invocation_logs()] == ["seed-run"]
    calls = await store.query_tool_calls(thread_id="seed-root")
    assert [c["id"] for c in calls] == ["seed-failed-call", "seed-call"]
    assert calls[1] == {**_CALL, "created_at": _ISO}
    assert calls[0]["output"] is None
    analysis = await store.get_latest_log_analysis("planner")
    assert analysis is not None
    assert (analysis["score"], analysis["recommendations"]) == (0.75, ["Cache the weather."])
    optimization = await store.get_optimization_run("seed-opt")
    assert optimization is not None
    assert optimization["score_history"] == [0.5, 0.6]
    assert optimization["created_at"] == _ISO
    stats = await store.aggregate_stats(agent_name="planner", bucket="day")
    assert (stats["runs_by_status"], stats["tool_calls_by_error"]) == (
        {"error": 1, "ok": 1},
        {"error": 1, "ok": 1},
    )
    assert (stats["input_tokens"], stats["output_tokens"]) == (240, 90)
