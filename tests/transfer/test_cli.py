"""The export/import/copy/backup subcommands: results on stdout, one-line failures."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.transfer.support import dump_rows, populate
from threadstore.cli import main

pytest.importorskip("langgraph.checkpoint.base")

NewDB = Callable[[], str]


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("threadstore: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_export_import_export_through_the_command(
    sqlite_url: str, new_sqlite: NewDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(populate(sqlite_url, FakeClock()))
    first, second, target = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz", new_sqlite()
    assert main(["export", "--url", sqlite_url, str(first)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("exported ")
    assert str(first) in out
    assert main(["import", "--url", target, str(first), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["export", "--url", target, str(second), "-q"]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["import", "--url", target, str(first)]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "already holds rows" in line
    assert "--merge" in line
    assert main(["import", "--url", target, str(first), "--merge", "-q"]) == 0
    assert "skipped" in capsys.readouterr().out


def test_copy_logs_progress_lines_when_not_a_terminal(
    sqlite_url: str,
    postgres_url_fresh: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asyncio.run(populate(sqlite_url, FakeClock()))
    monkeypatch.chdir(tmp_path)
    assert main(["copy", sqlite_url, postgres_url_fresh, "--batch-size", "2"]) == 0
    captured = capsys.readouterr()
    assert "row counts and checksums match" in captured.out
    assert "messages: 7/7 rows" in captured.err
    assert list(tmp_path.glob(".threadstore-copy-*")) == []
    assert asyncio.run(dump_rows(postgres_url_fresh)) == asyncio.run(dump_rows(sqlite_url))


def test_failures_are_one_line_without_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    url = "postgresql+asyncpg://app:s3cret@localhost/prod"
    assert main(["backup", "--url", url, str(tmp_path / "b.db")]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "pg_dump" in line
    assert "s3cret" not in line
    assert main(["export", "--url", sqlite_url, "--thread", "t", "--user", "u", "x.jsonl"]) == 1
    assert "either a thread or a user" in _one_line_error(capsys.readouterr().err)
    assert main(["import", "--url", sqlite_url, str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot open the export file" in _one_line_error(capsys.readouterr().err)


def test_backup_command_makes_a_readable_copy(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(populate(sqlite_url, FakeClock()))
    target = tmp_path / "backup.db"
    assert main(["backup", "--url", sqlite_url, str(target)]) == 0
    assert "backed up to" in capsys.readouterr().out
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM threadstore_messages").fetchone() == (7,)
    assert main(["backup", "--url", sqlite_url, str(target)]) == 1
    assert "--force" in _one_line_error(capsys.readouterr().err)
    assert main(["backup", "--url", sqlite_url, str(target), "--force", "-q"]) == 0
