"""A real StateGraph with a human-approval interrupt, suspended and resumed elsewhere."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langgraph.graph")

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from tests.conftest import StoreFactory
from threadstore import MemoryStore, SQLAlchemyStore, SyncStoreError
from threadstore.langgraph import ThreadstoreSaver

NUL_TEXT = "deploy\x00now \u00e9\U0001f680"


class Approval(TypedDict, total=False):
    request: str
    checks: Annotated[list[str], operator.add]
    payload: bytes
    approved: bool
    result: str


def _plan(state: Approval) -> dict[str, Any]:
    return {"request": state["request"] + "!", "payload": b"\x00\xffbinary"}


def _check_a(state: Approval) -> dict[str, Any]:
    return {"checks": ["a:" + state["request"]]}


def _check_b(state: Approval) -> dict[str, Any]:
    return {"checks": ["b:" + state["request"]]}


def _approve(state: Approval) -> dict[str, Any]:
    decision = interrupt({"question": "Approve?", "request": state["request"]})
    return {"approved": decision == "yes"}


def _act(state: Approval) -> dict[str, Any]:
    return {"result": ("done: " if state["approved"] else "rejected: ") + state["request"]}


def build_graph() -> StateGraph[Approval]:
    """plan -> (check_a || check_b) -> approve (interrupt) -> act."""
    builder = StateGraph(Approval)
    builder.add_node("plan", _plan)
    builder.add_node("check_a", _check_a)
    builder.add_node("check_b", _check_b)
    builder.add_node("approve", _approve)
    builder.add_node("act", _act)
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "check_a")
    builder.add_edge("plan", "check_b")
    builder.add_edge(["check_a", "check_b"], "approve")
    builder.add_edge("approve", "act")
    builder.add_edge("act", END)
    return builder


async def _suspend(saver: ThreadstoreSaver, thread_id: str) -> None:
    graph = build_graph().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread_id}}
    first = await graph.ainvoke({"request": NUL_TEXT}, config)
    assert first["__interrupt__"][0].value == {"question": "Approve?", "request": NUL_TEXT + "!"}
    state = await graph.aget_state(config)
    assert state.next == ("approve",)
    assert state.values["payload"] == b"\x00\xffbinary"
    assert sorted(state.values["checks"]) == [f"a:{NUL_TEXT}!", f"b:{NUL_TEXT}!"]


async def _resume(saver: ThreadstoreSaver, thread_id: str) -> None:
    graph = build_graph().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread_id}}
    state = await graph.aget_state(config)
    assert state.next == ("approve",)
    assert state.tasks[0].interrupts[0].value["request"] == NUL_TEXT + "!"
    final = await graph.ainvoke(Command(resume="yes"), config)
    assert final["result"] == f"done: {NUL_TEXT}!"
    assert final["approved"] is True
    state = await graph.aget_state(config)
    assert state.next == ()
    history = [snapshot async for snapshot in graph.aget_state_history(config)]
    assert len(history) >= 5
    assert history[0].values["result"] == final["result"]


async def test_interrupt_resume_from_new_saver_sql(db_url: str) -> None:
    store = SQLAlchemyStore(db_url)
    await store.initialize()
    try:
        await _suspend(ThreadstoreSaver(store), "approval-1")
    finally:
        await store.close()

    other = SQLAlchemyStore(db_url)
    await other.initialize()
    try:
        await _resume(ThreadstoreSaver(other), "approval-1")
        checkpoints = await other.list_checkpoints("approval-1", "")
        assert checkpoints
        assert checkpoints[0]["metadata"]["source"] == "loop"
    finally:
        await other.close()


async def test_interrupt_resume_from_new_saver_memory() -> None:
    store = MemoryStore()
    await _suspend(ThreadstoreSaver(store), "approval-1")
    await _resume(ThreadstoreSaver(store), "approval-1")


async def test_sync_invoke_from_worker_thread(db_url: str) -> None:
    store = SQLAlchemyStore(db_url)
    await store.initialize()
    try:
        saver = ThreadstoreSaver(store)
        graph = build_graph().compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "sync-1"}}
        first = await asyncio.to_thread(graph.invoke, {"request": "sync"}, config)
        assert "__interrupt__" in first
        final = await asyncio.to_thread(graph.invoke, Command(resume="no"), config)
        assert final["result"] == "rejected: sync!"
        listed = await asyncio.to_thread(lambda: list(saver.list(config, limit=2)))
        assert len(listed) == 2
        with pytest.raises(SyncStoreError, match="running event loop"):
            saver.get_tuple(config)
    finally:
        await store.close()


def _saver_threads() -> int:
    return sum(t.name == "threadstore-ThreadstoreSaver" for t in threading.enumerate())


def test_sync_invoke_without_event_loop(store_factory: StoreFactory, backend: str) -> None:
    store = store_factory()
    asyncio.run(store.initialize())  # that loop is gone: the saver needs one of its own
    before = _saver_threads()
    saver = ThreadstoreSaver(store)
    try:
        graph = build_graph().compile(checkpointer=saver)
        config: Any = {"configurable": {"thread_id": "no-loop"}}
        assert "__interrupt__" in graph.invoke({"request": "x"}, config)
        assert graph.invoke(Command(resume="yes"), config)["result"] == "done: x!"
        assert len(list(saver.list(config, limit=3))) == 3
        # a MemoryStore never waits: its calls run in this thread, no loop thread starts
        assert _saver_threads() == before + (backend != "memory")
    finally:
        saver.close()
        asyncio.run(store.close())
    assert _saver_threads() == before
