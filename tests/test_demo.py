"""The demo runs on every backend and prints what it stores."""

from __future__ import annotations

import json

import pytest

from threadstore.demo import run


@pytest.fixture
def any_url(request: pytest.FixtureRequest, backend: str) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url_fresh"))


async def test_demo_runs(any_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    await run(any_url)
    output = capsys.readouterr().out
    for section in (
        "create_thread()",
        "fork_thread(index=1)",
        "add_feedback()",
        "save_suspended_state()",
        "shared context routed to hotel-agent",
        "a clear error for a missing thread",
        "get_stats()",
    ):
        assert f"== {section}" in output
    stats = json.loads(output.rsplit("== get_stats()\n", 1)[1])
    assert stats["threads"] == 2
    assert stats["messages"] == 7
    assert stats["feedback"] == 1
    assert stats["context_items"] == 1
