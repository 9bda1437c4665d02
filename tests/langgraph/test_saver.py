"""ThreadstoreSaver behaviour beyond the conformance suite, on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

pytest.importorskip("langgraph.checkpoint.base")

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.serde.types import INTERRUPT

from threadstore import BaseStore, SyncStoreError, ValidationError
from threadstore.langgraph import ThreadstoreSaver

NUL = "a\x00b\x00"


def _checkpoint(values: dict[str, Any] | None = None) -> Checkpoint:
    checkpoint = empty_checkpoint()
    checkpoint["id"] = str(uuid6(clock_seq=-1))
    checkpoint["channel_values"] = dict(values or {})
    checkpoint["channel_versions"] = {k: 1 for k in checkpoint["channel_values"]}
    return checkpoint


def _config(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> Any:
    configurable = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


async def _put_chain(saver: ThreadstoreSaver, thread_id: str, n: int, **metadata: Any) -> list[Any]:
    configs, parent = [], _config(thread_id)
    for step in range(n):
        stored = await saver.aput(
            parent, _checkpoint({"step": step}), {"source": "loop", "step": step, **metadata}, {}
        )
        configs.append(stored)
        parent = stored
    return configs


async def test_nul_strings_and_bytes_round_trip(saver: ThreadstoreSaver) -> None:
    values = {
        "text": NUL,
        "nested": {"k\x00": [NUL, b"\x00\x01", {NUL, 2}]},
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "message": HumanMessage(content=NUL, id="m1"),
        "bytes": b"\x00" * 3,
        "number": 1.5,
        "none": None,
    }
    stored = await saver.aput(_config("nul"), _checkpoint(values), {"source": "input"}, {})
    await saver.aput_writes(stored, [("text", NUL), ("blob", b"\x00")], "task-1")

    found = await saver.aget_tuple(stored)
    assert found is not None
    assert found.checkpoint["channel_values"] == values
    assert found.pending_writes == [("task-1", "text", NUL), ("task-1", "blob", b"\x00")]


async def test_metadata_nul_strings_are_stripped_everywhere(saver: ThreadstoreSaver) -> None:
    metadata: Any = {"source": "input", "note": "x\x00y", "deep": {"n": ["p\x00q"]}}
    stored = await saver.aput(_config("meta"), _checkpoint(), metadata, {})
    found = await saver.aget_tuple(stored)
    assert found is not None
    assert found.metadata["note"] == "xy"
    assert found.metadata["deep"] == {"n": ["pq"]}


async def test_new_versions_without_values_are_not_errors(saver: ThreadstoreSaver) -> None:
    checkpoint = _checkpoint({"messages": ["hi"]})
    checkpoint["channel_versions"]["__start__"] = 2
    checkpoint["channel_versions"]["branch:to:node"] = 2
    stored = await saver.aput(
        _config("triggers"), checkpoint, {}, {"__start__": 2, "branch:to:node": 2, "messages": 1}
    )
    found = await saver.aget_tuple(stored)
    assert found is not None
    assert found.checkpoint["channel_values"] == {"messages": ["hi"]}
    assert found.checkpoint["channel_versions"]["__start__"] == 2


async def test_list_applies_limit_after_filter(saver: ThreadstoreSaver) -> None:
    configs = []
    for step in range(7):
        configs.append(
            await saver.aput(
                _config("filter"),
                _checkpoint(),
                {"source": "input" if step % 3 == 0 else "loop", "step": step, "flag": step == 6},
                {},
            )
        )
    saver._page_size = 2
    listed = [t async for t in saver.alist(_config("filter"), filter={"source": "input"}, limit=2)]
    assert [t.metadata["step"] for t in listed] == [6, 3]
    by_bool = [t async for t in saver.alist(_config("filter"), filter={"flag": True})]
    assert [t.metadata["step"] for t in by_bool] == [6]
    before = [t async for t in saver.alist(None, before=configs[3], limit=10)]
    assert [t.metadata["step"] for t in before] == [2, 1, 0]


async def test_list_without_namespace_spans_namespaces(saver: ThreadstoreSaver) -> None:
    await saver.aput(_config("ns", ""), _checkpoint(), {"step": 0}, {})
    await saver.aput(_config("ns", "sub:1"), _checkpoint(), {"step": 1}, {})
    everything = [t async for t in saver.alist({"configurable": {"thread_id": "ns"}})]
    assert [t.config["configurable"]["checkpoint_ns"] for t in everything] == ["sub:1", ""]
    root = await saver.aget_tuple({"configurable": {"thread_id": "ns"}})
    assert root is not None
    assert root.config["configurable"]["checkpoint_ns"] == ""


async def test_special_writes_replace_regular_writes_do_not(saver: ThreadstoreSaver) -> None:
    stored = await saver.aput(_config("writes"), _checkpoint(), {}, {})
    await saver.aput_writes(stored, [("ch", "first")], "t1")
    await saver.aput_writes(stored, [("ch", "second")], "t1")
    await saver.aput_writes(stored, [(INTERRUPT, "first")], "t1")
    await saver.aput_writes(stored, [(INTERRUPT, "second")], "t1")
    found = await saver.aget_tuple(stored)
    assert found is not None
    assert found.pending_writes == [("t1", INTERRUPT, "second"), ("t1", "ch", "first")]


async def test_pending_writes_follow_task_path_order(saver: ThreadstoreSaver) -> None:
    stored = await saver.aput(_config("order"), _checkpoint(), {}, {})
    await saver.aput_writes(stored, [("ch", "late")], "a-task", task_path="~__pregel_pull, z")
    await saver.aput_writes(stored, [("ch", "early")], "z-task", task_path="~__pregel_pull, a")
    found = await saver.aget_tuple(stored)
    assert found is not None
    assert [w[2] for w in found.pending_writes or []] == ["early", "late"]


async def test_store_delete_thread_removes_checkpoints_and_writes(
    store: BaseStore, saver: ThreadstoreSaver
) -> None:
    checkpoint = _checkpoint({"x": 1})
    stored = await saver.aput(_config("gone"), checkpoint, {}, {})
    await saver.aput_writes(stored, [("x", 2)], "t")
    await store.create_thread("gone", "user", "agent")

    assert await store.delete_thread("gone") is True
    assert await saver.aget_tuple(_config("gone")) is None
    again = await saver.aput(_config("gone"), checkpoint, {}, {})
    found = await saver.aget_tuple(again)
    assert found is not None
    assert found.pending_writes == []


async def test_dict_view_reads_saver_rows(store: BaseStore, saver: ThreadstoreSaver) -> None:
    configs = await _put_chain(saver, "view", 3, run_id="r1")
    record = await store.get_checkpoint("view", "", "")
    assert record is not None
    latest = configs[-1]["configurable"]["checkpoint_id"]
    assert record["checkpoint_id"] == latest
    assert record["parent_checkpoint_id"] == configs[-2]["configurable"]["checkpoint_id"]
    assert record["checkpoint"]["id"] == latest
    assert "channel_values" not in record["checkpoint"]
    assert record["metadata"] == {"source": "loop", "step": 2, "run_id": "r1"}
    listed = await store.list_checkpoints("view", "", limit=2)
    assert [r["checkpoint_id"] for r in listed] == [
        latest,
        configs[1]["configurable"]["checkpoint_id"],
    ]
    assert (await store.get_stats())["checkpoints"] == 3


async def test_saver_reads_dict_rows(store: BaseStore, saver: ThreadstoreSaver) -> None:
    checkpoint = _checkpoint({"x": 1})
    await saver.aput(_config("dict"), checkpoint, {"source": "loop"}, {})
    body = {**checkpoint, "channel_values": {"x": "from dict"}}
    await store.save_checkpoint(
        "dict", "", checkpoint["id"], None, dict(body), {"source": "update"}
    )

    found = await saver.aget_tuple(_config("dict"))
    assert found is not None
    assert found.checkpoint["channel_values"] == {"x": "from dict"}
    assert found.metadata == {"source": "update"}


async def test_prune_keep_latest_detaches_parent(saver: ThreadstoreSaver) -> None:
    configs = await _put_chain(saver, "prune", 3)
    await saver.aput_writes(configs[0], [("ch", "old")], "t")
    await saver.aprune(["prune"])
    found = await saver.aget_tuple(_config("prune"))
    assert found is not None
    assert found.config == configs[-1]
    assert found.parent_config is None
    assert await saver.aget_tuple(configs[0]) is None


async def test_prune_refuses_delta_channel_threads(saver: ThreadstoreSaver) -> None:
    await _put_chain(saver, "delta", 2, counters_since_delta_snapshot={"messages": [1, 1]})
    with pytest.raises(NotImplementedError, match="delta"):
        await saver.aprune(["delta"])
    assert len([t async for t in saver.alist(_config("delta"))]) == 2


async def test_bad_input_is_a_validation_error(saver: ThreadstoreSaver) -> None:
    with pytest.raises(ValidationError):
        await saver.aget_tuple({"configurable": {}})
    with pytest.raises(ValidationError):
        await saver.aput(_config("x" * 300), _checkpoint(), {}, {})
    with pytest.raises(ValidationError):
        await saver.aprune("thread", strategy="keep_latest")
    with pytest.raises(ValidationError):
        await saver.aprune(["thread"], strategy="everything")
    with pytest.raises(ValidationError):
        await saver.aput_writes(_config("t"), [("ch", 1)], "task")
    with pytest.raises(ValidationError, match="JSON"):
        await saver.aput(_config("t"), _checkpoint(), {"when": datetime.now(UTC)}, {})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(ValidationError):
        ThreadstoreSaver(saver.store, page_size=0)
    with pytest.raises(ValidationError):
        ThreadstoreSaver(object())  # type: ignore[arg-type]
    assert [t async for t in saver.alist(_config("t"))] == []


async def test_many_tasks_on_one_saver(saver: ThreadstoreSaver) -> None:
    async def worker(n: int) -> None:
        thread_id = f"worker-{n % 4}"
        stored = await saver.aput(_config(thread_id), _checkpoint({"n": n}), {"n": n}, {})
        await asyncio.gather(
            *(saver.aput_writes(stored, [("ch", n)], f"task-{i}") for i in range(3))
        )
        found = await saver.aget_tuple(stored)
        assert found is not None
        assert found.checkpoint["channel_values"] == {"n": n}
        assert len(found.pending_writes or []) == 3

    await asyncio.gather(*(worker(n) for n in range(40)))
    counts = [len([t async for t in saver.alist(_config(f"worker-{i}"))]) for i in range(4)]
    assert counts == [10, 10, 10, 10]


async def test_saver_usable_while_list_is_open(saver: ThreadstoreSaver) -> None:
    await _put_chain(saver, "open", 5)
    saver._page_size = 2
    seen = []
    async for item in saver.alist(_config("open")):
        seen.append(item.metadata["step"])
        await saver.aput(_config("other"), _checkpoint(), {"during": len(seen)}, {})
        assert await saver.aget_tuple(item.config) is not None
        await saver.adelete_thread("other")
    assert seen == [4, 3, 2, 1, 0]


async def test_copy_thread_then_delete_for_runs(saver: ThreadstoreSaver) -> None:
    first = await _put_chain(saver, "src", 2, run_id="run-1")
    await _put_chain(saver, "src", 1, run_id="run-2")
    await saver.aput_writes(first[-1], [("ch", "w")], "t")
    await saver.acopy_thread("src", "dst")
    copied = [t async for t in saver.alist(_config("dst"))]
    assert len(copied) == 3
    assert [t.pending_writes for t in copied if t.pending_writes] == [[("t", "ch", "w")]]

    await saver.adelete_for_runs(["run-1"])
    for thread_id in ("src", "dst"):
        left = [t async for t in saver.alist(_config(thread_id))]
        assert [t.metadata["run_id"] for t in left] == ["run-2"]
        assert left[0].parent_config is None


async def test_large_write_batches_are_stored_whole(saver: ThreadstoreSaver) -> None:
    stored = await saver.aput(_config("big"), _checkpoint(), {}, {})
    await saver.aput_writes(stored, [(f"ch{i}", i) for i in range(3)], "small")
    await saver.aput_writes(stored, [(f"ch{i}", NUL * i) for i in range(600)], "large")
    await saver.aput_writes(stored, [(f"ch{i}", "again") for i in range(600)], "large")
    found = await saver.aget_tuple(stored)
    assert found is not None
    large = [w for w in found.pending_writes or [] if w[0] == "large"]
    assert [w[2] for w in large] == [NUL * i for i in range(600)]
    assert len(found.pending_writes or []) == 603


async def test_delete_for_runs_finds_dict_rows(store: BaseStore, saver: ThreadstoreSaver) -> None:
    checkpoint = _checkpoint()
    await store.save_checkpoint(
        "runs", "", checkpoint["id"], None, dict(checkpoint), {"run_id": "r"}
    )
    await store.save_checkpoint("runs", "", "other", None, {}, {"run_id": 7})
    await saver.adelete_for_runs(["r", "7"])
    assert [r["checkpoint_id"] for r in await store.list_checkpoints("runs", "")] == ["other"]


async def _checkpoint_then_fail(store: BaseStore) -> None:
    async with store.transaction() as tx:
        saver = ThreadstoreSaver(tx)
        stored = await saver.aput(_config("t1"), _checkpoint({"n": 1}), {"step": 1}, {})
        await saver.aput_writes(stored, [("a", 1)], "task")
        await tx.add_message("t1", "assistant", "reply")
        assert await saver.aget_tuple(_config("t1")) is not None  # the block's own write
        raise RuntimeError("the tool call failed")


async def test_a_saver_bound_to_a_transaction_commits_and_rolls_back_with_it(
    store: BaseStore,
) -> None:
    await store.create_thread("t1", "alice", "helper")
    with pytest.raises(RuntimeError, match="tool call"):
        await _checkpoint_then_fail(store)
    saver = ThreadstoreSaver(store)
    assert await saver.aget_tuple(_config("t1")) is None
    assert await store.get_messages("t1") == []
    async with store.transaction() as tx:
        await ThreadstoreSaver(tx).aput(_config("t1"), _checkpoint({"n": 2}), {"step": 2}, {})
        await tx.add_message("t1", "assistant", "reply")
    found = await saver.aget_tuple(_config("t1"))
    assert found is not None
    assert found.checkpoint["channel_values"] == {"n": 2}
    assert len(await store.get_messages("t1")) == 1


async def test_sync_methods_on_the_running_loop(saver: ThreadstoreSaver, backend: str) -> None:
    (config,) = await _put_chain(saver, "on-loop", 1)
    if backend == "memory":  # never waits on I/O: served inline, as InMemorySaver does
        found = saver.get_tuple(config)
        assert found is not None
        assert found.config == config
    else:  # would block the loop its connections need: refused
        with pytest.raises(SyncStoreError, match="running event loop"):
            saver.get_tuple(config)
    found = await asyncio.to_thread(saver.get_tuple, config)  # a worker thread: the saver's loop
    assert found is not None
    assert found.config == config
