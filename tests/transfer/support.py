"""A database built through every public store method, and a full-row comparison."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.pool import NullPool

from tests.conftest import FakeClock
from threadstore import SQLAlchemyStore
from threadstore.config import resolve_url
from threadstore.engine import create_engine
from threadstore.transfer.tables import primary_key, transfer_tables


async def populate(url: str, clock: FakeClock, *, prefix: str = "") -> None:
    """Fill the database at ``url`` with every kind of record threadstore keeps."""
    store = SQLAlchemyStore(url, clock=clock)
    await store.initialize()
    try:
        p = prefix
        await store.create_thread(
            f"{p}t1", "alice", "helper", title="First", metadata={"b": 1, "a": [1.5, None]}
        )
        clock.advance(0.000123)
        await store.add_message(f"{p}t1", "user", "hello \u00e9\u4e16", metadata={"k": "v"})
        clock.advance(1.5)
        await store.add_messages(
            f"{p}t1",
            [
                {"role": "assistant", "content": "hi"},
                {"role": "user", "content": "more", "metadata": {"n": 2}},
            ],
        )
        clock.advance(2)
        await store.create_thread(f"{p}t2", "bob", "helper", metadata={})
        await store.add_message(f"{p}t2", "user", "bob here")
        await store.update_thread(f"{p}t2", title="Renamed", metadata={"z": 1, "a": 2})
        # a fork whose id sorts before its parent's: the link must survive key order
        await store.fork_thread(f"{p}t1", 1, f"{p}a-fork", title="Fork")
        await store.add_message(f"{p}a-fork", "user", "forked")
        messages = await store.get_messages(f"{p}t1")
        await store.add_feedback(
            f"{p}t1", "alice", "helper", rating=4, comment="good", message_id=messages[1]["id"]
        )
        await store.add_feedback(f"{p}t2", "bob", "helper", rating=None, comment="meh")
        await store.save_suspended_state(
            f"{p}ap1", f"{p}t1", "helper", "review", {"draft": "x", "n": 1}, ttl=timedelta(hours=3)
        )
        await store.save_suspended_state(f"{p}ap2", f"{p}t2", "helper", "review", {}, ttl=60)
        await store.save_checkpoint(f"{p}t1", "", "c1", None, {"v": 1}, {"step": 1})
        await store.save_checkpoint(f"{p}t1", "", "c2", "c1", {"v": 2}, {"step": 2})
        await store.save_checkpoint(f"{p}ghost", "sub", "c1", None, {}, {})
        for user in (None, "alice", "bob"):
            await store.save_agent_permissions("poster", ["news"], user_id=user)
            await store.save_agent_topics("reader", ["news", "sports"], user_id=user)
            await store.save_context_item(
                f"{p}k",
                {"user": user, "x": [1, 2.25]},
                user_id=user,
                subscribers=["reader"],
                topics=["news"],
                ttl=3600.5,
                posted_by="poster",
            )
            await store.save_context_item(f"{p}plain", "text", user_id=user)
        await _runs(store, p, clock)
        await _langgraph(store, f"{p}lg")
        await _long_term_memory(store, p)
    finally:
        await store.close()


async def _runs(store: SQLAlchemyStore, p: str, clock: FakeClock) -> None:
    """Runs, tool calls, analyses and optimization runs (owned, thread-less, nobody's)."""
    run = await store.create_invocation_log(
        agent_name="helper",
        thread_id=f"{p}t1",
        run_id=f"{p}r1",
        input_data={"q": "hi \u00e9"},
        output_data={"a": [1, 2.5]},
        duration_ms=12.25,
        input_tokens=10,
        output_tokens=3,
        cost=0.000125,
        log_id=f"{p}run-1",
    )
    clock.advance(0.5)
    await store.create_invocation_log(
        agent_name="helper", user_id="bob", status="error", error="boom", log_id=f"{p}run-2"
    )
    await store.create_invocation_log(agent_name="cron", resource_type="plugin", log_id=f"{p}run-3")
    await store.record_tool_call(
        tool_name="search",
        agent_name="helper",
        thread_id=f"{p}t1",
        run_id=run["run_id"],
        input={"q": "x"},
        output=None,
        approval="approved",
        duration_ms=4,
        tool_call_id=f"{p}call-1",
    )
    await store.record_tool_call(
        tool_name="bash",
        agent_name="helper",
        user_id="bob",
        is_error=True,
        tool_call_id=f"{p}call-2",
    )
    await store.save_log_analysis(
        agent_name="helper", score=0.5, summary="ok", status="healthy", analysis_id=f"{p}an-1"
    )
    await store.create_optimization_run(
        experiment_id="e1", agent_name="helper", score_history=[0.1, 0.2], run_id=f"{p}opt-1"
    )


async def _langgraph(store: SQLAlchemyStore, thread_id: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    from threadstore.langgraph import ThreadstoreSaver

    saver = ThreadstoreSaver(store)
    config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    for step in range(3):
        checkpoint = empty_checkpoint()
        checkpoint["id"] = str(uuid6(clock_seq=-1))
        checkpoint["channel_values"] = {"blob": b"\x00\x01\xff" * step, "step": step}
        checkpoint["channel_versions"] = {"blob": step + 1, "step": step + 1}
        config = await saver.aput(config, checkpoint, {"source": "loop", "step": step}, {})
    await saver.aput_writes(config, [("blob", b"\x00pending"), ("step", 99)], "task-1")


async def _long_term_memory(store: SQLAlchemyStore, p: str) -> None:
    """LangGraph long-term memory items (with embeddings and a TTL) in three scopes."""
    from threadstore.langgraph import ThreadstoreLongTermStore

    index: Any = {"embed": lambda texts: [[float(len(t)), 0.5] for t in texts]}
    for scope in (store, store.for_user("alice"), store.for_user("bob")):
        memory = ThreadstoreLongTermStore(scope, index=index)
        await memory.aput(("memories", f"{p}m"), "fact", {"text": "likes tea", "n": 2.5})
        await memory.aput(("memories",), f"{p}short", {"text": "soon gone"}, ttl=90)
        memory.close()


async def dump_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every threadstore table, in primary-key order, as Python values."""
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            found = {}
            for table in transfer_tables():
                rows = await conn.execute(select(*table.c).order_by(*primary_key(table)))
                found[table.name] = [tuple(row) for row in rows]
            return found
    finally:
        await engine.dispose()
