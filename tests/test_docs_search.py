"""The search example of docs/queries.md runs on every backend and prints what the page says."""

from __future__ import annotations

import pytest

from tests.docs_examples import DOCS, printed, worked_example
from threadstore import BaseStore

PAGE = DOCS / "queries.md"


async def test_search_example_runs(store: BaseStore, capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "find_refunds")["find_refunds"](store)
    assert capsys.readouterr().out == printed(PAGE, "t-1 1 assistant")


async def test_search_example_main_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "find_refunds")["main"]()
    assert capsys.readouterr().out == printed(PAGE, "t-1 1 assistant")
