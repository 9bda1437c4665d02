"""Worked examples of the docs pages: their fenced blocks, run as the page shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"


def fenced_blocks(page: Path, language: str) -> list[str]:
    """Return the fenced blocks of ``page`` tagged ``language`` ("" for untagged)."""
    blocks: list[str] = []
    current: list[str] | None = None
    tag = ""
    for line in page.read_text(encoding="utf-8").splitlines(keepends=True):
        if current is None and line.startswith("```"):
            current, tag = [], line[3:].strip()
        elif current is not None and line.rstrip() == "```":
            if tag == language:
                blocks.append("".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def worked_example(page: Path, defines: str) -> dict[str, Any]:
    """Execute the one Python block of ``page`` that defines ``defines``; return its names."""
    (source,) = [b for b in fenced_blocks(page, "python") if f"async def {defines}" in b]
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}_example"}
    exec(compile(source, str(page), "exec"), namespace)
    return namespace


def printed(page: Path, starts_with: str) -> str:
    """The one untagged block of ``page`` (the output it promises) starting with the text."""
    (output,) = [b for b in fenced_blocks(page, "") if b.startswith(starts_with)]
    return output
