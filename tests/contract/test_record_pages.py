"""Keyset pages of tool calls and runs: query_tool_calls_page, list_invocation_logs_page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, ValidationError


async def _fill(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "coder")
    await store.create_thread("t2", "bob", "helper")
    for n in range(13):
        clock.advance(n % 3 and 1)  # runs of three share a timestamp: ties go by id
        thread = ("t1", "t2", None)[n % 3]
        agent = ("coder", "helper")[n % 2]
        await store.record_tool_call(
            tool_name=("bash", "search")[n % 2],
            agent_name=agent,
            thread_id=thread,
            is_error=n % 4 == 0,
            approval=None if n % 5 else "approved",
            tool_call_id=f"call-{n:02d}",
        )
        await store.create_invocation_log(
            agent_name=agent,
            thread_id=thread,
            status=("ok", "error")[n % 4 == 0],
            log_id=f"log-{n:02d}",
        )


async def _walk(call: Any, limit: int, **filters: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await call(limit=limit, cursor=cursor, **filters)
        assert len(page["items"]) <= limit
        ids += [row["id"] for row in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return ids


TOOL_FILTERS: list[dict[str, Any]] = [
    {},
    {"agent_name": "coder"},
    {"tool_name": "bash", "is_error": True},
    {"has_approval": True},
    {"thread_id": "t2"},
    {"created_after": "2026-01-01T00:00:03+00:00"},
]
LOG_FILTERS: list[dict[str, Any]] = [{}, {"agent_name": "helper"}, {"status": "error"}]


@pytest.mark.parametrize("limit", [1, 3, 50])
async def test_pages_walk_what_the_offset_listing_lists(
    store: BaseStore, clock: FakeClock, limit: int
) -> None:
    await _fill(store, clock)
    for filters in TOOL_FILTERS:
        whole = [c["id"] for c in await store.query_tool_calls(limit=1000, **filters)]
        assert whole, filters
        assert await _walk(store.query_tool_calls_page, limit, **filters) == whole, filters
    for filters in LOG_FILTERS:
        whole = [r["id"] for r in await store.list_invocation_logs(limit=1000, **filters)]
        assert whole, filters
        assert await _walk(store.list_invocation_logs_page, limit, **filters) == whole, filters


async def test_views_page_only_their_users_records(store: BaseStore, clock: FakeClock) -> None:
    await _fill(store, clock)
    alice = store.for_user("alice")
    calls = await _walk(alice.query_tool_calls_page, 2)
    assert calls == [c["id"] for c in await alice.query_tool_calls()]
    assert {c["thread_id"] for c in await alice.query_tool_calls()} == {"t1"}
    logs = await _walk(alice.list_invocation_logs_page, 2)
    assert logs == [r["id"] for r in await alice.list_invocation_logs()]
    assert await _walk(alice.query_tool_calls_page, 2, user_id="bob") == []


async def test_a_cursor_is_bound_to_its_listing(store: BaseStore, clock: FakeClock) -> None:
    await _fill(store, clock)
    page = await store.query_tool_calls_page(agent_name="coder", limit=1)
    with pytest.raises(ValidationError, match="other filters"):
        await store.query_tool_calls_page(agent_name="helper", cursor=page["next_cursor"])
    with pytest.raises(ValidationError, match="query_tool_calls_page"):
        await store.list_invocation_logs_page(cursor=page["next_cursor"])
    logs = await store.list_invocation_logs_page(limit=1)
    with pytest.raises(ValidationError, match="other filters"):
        await store.for_user("alice").list_invocation_logs_page(cursor=logs["next_cursor"])
    with pytest.raises(ValidationError):
        await store.query_tool_calls_page(limit=0)
