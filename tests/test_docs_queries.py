"""The worked example of docs/queries.md runs on every backend and prints what the page says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from threadstore import BaseStore

PAGE = Path(__file__).resolve().parents[1] / "docs" / "queries.md"


def _blocks(language: str) -> list[str]:
    """Return the fenced blocks of the page tagged ``language`` ("" for untagged)."""
    blocks: list[str] = []
    current: list[str] | None = None
    tag = ""
    for line in PAGE.read_text(encoding="utf-8").splitlines(keepends=True):
        if current is None and line.startswith("```"):
            current, tag = [], line[3:].strip()
        elif current is not None and line.rstrip() == "```":
            if tag == language:
                blocks.append("".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _example() -> dict[str, Any]:
    (source,) = [block for block in _blocks("python") if "async def operator_report" in block]
    namespace: dict[str, Any] = {"__name__": "docs_queries_example"}
    exec(compile(source, str(PAGE), "exec"), namespace)
    return namespace


def _printed() -> str:
    (output,) = [block for block in _blocks("") if block.startswith("runs:")]
    return output


async def test_worked_example_runs(store: BaseStore, capsys: pytest.CaptureFixture[str]) -> None:
    await _example()["operator_report"](store)
    assert capsys.readouterr().out == _printed()


async def test_worked_example_main_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await _example()["main"]()
    assert capsys.readouterr().out == _printed()
