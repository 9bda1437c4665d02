"""Run and tool-call listings are one statement each, read through the index of their filter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import FakeClock
from tests.statements import recorded
from threadstore import BaseStore, SQLAlchemyStore

Call = Callable[[BaseStore], Awaitable[Any]]

CASES: list[tuple[str, Call, str]] = [
    (
        "calls of a thread",
        lambda s: s.query_tool_calls(thread_id="t1"),
        "ix_threadstore_tool_calls_thread_id_created_at_id",
    ),
    (
        "failed calls of a tool",
        lambda s: s.query_tool_calls(tool_name="bash", is_error=True),
        "ix_threadstore_tool_calls_tool_name_created_at_id",
    ),
    (
        "calls of an agent",
        lambda s: s.query_tool_calls(agent_name="a1", limit=5),
        "ix_threadstore_tool_calls_agent_name_created_at_id",
    ),
    (
        "calls of a run",
        lambda s: s.query_tool_calls(run_id="r1"),
        "ix_threadstore_tool_calls_run_id_created_at_id",
    ),
    (
        "a user's calls",
        lambda s: s.for_user("alice").query_tool_calls(),
        "ix_threadstore_tool_calls_user_id_created_at_id",
    ),
    (
        "newest calls",
        lambda s: s.query_tool_calls(limit=10),
        "ix_threadstore_tool_calls_created_at_id",
    ),
    (
        "runs of an agent",
        lambda s: s.list_invocation_logs(agent_name="a1", resource_type="agent"),
        # either agent index serves it; at this size the planner may take the newest-first
        # (agent_name, timestamp, id) one of revision 0013 and filter the type there
        "ix_threadstore_invocation_logs_agent_",
    ),
    (
        "runs of a thread",
        lambda s: s.list_invocation_logs(thread_id="t1"),
        "ix_threadstore_invocation_logs_thread_id_timestamp_id",
    ),
    (
        "a user's runs",
        lambda s: s.for_user("alice").list_invocation_logs(),
        "ix_threadstore_invocation_logs_user_id_timestamp_id",
    ),
    (
        "an agent's analyses",
        lambda s: s.get_latest_log_analysis("a1"),
        "ix_threadstore_log_analyses_agent_resource_time",
    ),
    (
        "an experiment's optimization runs",
        lambda s: s.list_optimization_runs(experiment_id="e1"),
        "ix_threadstore_optimization_runs_experiment_id_created_at_id",
    ),
]


async def _fill(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "a1")
    await store.create_thread("t2", "bob", "a2")
    for n in range(40):
        clock.advance()
        thread = ("t1", "t2", None)[n % 3]
        agent = f"a{n % 4}"
        await store.create_invocation_log(agent_name=agent, thread_id=thread, run_id=f"r{n % 5}")
        await store.record_tool_call(
            tool_name=("bash", "search")[n % 2],
            agent_name=agent,
            thread_id=thread,
            run_id=f"r{n % 5}",
            is_error=n % 3 == 0,
        )
        if n % 10 == 0:
            await store.save_log_analysis(agent_name=agent, score=None, summary="", status="ok")
            await store.create_optimization_run(experiment_id=f"e{n % 3}", agent_name=agent)


async def _plan(conn: AsyncConnection, sql_backend: str, statement: str, params: Any) -> str:
    """The plan of a recorded statement (PostgreSQL: with sequential scans discouraged)."""
    if sql_backend == "postgres":
        await conn.exec_driver_sql("SET enable_seqscan = off")
        result = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
        return "\n".join(str(row[0]) for row in result)
    result = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
    return "\n".join(str(row[-1]) for row in result)


@pytest.fixture
async def store(db_url: str, clock: FakeClock) -> AsyncIterator[SQLAlchemyStore]:
    async with SQLAlchemyStore(db_url, clock=clock) as opened:
        await _fill(opened, clock)
        yield opened


@pytest.mark.parametrize(("name", "call", "index"), CASES, ids=[c[0] for c in CASES])
async def test_listing_is_one_statement_on_its_index(
    store: SQLAlchemyStore, sql_backend: str, name: str, call: Call, index: str
) -> None:
    with recorded(store) as statements:
        await call(store)
    assert len(statements) == 1, name
    ((statement, params),) = statements
    async with store.engine.connect() as conn:
        text = await _plan(conn, sql_backend, statement, params)
    assert index in text, text
    assert "Seq Scan" not in text
    assert "TEMP B-TREE" not in text  # SQLite sorts by the index, not afterwards


_SCAN = "Index Only Scan using "
COVERING = {
    "postgres": {
        "threadstore_invocation_logs": _SCAN + "ix_threadstore_invocation_logs_agent_time",
        "threadstore_tool_calls": _SCAN + "ix_threadstore_tool_calls_agent_name_created_at_id",
    },
    "sqlite": {
        "threadstore_invocation_logs": "COVERING INDEX "
        "ix_threadstore_invocation_logs_agent_time_totals",
        "threadstore_tool_calls": "COVERING INDEX "
        "ix_threadstore_tool_calls_agent_name_created_at_id_tool_name_is_error",
    },
}


async def test_an_agents_aggregate_counts_runs_and_calls_from_indexes_alone(
    store: SQLAlchemyStore, sql_backend: str, clock: FakeClock
) -> None:
    """aggregate_stats(agent_name=, since=) reads no run or tool-call row (revision 0013)."""
    with recorded(store) as statements:
        stats = await store.aggregate_stats(agent_name="a1", since=clock.now - timedelta(days=1))
    assert stats["runs"] == 10
    async with store.engine.connect() as conn:
        if sql_backend == "postgres":
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE threadstore_invocation_logs")
            await auto.exec_driver_sql("VACUUM ANALYZE threadstore_tool_calls")
        for table, wanted in COVERING[sql_backend].items():
            (statement, params), *others = [s for s in statements if f"FROM {table}" in s[0]]
            assert not others, table
            plan = await _plan(conn, sql_backend, statement, params)
            assert wanted in plan, plan
