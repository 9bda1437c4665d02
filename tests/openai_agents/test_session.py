"""ThreadstoreSession: the SDK's Session protocol over a thread's messages, on every backend."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest
from agents import Agent, Runner, Session, SessionSettings, TResponseInputItem
from agents.testing import ScriptedModel, assistant_message

from tests.conftest import StoreFactory
from threadstore import BaseStore
from threadstore.openai_agents import ITEM_KEY, ThreadstoreSession

POPS = 40


def _user(text: str) -> TResponseInputItem:
    return cast(TResponseInputItem, {"role": "user", "content": text})


def _texts(items: list[TResponseInputItem]) -> list[Any]:
    return [cast(dict[str, Any], item)["content"] for item in items]


async def test_it_is_an_sdk_session(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store)
    assert isinstance(session, Session)
    assert await session.get_items() == []
    assert await session.pop_item() is None
    assert await store.get_thread("s1") is None


async def test_items_are_the_thread_messages(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store, user_id="alice", agent_name="helper")
    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}
    parts = {
        "role": "assistant",
        "type": "message",
        "content": [{"type": "output_text", "text": "a"}, {"type": "output_text", "text": "b"}],
    }
    items = [_user("hi"), cast(TResponseInputItem, call), cast(TResponseInputItem, parts)]
    await session.add_items(items)
    assert await session.get_items() == items
    thread = await store.get_thread("s1")
    assert thread is not None
    assert (thread["user_id"], thread["agent_name"], thread["message_count"]) == (
        "alice",
        "helper",
        3,
    )
    messages = await store.get_messages("s1")
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "hi"),
        ("function_call", ""),
        ("assistant", "a\nb"),
    ]
    assert [m["metadata"][ITEM_KEY] for m in messages] == items
    await store.add_message("s1", "user", "written by the app")
    assert (await session.get_items(limit=1)) == [_user("written by the app")]


async def test_limit_is_the_latest_n_in_order(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store)
    await session.add_items([_user(f"m{i}") for i in range(7)])
    every = [f"m{i}" for i in range(7)]
    for limit in range(1, 10):
        assert _texts(await session.get_items(limit)) == every[-limit:]
    assert await session.get_items(0) == []
    assert _texts(await session.get_items(-1)) == every
    assert _texts(await session.get_items()) == every


async def test_session_settings_give_the_default_limit(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store, session_settings={"limit": 2})
    assert session.session_settings == SessionSettings(limit=2)
    await session.add_items([_user(f"m{i}") for i in range(4)])
    assert _texts(await session.get_items()) == ["m2", "m3"]
    assert _texts(await session.get_items(limit=3)) == ["m1", "m2", "m3"]


async def test_pop_and_clear(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store)
    await session.add_items([_user("a"), _user("b")])
    assert await session.pop_item() == _user("b")
    assert _texts(await session.get_items()) == ["a"]
    await session.clear_session()
    assert await session.get_items() == []
    assert await session.pop_item() is None
    await session.add_items([_user("c")])
    assert [m["seq"] for m in await store.get_messages("s1")] == [0]


async def test_sessions_are_separate(store: BaseStore) -> None:
    one, two = ThreadstoreSession("s1", store), ThreadstoreSession("s2", store)
    await one.add_items([_user("one")])
    await two.add_items([_user("two")])
    assert await two.pop_item() == _user("two")
    assert _texts(await one.get_items()) == ["one"]


async def test_forty_concurrent_pops_return_forty_distinct_items(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store)
    await session.add_items([_user(str(i)) for i in range(POPS)])
    popped = await asyncio.gather(*(session.pop_item() for _ in range(POPS)))
    assert sorted(int(text) for text in _texts([p for p in popped if p is not None])) == list(
        range(POPS)
    )
    assert await session.get_items() == []


async def test_concurrent_adds_from_new_sessions_create_the_thread_once(store: BaseStore) -> None:
    sessions = [ThreadstoreSession("s1", store) for _ in range(8)]
    await asyncio.gather(*(s.add_items([_user(str(i))]) for i, s in enumerate(sessions)))
    assert sorted(_texts(await sessions[0].get_items())) == [str(i) for i in range(8)]


async def test_a_user_view_owns_the_thread_and_erasure_removes_it(store: BaseStore) -> None:
    alice = ThreadstoreSession("s1", store.for_user("alice"))
    await alice.add_items([_user("secret")])
    thread = await store.get_thread("s1")
    assert thread is not None
    assert thread["user_id"] == "alice"
    bob = ThreadstoreSession("s1", store.for_user("bob"))
    assert await bob.get_items() == []
    assert await bob.pop_item() is None
    await store.erase_user("alice")
    assert await alice.get_items() == []


async def test_items_added_in_a_rolled_back_transaction_vanish(store: BaseStore) -> None:
    await ThreadstoreSession("s1", store).add_items([_user("kept")])

    async def add_then_fail() -> None:
        async with store.transaction() as tx:
            await ThreadstoreSession("s1", tx).add_items([_user("lost")])
            raise RuntimeError("the model call failed")

    with pytest.raises(RuntimeError):
        await add_then_fail()
    assert _texts(await ThreadstoreSession("s1", store).get_items()) == ["kept"]


async def test_runner_keeps_history_across_runs(store: BaseStore) -> None:
    session = ThreadstoreSession("chat", store)
    model = ScriptedModel([[assistant_message("Paris")], [assistant_message("France")]])
    agent = Agent(name="geo", model=model)
    first = await Runner.run(agent, "Where is the Eiffel Tower?", session=session)
    assert first.final_output == "Paris"
    second = await Runner.run(agent, "Which country?", session=session)
    assert second.final_output == "France"
    seen = model.calls[-1].input
    assert isinstance(seen, list)
    assert "Where is the Eiffel Tower?" in str(seen)
    assert "Paris" in str(seen)
    messages = await store.get_messages("chat")
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert [m["content"] for m in messages][2:] == ["Which country?", "France"]


# Runner.run_sync keeps one loop per thread and calls shutdown_asyncgens() after each
# run, so asyncio warns about every async generator (the store's context managers)
# started on that loop later; the generators still run to completion.
@pytest.mark.filterwarnings("ignore:asynchronous generator .* scheduled after:ResourceWarning")
def test_run_sync_keeps_history_across_turns(store_factory: StoreFactory) -> None:
    store = store_factory()
    asyncio.run(store.initialize())
    session = ThreadstoreSession("chat", store)
    model = ScriptedModel([[assistant_message("one")], [assistant_message("two")]])
    agent = Agent(name="counter", model=model)
    try:
        assert Runner.run_sync(agent, "first", session=session).final_output == "one"
        assert Runner.run_sync(agent, "second", session=session).final_output == "two"
    finally:
        loop = asyncio.get_event_loop_policy().get_event_loop()  # the one run_sync left open
        loop.run_until_complete(store.close())
        loop.close()
        asyncio.set_event_loop(None)
    assert "one" in str(model.calls[-1].input)
    assert len(asyncio.run(session.get_items())) == 4
    asyncio.run(store.close())


@pytest.mark.filterwarnings("ignore:asynchronous generator .* scheduled after:ResourceWarning")
def test_run_sync_in_two_threads_through_one_store(store_factory: StoreFactory) -> None:
    store = store_factory()
    asyncio.run(store.initialize())
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def chat(n: int) -> None:
        session = ThreadstoreSession(f"chat-{n}", store)
        model = ScriptedModel([[assistant_message(f"{n}a")], [assistant_message(f"{n}b")]])
        agent = Agent(name="echo", model=model)
        try:
            start.wait()
            Runner.run_sync(agent, "one", session=session)
            Runner.run_sync(agent, "two", session=session)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            loop = asyncio.get_event_loop_policy().get_event_loop()  # run_sync's, left open
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    threads = [threading.Thread(target=chat, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for n in range(2):
        items = asyncio.run(ThreadstoreSession(f"chat-{n}", store).get_items())
        assert _texts(items)[::2] == ["one", "two"]
    asyncio.run(store.close())


async def test_a_cancelled_pop_still_takes_the_item_once(store: BaseStore) -> None:
    session = ThreadstoreSession("s1", store)
    await session.add_items([_user("a"), _user("b")])
    pop = asyncio.ensure_future(session.pop_item())
    await asyncio.sleep(0)
    pop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pop
    assert _texts(await session.get_items()) == ["a"]
    add = asyncio.ensure_future(session.add_items([_user("c")]))
    await asyncio.sleep(0)
    add.cancel()
    with pytest.raises(asyncio.CancelledError):
        await add
    assert _texts(await session.get_items()) == ["a", "c"]
