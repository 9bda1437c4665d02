"""The worked example of docs/queries.md runs on every backend and prints what the page says."""

from __future__ import annotations

import pytest

from tests.docs_examples import DOCS, printed, worked_example
from threadstore import BaseStore

PAGE = DOCS / "queries.md"


async def test_worked_example_runs(store: BaseStore, capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "operator_report")["operator_report"](store)
    assert capsys.readouterr().out == printed(PAGE, "runs:")


async def test_worked_example_main_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "operator_report")["main"]()
    assert capsys.readouterr().out == printed(PAGE, "runs:")


async def test_filtered_queries_example_runs(
    store: BaseStore, capsys: pytest.CaptureFixture[str]
) -> None:
    await worked_example(PAGE, "find_conversations")["find_conversations"](store)
    assert capsys.readouterr().out == printed(PAGE, "gold threads:")


async def test_filtered_queries_example_main_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "find_conversations")["main"]()
    assert capsys.readouterr().out == printed(PAGE, "gold threads:")
