"""Agentomatic 1.16's run history (invocation logs, log analyses, optimization runs)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FakeClock
from threadstore import (
    BaseStore,
    DuplicateRecordError,
    PermissionDeniedError,
    ThreadNotFoundError,
    ValidationError,
)

# The keys of Agentomatic 1.16's records (agentomatic/storage/models.py to_dict()).
LOG_KEYS = {
    "id",
    "resource_type",
    "resource_name",
    "agent_name",
    "thread_id",
    "run_id",
    "timestamp",
    "endpoint",
    "input",
    "output",
    "metadata",
    "error",
    "duration_ms",
    "status",
}
ANALYSIS_KEYS = {
    "id",
    "resource_type",
    "resource_name",
    "agent_name",
    "score",
    "summary",
    "status",
    "recommendations",
    "metadata",
    "created_at",
}
OPTIMIZATION_KEYS = {
    "id",
    "experiment_id",
    "agent_name",
    "baseline_score",
    "best_score",
    "prompt_versions",
    "score_history",
    "learnings",
    "artefacts",
    "metadata",
    "created_at",
}


async def test_agentomatic_platform_calls_work_as_written(
    store: BaseStore, clock: FakeClock
) -> None:
    """Every call as Agentomatic's recorder, routers, analyser and optimization store make it."""
    # logs/recorder.py
    entry = await store.create_invocation_log(
        agent_name="travel",
        resource_type="agent",
        thread_id="t-unknown",
        run_id="run_1",
        endpoint="invoke",
        input_data={"query": "Lisbon?"},
        output_data={"answer": "Yes"},
        metadata={"pipeline": "p"},
        error=None,
        duration_ms=12.5,
        status="ok",
    )
    assert set(entry) >= LOG_KEYS
    assert entry["id"].startswith("invlog_")
    assert (entry["resource_name"], entry["input"], entry["output"]) == (
        "travel",
        {"query": "Lisbon?"},
        {"answer": "Yes"},
    )
    clock.advance()
    await store.create_invocation_log(
        agent_name="travel", endpoint="chat", status="error", error="boom", duration_ms=3
    )
    # core/router_factory.py GET /logs and GET /logs/{log_id}
    logs = await store.list_invocation_logs(
        agent_name="travel",
        resource_type="agent",
        thread_id=None,
        status=None,
        endpoint=None,
        limit=50,
        offset=0,
    )
    total = await store.count_invocation_logs(
        agent_name="travel", resource_type="agent", thread_id=None, status=None, endpoint=None
    )
    assert [log["endpoint"] for log in logs] == ["chat", "invoke"]
    assert total == 2
    assert await store.get_invocation_log(entry["id"]) == entry
    assert await store.get_invocation_log("invlog_missing") is None
    # logs/analyser.py
    sample = await store.list_invocation_logs(
        agent_name="travel", resource_type="agent", limit=20, offset=0
    )
    saved = await store.save_log_analysis(
        agent_name="travel",
        resource_type="agent",
        score=0.5,
        summary=f"Sampled {len(sample)} logs",
        status="degraded",
        recommendations=["Fix errors."],
        metadata={"sample_size": len(sample)},
    )
    assert set(saved) >= ANALYSIS_KEYS
    assert saved["id"].startswith("logan_")
    analysis = await store.get_latest_log_analysis("travel", resource_type="agent")
    assert analysis == saved
    assert await store.list_log_analyses(agent_name="travel") == [saved]
    # logs/optimization_store.py and GET /optimization-runs
    run = await store.create_optimization_run(
        experiment_id="exp-1",
        agent_name="travel",
        baseline_score=0.4,
        best_score=0.7,
        prompt_versions={"baseline": "a", "best": "b"},
        score_history=[0.4, 0.6, 0.7],
        learnings=["be brief"],
        artefacts={"n_trials": 3},
        metadata={"source": "prompt_fitter"},
    )
    assert set(run) >= OPTIMIZATION_KEYS
    assert run["id"].startswith("optrun_")
    assert await store.get_optimization_run(run["id"]) == run
    listed = await store.list_optimization_runs(
        agent_name="travel", experiment_id=None, limit=50, offset=0
    )
    assert listed == [run]
    for record in (entry, saved, run, *logs):
        json.dumps(record)


async def test_defaults_are_agentomatics(store: BaseStore) -> None:
    log = await store.create_invocation_log(agent_name="a")
    assert {k: log[k] for k in ("resource_type", "endpoint", "status", "input", "output")} == {
        "resource_type": "agent",
        "endpoint": "invoke",
        "status": "ok",
        "input": {},
        "output": {},
    }
    assert (log["thread_id"], log["run_id"], log["error"], log["duration_ms"]) == (None,) * 4
    assert (log["user_id"], log["input_tokens"], log["output_tokens"], log["cost"]) == (None,) * 4
    empty_type = await store.create_invocation_log(agent_name="a", resource_type="")
    assert empty_type["resource_type"] == "agent"
    analysis = await store.save_log_analysis(agent_name="a", score=None, summary="", status="x")
    assert (analysis["recommendations"], analysis["metadata"]) == ([], {})
    assert analysis["resource_type"] == "agent"
    run = await store.create_optimization_run(experiment_id="e", agent_name="a")
    assert [run[k] for k in ("prompt_versions", "score_history", "learnings", "artefacts")] == [
        {},
        [],
        [],
        {},
    ]


async def test_runs_list_newest_first_with_filters_and_pages(
    store: BaseStore, clock: FakeClock
) -> None:
    made = []
    for index, (agent, kind, status, endpoint) in enumerate(
        [
            ("a", "agent", "ok", "invoke"),
            ("a", "pipeline", "error", "run"),
            ("b", "agent", "suspended", "invoke"),
            ("a", "agent", "error", "chat"),
            ("a", "agent", "ok", "invoke"),
        ]
    ):
        clock.advance(index % 2)  # some share a timestamp: ties go by id, descending
        made.append(
            await store.create_invocation_log(
                agent_name=agent,
                resource_type=kind,
                status=status,
                endpoint=endpoint,
                thread_id="t1" if index < 2 else None,
                log_id=f"log-{index}",
            )
        )
    order = sorted(made, key=lambda r: (r["timestamp"], r["id"]), reverse=True)
    assert await store.list_invocation_logs() == order
    assert await store.list_invocation_logs(limit=2, offset=1) == order[1:3]
    cases = [
        ({"agent_name": "a"}, lambda r: r["agent_name"] == "a"),
        ({"resource_type": "agent"}, lambda r: r["resource_type"] == "agent"),
        ({"status": "error"}, lambda r: r["status"] == "error"),
        ({"endpoint": "invoke", "agent_name": "a"}, lambda r: r["id"] in {"log-0", "log-4"}),
        ({"thread_id": "t1"}, lambda r: r["thread_id"] == "t1"),
    ]
    for filters, keep in cases:
        expected = [r for r in order if keep(r)]
        assert await store.list_invocation_logs(**filters) == expected, filters
        assert await store.count_invocation_logs(**filters) == len(expected), filters


async def test_analyses_latest_and_listing(store: BaseStore, clock: FakeClock) -> None:
    first = await store.save_log_analysis(agent_name="a", score=1, summary="s1", status="healthy")
    clock.advance()
    other = await store.save_log_analysis(
        agent_name="a", resource_type="plugin", score=0.2, summary="s2", status="failing"
    )
    clock.advance()
    latest = await store.save_log_analysis(agent_name="a", score=0.5, summary="s3", status="ok")
    assert await store.get_latest_log_analysis("a") == latest
    assert await store.get_latest_log_analysis("a", resource_type="plugin") == other
    assert await store.get_latest_log_analysis("nobody") is None
    assert await store.list_log_analyses() == [latest, other, first]
    assert await store.list_log_analyses(resource_type="agent", limit=1, offset=1) == [first]
    assert first["score"] == 1.0


async def test_optimization_runs_by_agent_and_experiment(
    store: BaseStore, clock: FakeClock
) -> None:
    runs = []
    for index, (agent, experiment) in enumerate([("a", "e1"), ("b", "e1"), ("a", "e2")]):
        clock.advance()
        runs.append(
            await store.create_optimization_run(
                experiment_id=experiment, agent_name=agent, run_id=f"r{index}"
            )
        )
    assert await store.list_optimization_runs() == runs[::-1]
    assert await store.list_optimization_runs(agent_name="a") == [runs[2], runs[0]]
    assert await store.list_optimization_runs(experiment_id="e1", limit=1) == [runs[1]]
    assert await store.get_optimization_run("r1") == runs[1]


async def test_duplicate_ids_are_refused_and_nothing_changes(store: BaseStore) -> None:
    log = await store.create_invocation_log(agent_name="a", log_id="same")
    with pytest.raises(DuplicateRecordError, match="'same'"):
        await store.create_invocation_log(agent_name="b", log_id="same")
    await store.save_log_analysis(
        agent_name="a", score=None, summary="", status="s", analysis_id="x"
    )
    with pytest.raises(DuplicateRecordError):
        await store.save_log_analysis(
            agent_name="a", score=None, summary="", status="s", analysis_id="x"
        )
    await store.create_optimization_run(experiment_id="e", agent_name="a", run_id="o")
    with pytest.raises(DuplicateRecordError):
        await store.create_optimization_run(experiment_id="e", agent_name="a", run_id="o")
    assert await store.list_invocation_logs() == [log]


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "done"},
        {"duration_ms": -1},
        {"duration_ms": float("nan")},
        {"input_tokens": -5},
        {"output_tokens": 1.5},
        {"cost": -0.01},
        {"cost": True},
        {"input_data": {"when": object()}},
        {"input_data": ["not", "a", "dict"]},
        {"metadata": {"t": (1, 2)}},
        {"agent_name": ""},
        {"thread_id": "x" * 256},
        {"error": "nul\x00"},
        {"log_id": 7},
    ],
)
async def test_invalid_runs_are_refused_before_writing(
    store: BaseStore, bad: dict[str, object]
) -> None:
    arguments: dict[str, object] = {"agent_name": "a", **bad}
    with pytest.raises(ValidationError) as info:
        await store.create_invocation_log(**arguments)  # type: ignore[arg-type]
    assert info.value.suggestion
    assert await store.count_invocation_logs() == 0


async def test_invalid_analyses_and_optimization_runs_are_refused(store: BaseStore) -> None:
    for bad in (
        {"score": float("inf")},
        {"recommendations": ["ok", 3]},
        {"recommendations": "one string"},
        {"status": ""},
        {"summary": None},
    ):
        arguments: dict[str, object] = {"agent_name": "a", "score": 1, "summary": "", "status": "s"}
        with pytest.raises(ValidationError):
            await store.save_log_analysis(**{**arguments, **bad})  # type: ignore[arg-type]
    for bad in ({"best_score": "high"}, {"score_history": {"a": 1}}, {"artefacts": [1]}):
        with pytest.raises(ValidationError):
            await store.create_optimization_run(experiment_id="e", agent_name="a", **bad)  # type: ignore[arg-type]
    assert await store.list_log_analyses() == []
    assert await store.list_optimization_runs() == []
    assert await store.list_invocation_logs(status="finished") == []  # as in Agentomatic
    with pytest.raises(ValidationError):
        await store.list_invocation_logs(status="")
    with pytest.raises(ValidationError):
        await store.list_optimization_runs(limit=-1)


async def test_a_run_of_a_thread_belongs_to_the_threads_owner(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    run = await store.create_invocation_log(agent_name="helper", thread_id="t1")
    assert run["user_id"] == "alice"
    assert (await store.create_invocation_log(agent_name="h", user_id="bob"))["user_id"] == "bob"
    with pytest.raises(ValidationError, match="owner"):
        await store.create_invocation_log(agent_name="helper", thread_id="t1", user_id="bob")
    assert await store.count_invocation_logs(user_id="alice") == 1


async def test_runs_survive_their_threads_deletion(store: BaseStore) -> None:
    """Agentomatic keeps invocation logs when a thread is deleted; so does threadstore."""
    await store.create_thread("t1", "alice", "helper")
    run = await store.create_invocation_log(agent_name="helper", thread_id="t1")
    assert await store.delete_thread("t1") is True
    assert await store.get_invocation_log(run["id"]) == run
    assert await store.for_user("alice").get_invocation_log(run["id"]) == run


async def test_views_see_their_users_runs_only(store: BaseStore) -> None:
    await store.create_thread("a1", "alice", "helper")
    await store.create_thread("b1", "bob", "helper")
    alice_run = await store.create_invocation_log(agent_name="helper", thread_id="a1")
    await store.create_invocation_log(agent_name="helper", thread_id="b1")
    await store.create_invocation_log(agent_name="helper")  # nobody's
    alice = store.for_user("alice")
    assert await alice.list_invocation_logs() == [alice_run]
    assert await alice.count_invocation_logs() == 1
    own = await alice.create_invocation_log(agent_name="helper")
    assert own["user_id"] == "alice"
    with pytest.raises(ThreadNotFoundError):
        await alice.create_invocation_log(agent_name="helper", thread_id="b1")
    with pytest.raises(ThreadNotFoundError):
        await alice.create_invocation_log(agent_name="helper", thread_id="missing")
    with pytest.raises(PermissionDeniedError):
        await alice.create_invocation_log(agent_name="helper", user_id="bob")
    assert await store.count_invocation_logs() == 4
