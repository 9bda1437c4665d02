"""Keyset pages with opaque cursors: sizes, order, ties, bad cursors, views, same as memory."""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import FakeClock
from threadstore import BaseStore, MemoryStore, Page, ValidationError

Fetch = Callable[[str | None], Awaitable[Page[Any]]]


async def _walk(fetch: Fetch) -> list[Page[Any]]:
    """Every page from the first, following next_cursor."""
    pages = [await fetch(None)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(await fetch(pages[-1]["next_cursor"]))
        assert len(pages) < 1000
    return pages


def _items(pages: list[Page[Any]]) -> list[Any]:
    return [item for page in pages for item in page["items"]]


def _sizes(pages: list[Page[Any]]) -> list[int]:
    return [len(page["items"]) for page in pages]


async def _threads(store: BaseStore, clock: FakeClock) -> None:
    """Eight threads in groups created at the same instant, then updated in another order."""
    for index in range(8):
        user, agent = ("alice", "bob")[index % 2], ("helper", "coder")[index % 3 == 0]
        await store.create_thread(f"t{index}", user, agent)
        if index % 3 == 2:
            clock.advance()
    for index in (5, 1, 6, 2):
        await store.update_thread(f"t{index}", title="touched")
        if index != 1:  # t5 and t1 share an updated_at
            clock.advance()


@pytest.mark.parametrize("order", ["created", "updated"])
@pytest.mark.parametrize("newest_first", [True, False])
async def test_thread_pages_walk_the_whole_order(
    store: BaseStore, clock: FakeClock, order: str, newest_first: bool
) -> None:
    await _threads(store, clock)
    field = f"{order}_at"
    everything = await store.list_threads(limit=100)
    expected = sorted(everything, key=lambda t: (t[field], t["id"]), reverse=newest_first)
    assert len({t[field] for t in expected}) < len(expected)  # there are ties to break
    pages = await _walk(
        lambda cursor: store.list_threads_page(
            limit=3, cursor=cursor, order=order, newest_first=newest_first
        )  # type: ignore[arg-type]
    )
    assert _sizes(pages) == [3, 3, 2]
    assert _items(pages) == expected


async def test_updated_order_is_list_threads_order(store: BaseStore, clock: FakeClock) -> None:
    await _threads(store, clock)
    pages = await _walk(lambda c: store.list_threads_page(limit=5, cursor=c, order="updated"))
    assert _items(pages) == await store.list_threads(limit=100)


async def test_created_order_breaks_ties_by_id(store: BaseStore) -> None:
    for thread_id in ("b", "a", "d", "c", "aa"):  # one instant: the frozen clock
        await store.create_thread(thread_id, "u", "agent")
    pages = await _walk(lambda cursor: store.list_threads_page(limit=2, cursor=cursor))
    assert [t["id"] for t in _items(pages)] == ["d", "c", "b", "aa", "a"]
    assert _sizes(pages) == [2, 2, 1]
    oldest = await store.list_threads_page(limit=10, newest_first=False)
    assert [t["id"] for t in oldest["items"]] == ["a", "aa", "b", "c", "d"]


async def test_ties_between_any_ids_follow_code_points(store: BaseStore) -> None:
    ids = ["Z", "a", "é", "ß", "\u00e9x", "日本", "\U0001f642" * 255, "~", "A b"]
    for thread_id in ids:
        await store.create_thread(thread_id, "u", "agent")
    for newest_first in (True, False):
        pages = await _walk(
            lambda cursor, n=newest_first: store.list_threads_page(  # type: ignore[misc]
                limit=2, cursor=cursor, newest_first=n
            )
        )
        assert [t["id"] for t in _items(pages)] == sorted(ids, reverse=newest_first)


async def test_a_page_as_big_as_the_rest_is_the_last(store: BaseStore, clock: FakeClock) -> None:
    await _threads(store, clock)
    whole = await store.list_threads_page(limit=8)
    assert len(whole["items"]) == 8
    assert whole["next_cursor"] is None
    first = await store.list_threads_page(limit=4)
    second = await store.list_threads_page(limit=4, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    assert first["items"] + second["items"] == whole["items"]
    assert await store.list_threads_page() == {"items": whole["items"], "next_cursor": None}


@pytest.mark.parametrize("order", ["created", "updated"])
async def test_thread_pages_filtered(store: BaseStore, clock: FakeClock, order: str) -> None:
    await _threads(store, clock)
    for filters in (
        {"user_id": "alice"},
        {"agent_name": "coder"},
        {"user_id": "bob", "agent_name": "helper"},
    ):
        pages = await _walk(
            lambda cursor, f=filters: store.list_threads_page(  # type: ignore[misc]
                limit=1, cursor=cursor, order=order, **f
            )
        )
        expected = await _walk(
            lambda cursor, f=filters: store.list_threads_page(
                limit=100, cursor=cursor, order=order, **f
            )  # type: ignore[misc]
        )
        assert _items(pages) == _items(expected)
        assert _items(pages), filters
        assert all(all(t[k] == v for k, v in filters.items()) for t in _items(pages))


async def test_a_cursor_resumes_after_its_row_was_deleted(
    store: BaseStore, clock: FakeClock
) -> None:
    await _threads(store, clock)
    first = await store.list_threads_page(limit=3)
    assert await store.delete_thread(first["items"][-1]["id"]) is True
    rest = await _walk(
        lambda cursor: store.list_threads_page(limit=3, cursor=cursor or first["next_cursor"])
    )
    ids = [t["id"] for t in first["items"] + _items(rest)]
    assert len(ids) == len(set(ids)) == 8


async def test_feedback_pages(store: BaseStore, clock: FakeClock) -> None:
    for thread_id in ("t1", "t2"):
        await store.create_thread(thread_id, "alice", "helper")
    for index in range(7):
        await store.add_feedback(("t1", "t2")[index % 2], "alice", "helper", rating=1 + index % 5)
        if index % 3 == 2:
            clock.advance()
    everything = await store.get_feedback(limit=100)
    assert everything == sorted(everything, key=lambda f: (f["created_at"], f["id"]), reverse=True)
    pages = await _walk(lambda cursor: store.get_feedback_page(limit=3, cursor=cursor))
    assert _sizes(pages) == [3, 3, 1]
    assert _items(pages) == everything
    assert (await store.get_feedback(limit=2)) == everything[:2]
    mine = await _walk(
        lambda cursor: store.get_feedback_page(thread_id="t2", limit=2, cursor=cursor)
    )
    assert _items(mine) == await store.get_feedback(thread_id="t2")
    assert len(_items(mine)) == 3


async def test_suspended_state_pages(store: BaseStore, clock: FakeClock) -> None:
    await store.create_thread("t1", "alice", "helper")
    await store.create_thread("t2", "alice", "helper")
    for index in range(6):
        await store.save_suspended_state(
            f"ap{5 - index}", ("t1", "t2")[index % 2], "helper", "n", {"i": index}
        )
        if index % 2:
            clock.advance()
    await store.save_suspended_state("gone", "t1", "helper", "n", {}, ttl=0.5)
    clock.advance()
    everything = await store.list_suspended_states()
    assert [s["id"] for s in everything] == ["ap4", "ap5", "ap2", "ap3", "ap0", "ap1"]
    assert await store.list_suspended_states(limit=4) == everything[:4]
    assert await store.list_suspended_states(limit=0) == []
    pages = await _walk(lambda cursor: store.list_suspended_states_page(limit=4, cursor=cursor))
    assert _sizes(pages) == [4, 2]
    assert _items(pages) == everything
    per_thread = await _walk(
        lambda cursor: store.list_suspended_states_page(thread_id="t2", limit=1, cursor=cursor)
    )
    assert [s["id"] for s in _items(per_thread)] == ["ap4", "ap2", "ap0"]


async def test_context_item_pages(store: BaseStore) -> None:
    for key in ("b", "a", "e", "c", "d"):
        await store.save_context_item(
            key, {"k": key}, user_id="alice", subscribers=["x"] if key in "ce" else []
        )
    await store.save_context_item("z", 1, user_id="bob")
    everything = await store.get_all_context_items(user_id="alice")
    assert [i["key"] for i in everything] == ["a", "b", "c", "d", "e"]
    assert await store.get_all_context_items(user_id="alice", limit=2) == everything[:2]
    pages = await _walk(
        lambda cursor: store.get_context_items_page(user_id="alice", limit=2, cursor=cursor)
    )
    assert _sizes(pages) == [2, 2, 1]
    assert _items(pages) == everything
    routed = await _walk(
        lambda cursor: store.get_context_items_page(
            user_id="alice", agent_name="y", limit=1, cursor=cursor
        )
    )
    assert [i["key"] for i in _items(routed)] == ["a", "b", "d"]


def _tampered(cursor: str) -> list[str]:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[len(raw) // 2] ^= 1
    edited = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return [edited, cursor[:-3], cursor + "AAAA", "", "not a cursor!", "e30", "A" * 5000]


async def _refused(call: Awaitable[object], *words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await call
    assert caught.value.suggestion, caught.value
    message = str(caught.value).lower()
    assert all(word in message for word in words), message


async def test_bad_cursors_are_validation_errors(store: BaseStore, clock: FakeClock) -> None:
    await _threads(store, clock)
    cursor = (await store.list_threads_page(limit=2))["next_cursor"]
    assert isinstance(cursor, str)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor  # base64url, no padding: URL-safe
    for bad in _tampered(cursor):
        await _refused(store.list_threads_page(limit=2, cursor=bad), "cursor")
    await _refused(store.list_threads_page(cursor=42), "cursor must be a str")  # type: ignore[arg-type]
    await _refused(store.list_threads_page(limit=2, cursor=cursor, order="updated"), "order")
    await _refused(store.list_threads_page(limit=2, cursor=cursor, newest_first=False), "order")
    await _refused(store.list_threads_page(limit=2, cursor=cursor, user_id="alice"), "filters")
    await _refused(store.list_threads_page(limit=2, cursor=cursor, agent_name="coder"), "filters")
    await _refused(store.get_feedback_page(cursor=cursor), "made by 'list_threads_page'")
    await _refused(store.list_suspended_states_page(cursor=cursor), "list_threads_page")
    await _refused(store.get_context_items_page(cursor=cursor), "list_threads_page")
    await _refused(store.for_user("alice").list_threads_page(cursor=cursor), "filters")
    await _refused(store.list_threads_page(limit=0), "limit")
    await _refused(store.list_threads_page(limit=-1), "limit")
    await _refused(store.list_threads_page(order="title"), "order")  # type: ignore[arg-type]
    # the same cursor, with the same filters and order, still works (any page size)
    again = await store.list_threads_page(limit=100, cursor=cursor)
    assert len(again["items"]) == 6


async def test_cursor_filters_per_listing(store: BaseStore) -> None:
    await store.create_thread("t1", "alice", "helper")
    for _ in range(3):
        await store.add_feedback("t1", "alice", "helper", rating=3)
        await store.save_context_item(f"k{_}", 1, user_id="alice")
    feedback = (await store.get_feedback_page(thread_id="t1", limit=1))["next_cursor"]
    await _refused(store.get_feedback_page(thread_id="t2", cursor=feedback), "filters")
    await _refused(store.get_feedback_page(cursor=feedback), "filters")
    items = (await store.get_context_items_page(user_id="alice", limit=1))["next_cursor"]
    await _refused(store.get_context_items_page(cursor=items), "filters")
    await _refused(
        store.get_context_items_page(user_id="alice", agent_name="a", cursor=items), "filters"
    )
    assert len((await store.get_context_items_page(user_id="alice", cursor=items))["items"]) == 2


async def test_pages_through_a_view(store: BaseStore, clock: FakeClock) -> None:
    await _threads(store, clock)
    for thread_id in ("t0", "t1"):  # alice and bob
        await store.add_feedback(thread_id, "someone", "helper", rating=2)
        await store.save_suspended_state(f"ap-{thread_id}", thread_id, "helper", "n", {})
    alice = store.for_user("alice")
    pages = await _walk(lambda cursor: alice.list_threads_page(limit=2, cursor=cursor))
    alone = await store.list_threads_page(user_id="alice", limit=100)
    assert _items(pages) == alone["items"]
    assert {t["user_id"] for t in _items(pages)} == {"alice"}
    assert [f["thread_id"] for f in (await alice.get_feedback_page())["items"]] == ["t0"]
    assert [s["id"] for s in (await alice.list_suspended_states_page())["items"]] == ["ap-t0"]
    async with alice.transaction() as tx:  # views compose with transactions, cursors too
        first = await tx.list_threads_page(limit=2)
        rest = await tx.list_threads_page(limit=100, cursor=first["next_cursor"])
    assert first["items"] + rest["items"] == _items(pages)
    cursor = first["next_cursor"]
    await _refused(store.list_threads_page(limit=2, cursor=cursor), "filters")
    await _refused(store.for_user("bob").list_threads_page(limit=2, cursor=cursor), "filters")


async def test_same_pages_and_cursors_as_memory(store: BaseStore, clock: FakeClock) -> None:
    memory, start = MemoryStore(clock=clock), clock.now
    for target in (store, memory):
        clock.now = start
        await _threads(target, clock)
        for index in range(4):
            await target.add_feedback(f"t{index}", "alice", "helper", rating=1)
            await target.save_context_item(f"k{index}", index)
    for walk in (
        lambda s: lambda c: s.list_threads_page(limit=3, cursor=c),
        lambda s: (
            lambda c: s.list_threads_page(limit=3, cursor=c, order="updated", newest_first=False)
        ),
        lambda s: lambda c: s.for_user("bob").list_threads_page(limit=1, cursor=c),
        lambda s: lambda c: s.get_feedback_page(limit=3, cursor=c),
        lambda s: lambda c: s.get_context_items_page(limit=3, cursor=c),
    ):
        assert await _walk(walk(store)) == await _walk(walk(memory))
