"""docs/operations.md: every `threadstore` command of its bash blocks runs, in order."""

from __future__ import annotations

import asyncio
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.transfer.support import dump_rows, populate
from threadstore.cli import main

pytest.importorskip("langgraph.checkpoint.base")

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
TEXT = re.compile(r"```text\n(.*?)```", re.DOTALL)


def _commands() -> list[str]:
    lines = [
        line.strip() for block in BLOCK.findall(DOC.read_text()) for line in block.splitlines()
    ]
    return [line for line in lines if line.startswith("threadstore ")]


def _run(command: str, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> str:
    argv = shlex.split(command)
    for name, url in env.items():
        argv = [arg.replace(f"${name}", url) for arg in argv]
    assert main(argv[1:]) == 0, (command, capsys.readouterr().err)
    return capsys.readouterr().out


def test_the_walk_through_runs(
    sqlite_url: str,
    empty_postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a_year_ago = FakeClock(now=datetime.now(UTC) - timedelta(days=365))
    asyncio.run(populate(sqlite_url, a_year_ago))
    monkeypatch.chdir(tmp_path)
    env = {
        "DEV_URL": sqlite_url,
        "PROD_URL": empty_postgres_url,
        "RESTORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}",
    }
    commands = _commands()
    assert [c.split()[1] for c in commands] == [
        "db",
        "copy",
        "export",
        "backup",
        "export",
        "db",
        "import",
        "erase-user",
        "retention",
        "retention",
    ]
    moving, erasing, dry_run, retention = commands[:7], commands[7], commands[8], commands[9]
    for command in moving:
        _run(command, env, capsys)
    original = asyncio.run(dump_rows(sqlite_url))
    assert asyncio.run(dump_rows(empty_postgres_url)) == original
    assert asyncio.run(dump_rows(env["RESTORE_URL"])) == original
    assert (tmp_path / "backup.db").stat().st_size > 0

    printed = TEXT.findall(DOC.read_text())
    shown = next(b for b in printed if b.startswith("erased"))
    erased = _run(erasing, env, capsys)
    assert erased.split(": ", 1)[1] == shown.split(": ", 1)[1]  # the URL differs
    rows = asyncio.run(dump_rows(empty_postgres_url))
    assert not [r for found in rows.values() for r in found if "alice" in r]
    assert "rolled back" in _run(dry_run, env, capsys)
    assert asyncio.run(dump_rows(empty_postgres_url)) == rows
    assert _run(retention, env, capsys) == next(b for b in printed if b.startswith("idle"))
    assert asyncio.run(dump_rows(empty_postgres_url))["threadstore_threads"] == []
