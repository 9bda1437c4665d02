"""Full-text search over messages: ranking, snippets, filters, paging, sync and isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeClock
from threadstore import BaseStore, MemoryStore, ValidationError
from threadstore.records import Page, SearchHitRecord, ThreadHitRecord

# seq: content. Ranked for "refund": more occurrences first, then the shorter message.
_ALICE = [
    "refund thanks okay now",  # 0: one in four words
    "refund refund refund now",  # 1: three in four
    "refund thanks okay now but the order was late and cold",  # 2: one in twelve
    "refund refund okay now",  # 3: two in four
    "nothing to see here",  # 4: no match
]
_RANKED_SEQS = [1, 3, 0, 2]


async def _seed(store: BaseStore) -> None:
    await store.create_thread("t-a", "alice", "bot", title="Alice's order")
    for content in _ALICE:
        await store.add_message("t-a", "user", content)
    await store.create_thread("t-b", "bob", "bot")
    await store.add_message("t-b", "user", "refund refund refund refund")
    await store.create_thread("t-c", "alice", "helper")
    await store.add_message("t-c", "assistant", "Your Refund is on its way")


def _where(hits: list[SearchHitRecord]) -> list[tuple[str, int]]:
    return [(hit["thread_id"], hit["seq"]) for hit in hits]


async def _all(store: BaseStore, text: str, **filters: object) -> list[SearchHitRecord]:
    page = await store.search_messages(text, limit=100, **filters)  # type: ignore[arg-type]
    assert page["next_cursor"] is None
    return page["items"]


async def test_hits_are_ranked_by_occurrences_then_length(store: BaseStore) -> None:
    await _seed(store)
    hits = await _all(store, "refund", thread_id="t-a")
    assert [hit["seq"] for hit in hits] == _RANKED_SEQS
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)
    messages = {m["seq"]: m for m in await store.get_messages("t-a")}
    for hit in hits:
        stored = messages[hit["seq"]]
        assert (hit["message_id"], hit["content"], hit["role"]) == (
            stored["id"],
            stored["content"],
            stored["role"],
        )
        assert hit["created_at"] == stored["timestamp"]
    everything = await _all(store, "refund")
    assert _where(everything)[0] == ("t-b", 0)  # four in four beats every other
    assert len(everything) == 6


async def test_snippets_mark_the_matched_words(store: BaseStore) -> None:
    await _seed(store)
    [hit] = await _all(store, "late", thread_id="t-a")
    assert "[late]" in hit["snippet"]
    assert "[refund]" not in hit["snippet"]
    [hit] = await _all(store, "refund", thread_id="t-c", highlight=("<b>", "</b>"))
    assert "<b>Refund</b>" in hit["snippet"]  # the stored word, as written
    assert "way" in hit["snippet"]
    for bad in [("", "]"), ("[",), ('"', "]"), "[]", ("x" * 17, "]"), ("a\x00", "b")]:
        with pytest.raises(ValidationError):
            await store.search_messages("refund", highlight=bad)  # type: ignore[arg-type]


async def test_every_term_must_occur_and_prefixes_are_optional(store: BaseStore) -> None:
    await _seed(store)
    assert _where(await _all(store, "REFUND late")) == [("t-a", 2)]
    assert _where(await _all(store, "late refund")) == [("t-a", 2)]
    assert await _all(store, "refund missing") == []
    assert await _all(store, "ref") == []
    assert len(await _all(store, "ref", prefix=True)) == 6
    assert _where(await _all(store, "ref la", prefix=True)) == [("t-a", 2)]
    with pytest.raises(ValidationError):
        await store.search_messages("refund", prefix="yes")  # type: ignore[arg-type]


async def test_filters_narrow_the_hits(store: BaseStore) -> None:
    await _seed(store)
    alice = await _all(store, "refund", user_id="alice")
    assert {thread for thread, _ in _where(alice)} == {"t-a", "t-c"}
    assert {t for t, _ in _where(await _all(store, "refund", agent_name="bot"))} == {"t-a", "t-b"}
    assert _where(await _all(store, "refund", role="assistant")) == [("t-c", 0)]
    assert _where(await _all(store, "refund", agent_name="helper", user_id="alice")) == [("t-c", 0)]
    assert await _all(store, "refund", user_id="carol") == []
    assert await _all(store, "refund", thread_id="missing") == []
    with pytest.raises(ValidationError):
        await store.search_messages("refund", user_id="")


async def test_pages_walk_every_hit_once_in_rank_order(store: BaseStore) -> None:
    await _seed(store)
    whole = await _all(store, "refund")
    walked: list[SearchHitRecord] = []
    cursor = None
    while True:
        page = await store.search_messages("refund", limit=2, cursor=cursor)
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 2
    assert [hit["message_id"] for hit in walked] == [hit["message_id"] for hit in whole]
    first = await store.search_messages("refund", limit=2)
    assert first["next_cursor"] is not None
    for other in [{"text": "late"}, {"text": "refund", "role": "user"}]:
        text = str(other.pop("text"))
        with pytest.raises(ValidationError):
            await store.search_messages(text, cursor=first["next_cursor"], **other)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await store.search_messages("refund", cursor=first["next_cursor"][:-3])
    with pytest.raises(ValidationError):
        await store.search_messages("refund", limit=0)


async def test_ties_are_broken_by_message_id(store: BaseStore) -> None:
    await store.create_thread("t", "u", "bot")
    for _ in range(5):
        await store.add_message("t", "user", "same words again")
    walked: list[int] = []
    cursor = None
    while True:
        page = await store.search_messages("words", limit=2, cursor=cursor)
        walked += [hit["message_id"] for hit in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert walked == sorted(walked, reverse=True)
    assert len(walked) == 5


async def test_a_view_never_finds_another_users_message(store: BaseStore) -> None:
    await _seed(store)
    alice = store.for_user("alice")
    assert {t for t, _ in _where(await _all(alice, "refund"))} == {"t-a", "t-c"}
    assert await _all(alice, "refund", user_id="bob") == []
    assert await _all(alice, "refund", thread_id="t-b") == []
    assert await _all(store.for_user("bob"), "refund", thread_id="t-a") == []
    page = await alice.search_messages("refund", limit=1)
    with pytest.raises(ValidationError):  # a cursor of alice's view is not bob's
        await store.for_user("bob").search_messages("refund", limit=1, cursor=page["next_cursor"])


async def _rolled_back(store: BaseStore, seen: list[tuple[str, int]]) -> None:
    async with store.transaction() as tx:
        await tx.add_message("t-c", "user", "zebra crossing")
        seen += _where(await _all(tx, "zebra"))
        raise RuntimeError("roll back")


async def test_forks_deletes_erasure_and_rollbacks_keep_the_index_in_sync(
    store: BaseStore, clock: FakeClock
) -> None:
    await _seed(store)
    await store.fork_thread("t-a", 2, "t-fork")
    assert sorted(_where(await _all(store, "late"))) == [("t-a", 2), ("t-fork", 2)]
    assert _where(await _all(store, "late", thread_id="t-fork")) == [("t-fork", 2)]
    assert await store.delete_thread("t-a")
    assert _where(await _all(store, "late")) == [("t-fork", 2)]
    await store.erase_user("bob")
    assert "t-b" not in {t for t, _ in _where(await _all(store, "refund"))}
    seen: list[tuple[str, int]] = []
    with pytest.raises(RuntimeError, match="roll back"):
        await _rolled_back(store, seen)
    assert seen == [("t-c", 1)]  # the block saw its own write
    assert await _all(store, "zebra") == []
    clock.advance(timedelta(days=30).total_seconds())
    await store.create_thread("t-new", "dave", "bot")
    await store.add_message("t-new", "user", "a fresh late refund")
    await store.delete_idle_threads(timedelta(days=1))
    assert _where(await _all(store, "late")) == [("t-new", 0)]


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"refund',
        "refund*",
        "*",
        "NOT refund",
        "refund NOT",
        "-refund",
        "refund -late",
        "(refund)",
        "refund OR late",
        "refund AND",
        "^refund",
        "refund:late",
        "'refund'",
        "NEAR(refund late)",
        "refund\\",
        "{refund}",
        "refund & late | x",
        "!refund",
    ],
)
async def test_operators_and_quotes_are_plain_words(store: BaseStore, text: str) -> None:
    await _seed(store)
    try:
        hits = await _all(store, text)
    except ValidationError:  # no word at all
        assert not any(ch.isalnum() for ch in text)
        return
    words = {w.lower() for w in text.replace("\\", " ").split()}
    assert all(
        all(term in hit["content"].lower() for term in words if term.isalpha()) for hit in hits
    )


async def test_unicode_words_match_case_insensitively(store: BaseStore) -> None:
    await store.create_thread("t", "u", "bot")
    await store.add_message("t", "user", "Über die Straße nach Zürich")
    await store.add_message("t", "user", "Привет, мир! naïve café")
    assert _where(await _all(store, "über")) == [("t", 0)]
    assert _where(await _all(store, "ZÜRICH straße")) == [("t", 0)]
    assert _where(await _all(store, "привет")) == [("t", 1)]
    assert _where(await _all(store, "NAÏVE")) == [("t", 1)]
    assert await _all(store, "naive") == []  # accents are kept
    [hit] = await _all(store, "мир")
    assert "[мир]" in hit["snippet"]
    for empty in ["", "   ", '"*"', "-- !!", "\x00refund"]:
        with pytest.raises(ValidationError):
            await store.search_messages(empty)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(min_size=1, max_size=40))
async def test_any_text_is_a_search_or_a_validation_error(store: BaseStore, text: str) -> None:
    if not await store.get_thread("t-a"):
        await _seed(store)
    try:
        page = await store.search_messages(text, limit=3)
    except ValidationError:
        return
    assert len(page["items"]) <= 3


async def test_an_evicted_memory_thread_is_not_found() -> None:
    """MemoryStore(max_threads=N) evicts the least recently updated thread with its messages."""
    store = MemoryStore(max_threads=2)
    for name in ("old", "mid", "new"):
        await store.create_thread(name, "u", "bot")
        await store.add_message(name, "user", f"evict {name}")
    assert {hit["thread_id"] for hit in (await store.search_messages("evict"))["items"]} == {
        "mid",
        "new",
    }


async def _titled(store: BaseStore) -> None:
    await store.create_thread("r-1", "alice", "bot", title="Refund for order 42")
    await store.create_thread("r-2", "bob", "bot", title="Refund refund escalation")
    await store.create_thread("r-3", "alice", "helper", title="Weather chat")
    await store.create_thread("r-4", "alice", "bot")  # no title
    await store.add_message("r-4", "user", "refund in a message, not a title")


def _ids(page: Page[ThreadHitRecord]) -> list[str]:
    return [hit["thread_id"] for hit in page["items"]]


async def test_threads_are_found_by_title_ranked_and_snippeted(store: BaseStore) -> None:
    await _titled(store)
    page = await store.search_threads("refund")
    assert _ids(page) == ["r-2", "r-1"]
    first = page["items"][1]
    thread = await store.get_thread("r-1")
    assert thread is not None
    assert (first["title"], first["user_id"], first["agent_name"]) == (
        "Refund for order 42",
        "alice",
        "bot",
    )
    assert (first["created_at"], first["updated_at"]) == (
        thread["created_at"],
        thread["updated_at"],
    )
    assert "[Refund]" in first["snippet"]
    assert page["items"][0]["score"] > first["score"]
    assert _ids(await store.search_threads("ORDER refund")) == ["r-1"]
    assert _ids(await store.search_threads("esc", prefix=True)) == ["r-2"]
    assert _ids(await store.search_threads("refund", agent_name="bot", user_id="alice")) == ["r-1"]
    assert _ids(await store.search_threads("refund", agent_name="helper")) == []
    assert _ids(await store.for_user("alice").search_threads("refund")) == ["r-1"]
    assert _ids(await store.for_user("alice").search_threads("refund", user_id="bob")) == []
    with pytest.raises(ValidationError):
        await store.search_threads('"*"')


async def test_thread_pages_and_title_changes_keep_the_index_in_sync(store: BaseStore) -> None:
    await _titled(store)
    first = await store.search_threads("refund", limit=1)
    assert _ids(first) == ["r-2"]
    rest = await store.search_threads("refund", limit=1, cursor=first["next_cursor"])
    assert _ids(rest) == ["r-1"]
    assert rest["next_cursor"] is None
    with pytest.raises(ValidationError):  # a thread cursor is not a message cursor
        await store.search_messages("refund", cursor=first["next_cursor"])
    await store.update_thread("r-1", title="Weather again")
    assert _ids(await store.search_threads("refund")) == ["r-2"]
    assert sorted(_ids(await store.search_threads("weather"))) == ["r-1", "r-3"]
    await store.update_thread("r-4", title="Late refund")
    await store.fork_thread("r-4", 0, "r-5", title="Refund fork")
    assert sorted(_ids(await store.search_threads("refund"))) == ["r-2", "r-4", "r-5"]
    assert await store.delete_thread("r-4")
    await store.erase_user("bob")
    assert _ids(await store.search_threads("refund")) == ["r-5"]
