"""Tool calls as records: record_tool_call and query_tool_calls (KODE's queryToolCalls)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FakeClock
from threadstore import (
    BaseStore,
    DuplicateRecordError,
    MemoryStore,
    ThreadNotFoundError,
    ValidationError,
)
from threadstore.records import ToolCallRecord

TOOL_CALL_KEYS = {
    "id",
    "tool_name",
    "agent_name",
    "user_id",
    "thread_id",
    "run_id",
    "input",
    "output",
    "is_error",
    "error",
    "approval",
    "duration_ms",
    "metadata",
    "created_at",
}

# (tool, agent, thread, run, is_error, approval)
CALLS = [
    ("bash_run", "coder", "t1", "run-1", False, None),
    ("bash_run", "coder", "t1", "run-1", True, None),
    ("search", "coder", None, "run-2", False, "approved"),
    ("bash_run", "helper", "t2", None, True, "denied"),
    ("refund", "helper", "t2", None, False, "pending"),
    ("search", "helper", None, None, False, None),
]


async def _record_all(store: BaseStore, clock: FakeClock) -> list[ToolCallRecord]:
    await store.create_thread("t1", "alice", "coder")
    await store.create_thread("t2", "bob", "helper")
    made = []
    for index, (tool, agent, thread, run, is_error, approval) in enumerate(CALLS):
        clock.advance(index % 2 * 60)  # pairs share a timestamp: ties go by id
        made.append(
            await store.record_tool_call(
                tool_name=tool,
                agent_name=agent,
                input={"cmd": f"step {index}"},
                output="failed" if is_error else {"rows": [index]},
                is_error=is_error,
                error="exit 1" if is_error else None,
                approval=approval,
                duration_ms=index * 1.5,
                thread_id=thread,
                run_id=run,
                tool_call_id=f"call-{index}",
            )
        )
    return made


def _newest(records: list[ToolCallRecord]) -> list[ToolCallRecord]:
    return sorted(records, key=lambda r: (r["created_at"], r["id"]), reverse=True)


async def test_a_recorded_call_reads_back_whole(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "coder")
    call = await store.record_tool_call(
        tool_name="bash_run",
        agent_name="coder",
        input={"cmd": "ls", "args": [1, 2.5, None]},
        output=["a", "b"],
        thread_id="t1",
        run_id="run-1",
        duration_ms=7,
        metadata={"model": "m"},
    )
    assert set(call) == TOOL_CALL_KEYS
    assert call["id"].startswith("toolcall_")
    assert (call["user_id"], call["is_error"], call["approval"], call["duration_ms"]) == (
        "alice",
        False,
        None,
        7.0,
    )
    assert await store.query_tool_calls() == [call]
    json.dumps(call)
    bare = await store.record_tool_call(tool_name="noop", agent_name="coder")
    assert (bare["input"], bare["output"], bare["thread_id"], bare["user_id"]) == (None,) * 4


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({}, lambda c: True),
        ({"tool_name": "bash_run", "is_error": True}, lambda c: c[0] == "bash_run" and c[4]),
        ({"is_error": False}, lambda c: not c[4]),
        ({"agent_name": "helper"}, lambda c: c[1] == "helper"),
        ({"has_approval": True}, lambda c: c[5] is not None),
        ({"has_approval": False}, lambda c: c[5] is None),
        ({"approval": "denied"}, lambda c: c[5] == "denied"),
        ({"thread_id": "t1"}, lambda c: c[2] == "t1"),
        ({"run_id": "run-2"}, lambda c: c[3] == "run-2"),
        ({"user_id": "bob"}, lambda c: c[2] == "t2"),
        ({"agent_name": "coder", "has_approval": True}, lambda c: c[1] == "coder" and c[5]),
    ],
)
async def test_query_filters_are_anded_newest_first(
    store: BaseStore, clock: FakeClock, filters: dict[str, Any], keep: Any
) -> None:
    made = await _record_all(store, clock)
    expected = _newest([record for record, call in zip(made, CALLS, strict=True) if keep(call)])
    assert await store.query_tool_calls(**filters) == expected


async def test_time_bounds_are_exclusive_and_pages_follow_the_order(
    store: BaseStore, clock: FakeClock
) -> None:
    made = await _record_all(store, clock)
    stamps = sorted({record["created_at"] for record in made})
    middle = datetime.fromisoformat(stamps[1])
    after = await store.query_tool_calls(created_after=middle)
    assert after == _newest([r for r in made if r["created_at"] > stamps[1]])
    before = await store.query_tool_calls(created_before=stamps[1])  # an ISO string works too
    assert before == _newest([r for r in made if r["created_at"] < stamps[1]])
    window = await store.query_tool_calls(
        created_after=middle - timedelta(microseconds=1), created_before=middle + timedelta(1)
    )
    assert {r["created_at"] for r in window} >= {stamps[1]}
    everything = _newest(made)
    assert await store.query_tool_calls(limit=2, offset=3) == everything[3:5]
    assert await store.query_tool_calls(limit=0) == []


async def test_deleting_a_thread_deletes_its_tool_calls_only(
    store: BaseStore, clock: FakeClock
) -> None:
    made = await _record_all(store, clock)
    run = await store.create_invocation_log(agent_name="helper", thread_id="t2")
    assert await store.delete_thread("t2") is True
    assert await store.query_tool_calls() == _newest([r for r in made if r["thread_id"] != "t2"])
    assert await store.get_invocation_log(run["id"]) == run  # runs are kept
    await store.record_tool_call(tool_name="x", agent_name="a", thread_id="never-created")
    assert await store.delete_thread("never-created") is False
    assert await store.query_tool_calls(thread_id="never-created") == []


async def test_views_see_and_write_their_users_tool_calls_only(
    store: BaseStore, clock: FakeClock
) -> None:
    made = await _record_all(store, clock)
    alice = store.for_user("alice")
    assert await alice.query_tool_calls() == _newest([r for r in made if r["thread_id"] == "t1"])
    assert await alice.query_tool_calls(thread_id="t2") == []
    assert await alice.query_tool_calls(user_id="bob") == []
    own = await alice.record_tool_call(tool_name="search", agent_name="coder")
    assert own["user_id"] == "alice"
    for thread_id in ("t2", "missing"):
        with pytest.raises(ThreadNotFoundError):
            await alice.record_tool_call(tool_name="x", agent_name="a", thread_id=thread_id)
    assert await alice.delete_thread("t2") is False
    assert len(await store.query_tool_calls()) == len(made) + 1


@pytest.mark.parametrize(
    "bad",
    [
        {"tool_name": ""},
        {"input": {1: "int key"}},
        {"output": float("nan")},
        {"input": (1, 2)},
        {"is_error": "yes"},
        {"approval": "maybe"},
        {"duration_ms": -0.5},
        {"metadata": ["x"]},
        {"tool_call_id": "x" * 256},
    ],
)
async def test_invalid_tool_calls_are_refused_before_writing(
    store: BaseStore, bad: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        await store.record_tool_call(**{"tool_name": "t", "agent_name": "a", **bad})
    assert info.value.suggestion
    assert await store.query_tool_calls() == []


async def test_query_arguments_are_checked(store: BaseStore) -> None:
    for bad in (
        {"is_error": 1},
        {"has_approval": "no"},
        {"created_after": datetime(2026, 1, 1)},  # naive
        {"created_before": "yesterday"},
        {"limit": -1},
        {"approval": "granted"},
    ):
        with pytest.raises(ValidationError):
            await store.query_tool_calls(**bad)


async def test_a_duplicate_tool_call_id_is_refused(store: BaseStore) -> None:
    first = await store.record_tool_call(tool_name="t", agent_name="a", tool_call_id="c1")
    with pytest.raises(DuplicateRecordError, match="'c1'"):
        await store.record_tool_call(tool_name="u", agent_name="a", tool_call_id="c1")
    assert await store.query_tool_calls() == [first]


async def _abort_after_writes(store: BaseStore) -> None:
    async with store.transaction() as tx:
        await tx.record_tool_call(tool_name="t", agent_name="a")
        await tx.create_invocation_log(agent_name="a")
        raise RuntimeError("abort")


async def test_a_failed_transaction_leaves_no_tool_call(store: BaseStore) -> None:
    with pytest.raises(RuntimeError):
        await _abort_after_writes(store)
    assert await store.query_tool_calls() == []
    assert await store.count_invocation_logs() == 0


async def test_memory_eviction_takes_the_threads_tool_calls_and_keeps_its_runs() -> None:
    store = MemoryStore(max_threads=1, clock=FakeClock())
    await store.create_thread("old", "alice", "helper")
    await store.record_tool_call(tool_name="t", agent_name="helper", thread_id="old")
    run = await store.create_invocation_log(agent_name="helper", thread_id="old")
    await store.create_thread("new", "alice", "helper")  # evicts "old"
    assert await store.get_thread("old") is None
    assert await store.query_tool_calls() == []
    assert await store.list_invocation_logs() == [run]
