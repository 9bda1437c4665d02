"""The examples of docs/integrations.md run, on every backend, and print what the page says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.docs_examples import DOCS, fenced_blocks, printed, worked_example
from threadstore import BaseStore

PAGE = DOCS / "integrations.md"


@pytest.fixture(autouse=True)
def _no_tracing() -> Any:
    from agents import set_tracing_disabled

    set_tracing_disabled(True)
    yield
    set_tracing_disabled(False)


async def test_openai_agents_example(store: BaseStore, capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "two_turns")["two_turns"](store)
    assert capsys.readouterr().out == printed(PAGE, "France.")


async def test_openai_agents_example_main(capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "two_turns")["main"]()
    assert capsys.readouterr().out == printed(PAGE, "France.")


def _remember() -> Callable[[str], None]:
    (source,) = [b for b in fenced_blocks(PAGE, "python") if "def remember(" in b]
    namespace: dict[str, Any] = {"__name__": "docs_integrations_sync"}
    exec(compile(source, str(PAGE), "exec"), namespace)
    return namespace["remember"]  # type: ignore[no-any-return]


def test_sync_store_example(
    request: pytest.FixtureRequest, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = {"sqlite": "sqlite_url", "postgres": "postgres_url_fresh"}.get(backend)
    _remember()("memory://" if fixture is None else str(request.getfixturevalue(fixture)))
    assert capsys.readouterr().out == printed(PAGE, "13")
