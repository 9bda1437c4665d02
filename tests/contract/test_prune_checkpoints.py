"""``prune_checkpoints(keep_last=N)``: the newest N per thread and namespace stay, with writes."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from tests.conftest import FakeClock, StoreFactory
from threadstore import BaseStore

pytest.importorskip("langgraph.checkpoint.base")
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

THREADS = ("t0", "t1", "t2")
NAMESPACES = ("", "sub")
Layout = dict[tuple[str, str], list[int]]
"""(thread, namespace) -> the number of pending writes of each checkpoint, oldest first."""

layouts = st.dictionaries(
    st.tuples(st.sampled_from(THREADS), st.sampled_from(NAMESPACES)),
    st.lists(st.integers(0, 2), max_size=6),
    max_size=5,
)
_runs = itertools.count()


async def _fill(store: BaseStore, prefix: str, layout: Layout) -> None:
    """Save each namespace's checkpoints (each the parent of the next) with their writes."""
    from langgraph.checkpoint.base import empty_checkpoint

    from threadstore.langgraph import ThreadstoreSaver

    saver = ThreadstoreSaver(store)
    for (thread, ns), writes in layout.items():
        config: Any = {"configurable": {"thread_id": prefix + thread, "checkpoint_ns": ns}}
        for index, count in enumerate(writes):
            checkpoint = empty_checkpoint()
            checkpoint["id"] = f"{index:04d}"
            checkpoint["channel_values"] = {"step": index}
            checkpoint["channel_versions"] = {"step": index + 1}
            config = await saver.aput(config, checkpoint, {"step": index}, {})
            await saver.aput_writes(config, [("step", n) for n in range(count)], f"task-{index}")


async def _pending(store: BaseStore, thread_id: str, ns: str, checkpoint_id: str) -> int:
    from threadstore.langgraph import ThreadstoreSaver

    configurable = {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}
    found = await ThreadstoreSaver(store).aget_tuple({"configurable": configurable})
    assert found is not None
    return len(found.pending_writes or [])


async def _check(store: BaseStore, layout: Layout, keep: int, size: int, only: str | None) -> None:
    prefix = f"run{next(_runs)}-"
    await _fill(store, prefix, layout)
    chosen = None if only is None else prefix + only
    pruned = {key: w for key, w in layout.items() if only is None or key[0] == only}
    counts = await store.prune_checkpoints(keep, thread_id=chosen, batch_size=size)
    deleted = [w[: max(0, len(w) - keep)] for w in pruned.values()]
    assert counts["checkpoints"] == sum(len(d) for d in deleted)
    assert counts["checkpoint_writes"] == sum(sum(d) for d in deleted)
    assert counts["batches"] == counts["checkpoints"] // size + 1
    for (thread, ns), writes in layout.items():
        kept = len(writes) if (thread, ns) not in pruned else min(keep, len(writes))
        records = await store.list_checkpoints(prefix + thread, ns)
        ids = [f"{i:04d}" for i in range(len(writes))][::-1][:kept]
        assert [r["checkpoint_id"] for r in records] == ids
        for record in records:
            index = int(record["checkpoint_id"])
            parent = None if index in (0, len(writes) - kept) else f"{index - 1:04d}"
            assert record["parent_checkpoint_id"] == parent
            pending = await _pending(store, prefix + thread, ns, record["checkpoint_id"])
            assert pending == writes[index]
    for thread in THREADS:  # the next example starts from an empty database
        await store.delete_thread(prefix + thread)


@hypothesis.settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    layout=layouts,
    keep=st.integers(1, 7),
    size=st.integers(1, 4),
    only=st.one_of(st.none(), st.sampled_from(THREADS)),
)
def test_prune_keeps_the_newest_n_per_namespace(
    store_factory: StoreFactory, layout: Layout, keep: int, size: int, only: str | None
) -> None:
    async def run() -> None:
        store = store_factory(clock=FakeClock())
        await store.initialize()
        try:
            await _check(store, layout, keep, size, only)
        finally:
            await store.close()

    asyncio.run(run())


async def test_a_delta_channel_namespace_is_left_whole(store: BaseStore) -> None:
    for n in range(3):
        parent = None if n == 0 else f"c{n - 1}"
        await store.save_checkpoint("t", "", f"c{n}", parent, {}, {})
        metadata = {"counters_since_delta_snapshot": {"x": n}} if n == 1 else {}
        await store.save_checkpoint("t", "delta", f"c{n}", parent, {}, metadata)
    counts = await store.prune_checkpoints(1)
    assert counts == {"checkpoints": 2, "checkpoint_writes": 0, "batches": 1}
    assert [r["checkpoint_id"] for r in await store.list_checkpoints("t", "")] == ["c2"]
    assert len(await store.list_checkpoints("t", "delta")) == 3


async def test_a_view_prunes_only_its_users_threads(store: BaseStore) -> None:
    for user in ("alice", "bob"):
        await store.create_thread(user, user, "helper")
        for n in range(3):
            await store.save_checkpoint(user, "", f"c{n}", None, {}, {})
    await store.save_checkpoint("ghost", "", "c0", None, {}, {})
    await store.save_checkpoint("ghost", "", "c1", None, {}, {})
    assert (await store.for_user("bob").prune_checkpoints(1))["checkpoints"] == 2
    assert len(await store.list_checkpoints("alice", "")) == 3
    assert len(await store.list_checkpoints("ghost", "")) == 2
    assert (await store.prune_checkpoints(1))["checkpoints"] == 3
