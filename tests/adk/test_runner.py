"""An ADK Runner with a canned model runs two turns through the service, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

pytest.importorskip("google.adk.runners")

from google.adk.agents.llm_agent import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.genai import types
from pydantic import Field

from tests.conftest import StoreFactory
from threadstore import BaseStore
from threadstore.adk import ThreadstoreSessionService
from threadstore.adk.mapping import thread_id


class CannedModel(BaseLlm):
    """A model that answers with the next canned response and keeps every request."""

    model: str = "canned"
    replies: list[LlmResponse]
    requests: list[LlmRequest] = Field(default_factory=list)

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        self.requests.append(llm_request)
        yield self.replies.pop(0)


def _text(text: str) -> LlmResponse:
    return LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))


def _call(name: str, **args: object) -> LlmResponse:
    call = types.FunctionCall(name=name, args=dict(args))
    return LlmResponse(content=types.Content(role="model", parts=[types.Part(function_call=call)]))


def get_weather(city: str) -> dict[str, str]:
    """Return the weather in a city."""
    return {"city": city, "weather": "sunny"}


def _said(request: LlmRequest) -> list[str]:
    return [p.text for c in request.contents for p in c.parts or [] if p.text]


async def _turn(runner: Runner, text: str) -> list[str]:
    message = types.Content(role="user", parts=[types.Part(text=text)])
    replies = []
    async for event in runner.run_async(user_id="alice", session_id="s1", new_message=message):
        if event.content and event.content.parts:
            replies += [p.text for p in event.content.parts if p.text]
    return replies


async def test_two_turns_with_a_tool_call(store: BaseStore) -> None:
    model = CannedModel(
        replies=[_call("get_weather", city="Lisbon"), _text("Sunny in Lisbon."), _text("Lisbon.")]
    )
    agent = LlmAgent(name="helper", model=model, tools=[get_weather], output_key="last_reply")
    service = ThreadstoreSessionService(store)
    runner = Runner(app_name="trips", agent=agent, session_service=service)
    await service.create_session(
        app_name="trips", user_id="alice", session_id="s1", state={"user:name": "Alice"}
    )

    assert await _turn(runner, "Weather in Lisbon?") == ["Sunny in Lisbon."]
    assert await _turn(runner, "Which city did I ask about?") == ["Lisbon."]

    # The second turn's model call saw the first turn, read back from the store.
    assert _said(model.requests[-1]) == [
        "Weather in Lisbon?",
        "Sunny in Lisbon.",
        "Which city did I ask about?",
    ]
    session = await service.get_session(app_name="trips", user_id="alice", session_id="s1")
    assert session is not None
    assert session.state == {"user:name": "Alice", "last_reply": "Lisbon."}
    kinds = [
        "call" if e.get_function_calls() else "response" if e.get_function_responses() else e.author
        for e in session.events
    ]
    assert kinds == ["user", "call", "response", "helper", "user", "helper"]
    # The events are threadstore messages of Alice's thread: search, export and erasure see them.
    messages = await store.for_user("alice").get_messages(thread_id("trips", "alice", "s1"))
    assert [m["content"] for m in messages if m["content"]] == [
        "Weather in Lisbon?",
        "Sunny in Lisbon.",
        "Which city did I ask about?",
        "Lisbon.",
    ]
    assert await store.for_user("bob").get_messages(thread_id("trips", "alice", "s1")) == []


def test_runner_run_with_a_new_event_loop_per_turn(store_factory: StoreFactory) -> None:
    """``Runner.run`` (sync) runs each turn on its own loop in its own thread."""
    store = store_factory()
    asyncio.run(store.initialize())
    try:
        service = ThreadstoreSessionService(store)
        model = CannedModel(replies=[_text(f"reply {n}") for n in range(3)])
        runner = Runner(
            app_name="trips", agent=LlmAgent(name="helper", model=model), session_service=service
        )
        asyncio.run(service.create_session(app_name="trips", user_id="alice", session_id="s1"))
        replies = []
        for n in range(3):
            message = types.Content(role="user", parts=[types.Part(text=f"turn {n}")])
            for event in runner.run(user_id="alice", session_id="s1", new_message=message):
                if event.is_final_response() and event.content and event.content.parts:
                    replies.append(event.content.parts[0].text)
        assert replies == ["reply 0", "reply 1", "reply 2"]
        assert _said(model.requests[-1]) == ["turn 0", "reply 0", "turn 1", "reply 1", "turn 2"]
    finally:
        asyncio.run(store.close())
