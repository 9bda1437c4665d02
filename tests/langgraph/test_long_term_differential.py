"""Random operation sequences: ThreadstoreLongTermStore agrees with LangGraph's InMemoryStore.

InMemoryStore is the reference, on every backend, with three documented
differences the comparison allows for: search without a query lists newest
first here (InMemoryStore: insertion order), so searches compare as sets of
whole pages; InMemoryStore lists a namespace whose items were all deleted,
or that a ``get`` merely looked into (here it is not listed, as in
LangGraph's SQL stores), so the reference drops empty namespaces; and
InMemoryStore's ``float()`` coercion in ``$gt``-style filters (see the
last tests), which the generated values avoid by giving every item a
number under ``n``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytest.importorskip("langgraph.store.base")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.store.memory import InMemoryStore

from tests.conftest import FakeClock
from threadstore import BaseStore, MemoryStore
from threadstore.langgraph import ThreadstoreLongTermStore

LABELS = ("a", "ab", "b")
namespaces = st.lists(st.sampled_from(LABELS), min_size=0, max_size=2).map(tuple)
keys = st.sampled_from(("k1", "k2", "k3"))
numbers = st.one_of(
    st.integers(min_value=-20, max_value=120),
    st.floats(min_value=-20, max_value=120, allow_nan=False).map(lambda x: round(x, 2)),
)
values = st.fixed_dictionaries(
    {"n": numbers, "tag": st.sampled_from(("x", "y"))},
    optional={"deep": st.fixed_dictionaries({"n": numbers})},
)
operators = st.sampled_from(("$eq", "$ne", "$gt", "$gte", "$lt", "$lte"))
filters = st.one_of(
    st.none(),
    st.builds(lambda op, n: {"n": {op: n}}, operators, numbers),
    st.builds(lambda tag: {"tag": tag}, st.sampled_from(("x", "y"))),
    st.builds(lambda lo, hi: {"n": {"$gte": lo, "$lt": hi}}, numbers, numbers),
)
put = st.tuples(st.just("put"), namespaces, keys, values)
delete = st.tuples(st.just("delete"), namespaces, keys)
get = st.tuples(st.just("get"), namespaces, keys)
search = st.tuples(st.just("search"), namespaces, filters)
listing = st.tuples(
    st.just("list"),
    st.one_of(st.none(), namespaces),
    st.one_of(st.none(), st.sampled_from(LABELS).map(lambda label: (label,))),
    st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
    st.integers(min_value=0, max_value=3),
)
programs = st.lists(st.one_of(put, put, delete, get, search, listing), min_size=1, max_size=25)


def _strip(namespace: tuple[str, ...], root: str) -> tuple[str, ...]:
    assert namespace[0] == root
    return tuple(namespace[1:])


async def _run(lt: ThreadstoreLongTermStore, ref: InMemoryStore, program: list[Any]) -> None:
    root = f"r{uuid.uuid4().hex[:10]}"  # each example sees only its own namespaces
    for step in program:
        kind = step[0]
        if kind == "put":
            ns = (root, *step[1])
            await lt.aput(ns, step[2], step[3])
            ref.put(ns, step[2], step[3])
        elif kind == "delete":
            ns = (root, *step[1])
            await lt.adelete(ns, step[2])
            ref.delete(ns, step[2])
        elif kind == "get":
            ns = (root, *step[1])
            ours, theirs = await lt.aget(ns, step[2]), ref.get(ns, step[2])
            assert (ours and ours.value) == (theirs and theirs.value), step
        elif kind == "search":
            ns = (root, *step[1])
            ours_hits = await lt.asearch(ns, filter=step[2], limit=100)
            theirs_hits = ref.search(ns, filter=step[2], limit=100)
            found = sorted((i.namespace, i.key, i.value) for i in ours_hits)
            expected = sorted((i.namespace, i.key, i.value) for i in theirs_hits)
            assert found == expected, step  # values by ==: PostgreSQL's JSONB turns -0.0 into 0
        else:
            _, prefix, suffix, depth, limit = step
            full = (root, *prefix) if prefix is not None else (root,)
            args: dict[str, Any] = {"prefix": full, "max_depth": depth, "limit": limit + 1}
            if suffix is not None:
                args["suffix"] = suffix
            for empty in [ns for ns, items in ref._data.items() if not items]:
                del ref._data[empty]  # InMemoryStore lists namespaces a get or delete emptied
            assert await lt.alist_namespaces(**args) == ref.list_namespaces(**args), step


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(program=programs)
async def test_random_programs_agree_with_in_memory_store(
    store: BaseStore, clock: FakeClock, program: list[Any]
) -> None:
    lt = ThreadstoreLongTermStore(store)
    clock.advance(1)
    await _run(lt, InMemoryStore(), program)


async def test_in_memory_store_coerces_strings_where_threadstore_compares_types() -> None:
    """langgraph#7684's family: a number filter must not match text that looks like one."""
    ref = InMemoryStore()
    lt = ThreadstoreLongTermStore(MemoryStore())
    for store in (ref,):
        store.put(("d",), "text", {"n": "10"})
        store.put(("d",), "num", {"n": 10})
    await lt.aput(("d",), "text", {"n": "10"})
    await lt.aput(("d",), "num", {"n": 10})
    wanted = {"n": {"$gt": 9}}
    assert {i.key for i in ref.search(("d",), filter=wanted)} == {"text", "num"}  # coerced
    assert {i.key for i in await lt.asearch(("d",), filter=wanted)} == {"num"}


async def test_in_memory_store_raises_on_items_without_the_field() -> None:
    ref = InMemoryStore()
    lt = ThreadstoreLongTermStore(MemoryStore())
    ref.put(("d",), "bare", {"other": 1})
    await lt.aput(("d",), "bare", {"other": 1})
    ref.put(("d",), "word", {"n": "ten"})
    await lt.aput(("d",), "word", {"n": "ten"})
    with pytest.raises(TypeError):
        ref.search(("d",), filter={"n": {"$gt": 9}})  # float(None)
    assert await lt.asearch(("d",), filter={"n": {"$gt": 9}}) == []


async def test_in_memory_store_lists_namespaces_whose_items_were_deleted() -> None:
    ref = InMemoryStore()
    lt = ThreadstoreLongTermStore(MemoryStore())
    for store in (ref, lt):
        await store.aput(("gone",), "k", {"v": 1})
        await store.adelete(("gone",), "k")
        await store.aget(("never",), "k")
    assert await ref.alist_namespaces() == [("gone",), ("never",)]
    assert await lt.alist_namespaces() == []
