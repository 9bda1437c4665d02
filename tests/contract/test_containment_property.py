"""metadata_contains agrees with JSONB ``@>`` on every backend, for random documents.

On PostgreSQL the database itself evaluates ``@>``; SQLite compiles the needle
to SQL and MemoryStore calls :func:`threadstore.store.containment.contains`.
Each backend must select exactly the rows the pure function selects, so the
three agree with each other and with PostgreSQL's own operator.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadstore import BaseStore
from threadstore.store.containment import contains

KEYS = st.sampled_from(["a", "b", "tags", "x y", 'q"t', "é", ""])  # plain and odd keys
scalars = st.sampled_from([None, True, False, 0, 1, -2, 0.0, 1.0, 2.5, "", "a", "1", "true"])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=4,
)
documents = st.dictionaries(KEYS, values, max_size=3)


_CONFUSED: list[tuple[Any, list[Any]]] = [  # values a careless implementation takes for equal
    (True, [1, "true"]),
    (False, [0, None]),
    (1, [True, "1", 1.0, [1]]),
    (0, [False, 0.0, None]),
    (None, [False, "", {}]),
    ("1", [1]),
    ("", [None, []]),
]


def _part(data: st.DataObject, value: Any) -> Any:
    """A random part of ``value`` that it contains, or now and then a near miss."""
    if isinstance(value, dict):
        keys = st.lists(st.sampled_from(sorted(value)), min_size=1, max_size=2, unique=True)
        return {key: _part(data, value[key]) for key in (data.draw(keys) if value else [])}
    if isinstance(value, list):
        items = data.draw(st.lists(st.sampled_from(value), min_size=1, max_size=2)) if value else []
        if items and data.draw(st.integers(0, 5)) == 0:
            return _part(data, items[0])  # a bare element: not contained below the top
        return [_part(data, item) for item in items]
    if data.draw(st.booleans()):
        near = [v for k, vs in _CONFUSED if k == value and type(k) is type(value) for v in vs]
        if near:
            return data.draw(st.sampled_from(near))
    if isinstance(value, int) and not isinstance(value, bool) and data.draw(st.booleans()):
        return float(value)  # 1 is contained by 1.0 and vice versa
    return value


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(docs=st.lists(documents, min_size=1, max_size=5), data=st.data())
async def test_backends_select_what_jsonb_containment_selects(
    store: BaseStore, docs: list[dict[str, Any]], data: st.DataObject
) -> None:
    agent = f"agent-{uuid.uuid4().hex[:8]}"  # each example reads only its own rows
    source = data.draw(st.sampled_from(docs))
    needle = _part(data, source) if data.draw(st.booleans()) else data.draw(documents)
    for index, doc in enumerate(docs):
        thread_id = f"{agent}-{index}"
        await store.create_thread(thread_id, "prop-user", agent, metadata=doc)
        await store.add_message(thread_id, "user", "hi", metadata=doc)
    wanted = {f"{agent}-{i}" for i, doc in enumerate(docs) if contains(doc, needle)}
    threads = await store.query_threads(agent_name=agent, metadata_contains=needle, limit=10)
    assert {t["id"] for t in threads["items"]} == wanted, (docs, needle)
    found = await store.query_messages(agent_name=agent, metadata_contains=needle, limit=10)
    assert {m["thread_id"] for m in found["items"]} == wanted, (docs, needle)
