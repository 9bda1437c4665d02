"""SQLite file faults reach the caller as DatabaseFileError naming the path and the problem.

Permission faults run in a forked child as an unprivileged user (see
``unprivileged.py``): root ignores file modes, and CI runs as root. The other
faults (a directory, a missing folder, not a database) hold for any user and
run in-process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.faults.unprivileged import run_unprivileged, unprivileged_ids
from threadstore import DatabaseFileError, PersistenceConnectionError, SQLAlchemyStore
from threadstore.cli import main as cli_main
from threadstore.records import HealthRecord


@dataclass(frozen=True)
class Outcome:
    """What one store call did, in a form that crosses the pipe from the child."""

    error: str | None
    message: str = ""
    suggestion: str = ""
    retryable: bool | None = None
    cause: str | None = None


@dataclass(frozen=True)
class Report:
    """What the child saw: its user, its access to the file, and each call's outcome."""

    euid: int
    writable: bool
    calls: dict[str, Outcome]
    health: HealthRecord


async def _attempt(call: Coroutine[Any, Any, object]) -> Outcome:
    try:
        await call
    except Exception as exc:
        return Outcome(
            error=type(exc).__name__,
            message=str(getattr(exc, "message", exc)),
            suggestion=str(getattr(exc, "suggestion", "")),
            retryable=getattr(exc, "retryable", None),
            cause=None if exc.__cause__ is None else type(exc.__cause__).__name__,
        )
    return Outcome(error=None)


async def _exercise(path: Path, *, auto_migrate: bool = False) -> Report:
    store = SQLAlchemyStore(f"sqlite+aiosqlite:///{path}", auto_migrate=auto_migrate)
    calls = {
        "initialize": await _attempt(store.initialize()),
        "get_thread": await _attempt(store.get_thread("t1")),
        "create_thread": await _attempt(store.create_thread("t1", "alice", "helper")),
    }
    health = await store.health_check()
    await store.close()
    return Report(os.geteuid(), os.access(path, os.W_OK), calls, health)


def _exercise_unprivileged(path: Path, **options: bool) -> Report:
    report = run_unprivileged(lambda: asyncio.run(_exercise(path, **options)))
    assert report.euid != 0, "the permission check ran as root: it proves nothing"
    return report


def _assert_file_error(outcome: Outcome, path: Path, *phrases: str) -> None:
    assert outcome.error == DatabaseFileError.__name__, outcome
    assert f"cannot use the SQLite database {path}: " in outcome.message
    for phrase in phrases:
        assert phrase in outcome.message, (phrase, outcome.message)
    assert outcome.retryable is False
    assert outcome.cause is not None, "the driver's exception must stay as __cause__"
    assert outcome.suggestion
    assert "server" not in outcome.suggestion.lower()


def _assert_unhealthy(health: HealthRecord, path: Path, phrase: str) -> None:
    assert health["status"] == "unhealthy"
    assert health["checks"]["writable"] is False
    assert health["error"] is not None
    assert str(path) in health["error"]
    assert phrase in health["error"]


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder the unprivileged user owns, outside pytest's private (0700) temp root."""
    uid, gid = unprivileged_ids()
    folder = Path(tempfile.mkdtemp(prefix="threadstore-faults-"))
    os.chown(folder, uid, gid)
    folder.chmod(0o755)
    yield folder
    for inner, dirs, _files in os.walk(folder):
        for name in dirs:
            (Path(inner) / name).chmod(0o755)
    shutil.rmtree(folder)


def _content(path: Path) -> bytes:
    return path.read_bytes()


def _folder(path: Path) -> Path:
    path.mkdir()
    return _give(path)


def _give(path: Path) -> Path:
    uid, gid = unprivileged_ids()
    os.chown(path, uid, gid)
    return path


@pytest.fixture
def database(workdir: Path, sqlite_template: Path) -> Path:
    """A migrated database in WAL mode (as the store leaves it) owned by the unprivileged user.

    Opening it here, in the parent, also imports every module the child needs.
    """
    folder = _folder(workdir / "data")
    path = folder / "threadstore.db"
    shutil.copyfile(sqlite_template, path)

    async def open_once() -> None:
        store = SQLAlchemyStore(f"sqlite+aiosqlite:///{path}", auto_migrate=False)
        await store.initialize()
        assert (await store.health_check())["status"] == "healthy"
        await store.close()

    asyncio.run(open_once())
    assert not path.with_name(path.name + "-wal").exists()
    return _give(path)


# -- permissions (unprivileged child) -------------------------------------------------


def test_read_only_file(database: Path) -> None:
    database.chmod(0o444)
    report = _exercise_unprivileged(database)
    assert report.writable is False
    for call in ("initialize", "create_thread"):
        _assert_file_error(report.calls[call], database, "the file is read-only", "permission")
    assert "write permission on" in report.calls["create_thread"].suggestion
    assert report.calls["get_thread"] == Outcome(error=None)  # reads keep working
    _assert_unhealthy(report.health, database, "the file is read-only")
    assert report.health["checks"]["connected"] is True


def test_read_only_folder(database: Path) -> None:
    database.parent.chmod(0o555)
    report = _exercise_unprivileged(database)
    assert report.writable is True  # the file itself is writable: WAL needs the folder
    for call in ("initialize", "get_thread", "create_thread"):
        _assert_file_error(
            report.calls[call],
            database,
            f"its folder {database.parent} is read-only",
            "-wal",
            "permission denied",
        )
    assert str(database.parent) in report.calls["initialize"].suggestion
    _assert_unhealthy(report.health, database, "is read-only")


def test_new_file_in_a_read_only_folder(workdir: Path) -> None:
    folder = _folder(workdir / "locked")
    folder.chmod(0o555)
    path = folder / "new.db"
    report = _exercise_unprivileged(path, auto_migrate=True)
    for call in ("initialize", "create_thread"):
        _assert_file_error(
            report.calls[call], path, "is read-only", "cannot create the database file"
        )
    _assert_unhealthy(report.health, path, "cannot create the database file")
    assert not path.exists()


def test_unreadable_file(database: Path) -> None:
    database.chmod(0o000)
    report = _exercise_unprivileged(database)
    for call in ("initialize", "get_thread", "create_thread"):
        _assert_file_error(report.calls[call], database, "permission denied", "cannot read")
    _assert_unhealthy(report.health, database, "cannot read")


def test_a_writable_database_is_healthy_as_that_user(database: Path) -> None:
    """The same child on a usable file: proves the faults above come from the modes."""
    report = _exercise_unprivileged(database)
    assert report.calls == {name: Outcome(error=None) for name in report.calls}
    assert report.health["status"] == "healthy", report.health
    assert report.health["checks"] == {"connected": True, "schema_at_head": True, "writable": True}


# -- paths (any user) ------------------------------------------------------------------


async def test_path_is_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "threadstore.db"
    path.mkdir()
    report = await _exercise(path, auto_migrate=True)
    for call in report.calls.values():
        _assert_file_error(call, path, "is a directory")
    assert "Name a file in the URL" in report.calls["initialize"].suggestion
    _assert_unhealthy(report.health, path, "is a directory")


async def test_missing_parent_folder_is_never_created(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "deeper" / "threadstore.db"
    report = await _exercise(path, auto_migrate=True)
    for call in report.calls.values():
        _assert_file_error(call, path, f"its parent folder {path.parent} does not exist")
    assert f"mkdir -p {path.parent}" in report.calls["initialize"].suggestion
    _assert_unhealthy(report.health, path, "does not exist")
    assert not path.parent.exists()
    assert not (tmp_path / "missing").exists()


async def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 200
    path.write_bytes(content)
    report = await _exercise(path, auto_migrate=True)
    for call in report.calls.values():
        _assert_file_error(call, path, "is not a SQLite database")
    _assert_unhealthy(report.health, path, "is not a SQLite database")
    assert _content(path) == content


async def test_health_probe_writes_nothing(sqlite_url: str) -> None:
    store = SQLAlchemyStore(sqlite_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.close()
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    before = _content(path)
    probe = SQLAlchemyStore(sqlite_url)
    reports = [await probe.health_check() for _ in range(3)]
    await probe.close()
    assert [report["checks"]["writable"] for report in reports] == [True] * 3
    assert _content(path) == before


def test_database_file_error_is_a_connection_error_no_retry_fixes() -> None:
    assert issubclass(DatabaseFileError, PersistenceConnectionError)
    assert DatabaseFileError.retryable is False
    assert "server" not in DatabaseFileError.default_suggestion.lower()


def test_cli_names_the_sqlite_file_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "missing" / "threadstore.db"
    code = cli_main(["db", "current", "--url", f"sqlite+aiosqlite:///{path}"])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    assert f"its parent folder {path.parent} does not exist" in err
    assert "server" not in err
    assert not path.parent.exists()


def test_failed_opens_leave_no_worker_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that ends right after a failed open prints nothing from aiosqlite's worker."""
    died: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(str(args.exc_value)))
    path = tmp_path / "missing" / "threadstore.db"

    async def fail_once() -> None:
        store = SQLAlchemyStore(f"sqlite+aiosqlite:///{path}")
        with pytest.raises(DatabaseFileError):
            await store.get_thread("t1")
        await store.close()

    before = set(threading.enumerate())
    for _ in range(20):
        asyncio.run(fail_once())  # closes its loop at once, as a short program does
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)
    assert died == []
