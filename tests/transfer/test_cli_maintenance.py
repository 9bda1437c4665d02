"""``threadstore erase-user`` and ``threadstore retention``: counts on stdout, one-line failures."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.transfer.support import dump_rows, populate
from threadstore.cli import main

pytest.importorskip("langgraph.checkpoint.base")

PROMPT = b"[y/N] "
_GUARD_SECONDS = 60


def _old_clock() -> FakeClock:
    """A clock a year in the past: everything it stamps is idle today."""
    return FakeClock(now=datetime.now(UTC) - timedelta(days=365))


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("threadstore: error: ")
    assert "Traceback" not in err
    return lines[0]


def _mentions(rows: dict[str, list[tuple[Any, ...]]], text: str) -> list[tuple[str, Any]]:
    return [
        (table, row)
        for table, found in rows.items()
        for row in found
        if any(isinstance(v, str) and v == text for v in row)
    ]


def test_erase_user_prints_the_counts_and_leaves_nothing_of_the_user(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(populate(db_url, FakeClock()))
    assert _mentions(asyncio.run(dump_rows(db_url)), "alice")
    assert main(["erase-user", "--url", db_url, "alice", "--yes"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("erased user 'alice' from ")
    assert "threads=2 messages=6 feedback=1 suspended_states=1 checkpoints=2" in out
    assert "context_items=2 topics=2 permissions=1" in out
    assert _mentions(asyncio.run(dump_rows(db_url)), "alice") == []
    assert main(["erase-user", "--url", db_url, "alice", "-y"]) == 0
    assert "threads=0 " in capsys.readouterr().out


def test_erase_user_refuses_without_a_terminal_or_yes(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(populate(sqlite_url, FakeClock()))
    before = asyncio.run(dump_rows(sqlite_url))
    with open(os.devnull) as nothing:
        monkeypatch.setattr(sys, "stdin", nothing)
        assert main(["erase-user", "--url", sqlite_url, "alice"]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "stdin is not a terminal" in line
    assert "--yes" in line
    assert asyncio.run(dump_rows(sqlite_url)) == before


def _ask(url: str, answer: bytes) -> tuple[int, str]:
    """Run erase-user with a terminal on stdin; answer its question."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "threadstore.cli", "erase-user", "--url", url, "alice"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    assert process.stderr is not None
    seen = b""
    while not seen.endswith(PROMPT):
        ready, _, _ = select.select([process.stderr.fileno()], [], [], _GUARD_SECONDS)
        if not ready:
            process.kill()
            pytest.fail(f"erase-user never asked: {seen!r}")
        chunk = os.read(process.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert b"Erase every record of user 'alice'" in seen
    os.write(controller, answer)
    out, _ = process.communicate(timeout=_GUARD_SECONDS)
    os.close(controller)
    return process.returncode, out.decode()


@pytest.mark.parametrize(("answer", "erased"), [(b"y\n", True), (b"n\n", False), (b"\n", False)])
def test_erase_user_asks_on_a_terminal(sqlite_url: str, answer: bytes, erased: bool) -> None:
    asyncio.run(populate(sqlite_url, FakeClock()))
    code, out = _ask(sqlite_url, answer)
    assert code == (0 if erased else 1)
    assert bool(_mentions(asyncio.run(dump_rows(sqlite_url)), "alice")) is not erased
    assert ("erased user 'alice'" in out) is erased


def test_retention_deletes_in_batches_and_a_dry_run_changes_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(populate(db_url, _old_clock()))
    before = asyncio.run(dump_rows(db_url))
    argv = ["retention", "--url", db_url, "--idle-days", "30", "--keep-checkpoints", "1"]
    assert main([*argv, "--batch-size", "2", "--dry-run"]) == 0
    dry = capsys.readouterr().out.strip().splitlines()
    assert len(dry) == 3
    assert all("rolled back" in line for line in dry)
    assert asyncio.run(dump_rows(db_url)) == before

    assert main([*argv, "--batch-size", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "idle threads (over 30 days)",
        "checkpoints (newest 1 kept)",
        "expired",
    ]
    assert lines == [line.split("rolled back: ")[1] for line in dry]
    assert "threads=3 " in lines[0]  # t1, t2 and the fork (the LangGraph thread has no row)
    assert "(2 batches)" in lines[0]
    assert "checkpoints=2 checkpoint_writes=0 (2 batches)" in lines[1]  # LangGraph's older two
    # the 3 context items and the 3 long-term memory items with a TTL
    assert "suspended_states=0 context_items=3 memory_items=3 (2 batches)" in lines[2]
    after = asyncio.run(dump_rows(db_url))
    assert after["threadstore_threads"] == []
    assert [row[0] for row in after["threadstore_checkpoints"]] == ["ghost", "lg"]
    assert [row[1] for row in after["threadstore_context_items"]] == ["plain"] * 3


def test_retention_of_nothing_to_do_and_bad_values_fail_in_one_line(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, expected in (
        (["--no-expired"], "nothing to do"),
        (["--idle-days", "0"], "--idle-days must be positive"),
        (["--keep-checkpoints", "0"], "keep_last must be >= 1"),
        (["--batch-size", "0"], "batch_size must be >= 1"),
    ):
        assert main(["retention", "--url", sqlite_url, *argv]) == 1
        assert expected in _one_line_error(capsys.readouterr().err)
    missing = tmp_path / "missing.db"
    for command in (["retention"], ["erase-user", "alice", "--yes"]):
        assert main([*command, "--url", f"sqlite+aiosqlite:///{missing}"]) == 1
        assert "cannot use the SQLite database" in _one_line_error(capsys.readouterr().err)
        assert not missing.exists()
    assert main(["erase-user", "--url", "memory://", "alice", "--yes"]) == 1
    assert "memory://" in _one_line_error(capsys.readouterr().err)
    assert main(["erase-user", "--url", sqlite_url, "", "--yes"]) == 1
    assert "user_id must not be empty" in _one_line_error(capsys.readouterr().err)


def test_an_unmigrated_database_is_refused(
    empty_postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "--url", empty_postgres_url]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "threadstore db upgrade" in line
