"""The complete programs in the README and docs run as written; the revision table is complete."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _programs() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for index, code in enumerate(BLOCK.findall(document.read_text())):
            if "asyncio.run(" in code:  # a whole program, not a fragment
                found.append((f"{document.name}#{index}", code))
    return found


@pytest.mark.parametrize(("name", "code"), _programs(), ids=[n for n, _ in _programs()])
def test_documented_program_runs(
    name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("THREADSTORE_URL", raising=False)
    exec(compile(code, name, "exec"), {"__name__": "__main__"})


def _revision(path: Path) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "revision":
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError(f"{path.name} names no revision")


def test_migrations_md_has_a_row_per_revision() -> None:
    revisions = sorted(_revision(p) for p in (ROOT / "alembic" / "versions").glob("*.py"))
    table = (ROOT / "docs" / "migrations.md").read_text().split("## Revisions", 1)[1]
    rows = re.findall(r"^\| `(\d{4})` (.+?) \| (.+?) \| (.+?) \|$", table, re.MULTILINE)
    assert [row[0] for row in rows] == revisions
    assert len(revisions) >= 11
