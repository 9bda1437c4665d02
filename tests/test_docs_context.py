"""The worked example of docs/context.md runs, on every backend, and prints what the page says."""

from __future__ import annotations

import pytest

from tests.docs_examples import DOCS, printed, worked_example
from threadstore import BaseStore

PAGE = DOCS / "context.md"


async def test_worked_example_runs(store: BaseStore, capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "plan_trip")["plan_trip"](store)
    assert capsys.readouterr().out == printed(PAGE, "refused:")


async def test_worked_example_main_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await worked_example(PAGE, "plan_trip")["main"]()
    assert capsys.readouterr().out == printed(PAGE, "refused:")
