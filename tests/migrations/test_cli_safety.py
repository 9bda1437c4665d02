"""The installed ``threadstore`` command in a subprocess: it creates nothing it should not,
asks before a downgrade drops rows, and every failure is one line without a traceback."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import require_postgres
from tests.migrations.support import head, on_connection, revision_of, table_names
from threadstore import SQLAlchemyStore
from threadstore.config import URL_ENV_VAR
from threadstore.migrations import VERSION_TABLE, upgrade
from threadstore.models import Base

PROMPT = b"Downgrade? [y/N] "
_GUARD_SECONDS = 300  # only so that a broken build cannot hang the suite


def _env() -> dict[str, str]:
    env = {**os.environ}
    env.pop(URL_ENV_VAR, None)
    return env


def _cli(*argv: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """Run ``python -m threadstore.cli`` (the entry point a console script calls)."""
    return subprocess.run(
        [sys.executable, "-m", "threadstore.cli", *argv],
        stdin=stdin,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=_GUARD_SECONDS,
        check=False,
    )


def _failure(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """Check a run failed with one message and no traceback; return that message."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line for line in lines if "error" in line.lower()] == lines[-1:], result.stderr
    assert lines[-1].startswith("threadstore: error: "), result.stderr
    return lines[-1]


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database
    return Path(database)


def _leftovers(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


# -- nothing is created ----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "folder"),
    [
        (["current"], "."),
        (["current"], "no/such/folder"),
        (["check"], "."),
        (["downgrade", "base", "--yes"], "."),
    ],
    ids=["current", "current-missing-folder", "check", "downgrade"],
)
def test_read_commands_never_create_a_sqlite_file(
    tmp_path: Path, argv: list[str], folder: str
) -> None:
    path = tmp_path / folder / "app.db"
    line = _failure(_cli("db", *argv, "--url", f"sqlite+aiosqlite:///{path}"))
    assert f"cannot use the SQLite database {path}" in line
    assert "does not exist" in line
    assert "threadstore db upgrade" in line
    assert "server" not in line
    assert _leftovers(path) == []
    assert list(tmp_path.iterdir()) == []


def test_history_does_not_connect(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    result = _cli("db", "history", "--url", f"sqlite+aiosqlite:///{path}")
    assert result.returncode == 0, result.stderr
    assert head() in result.stdout
    assert _leftovers(path) == []


def test_current_and_check_create_nothing_on_postgresql(empty_postgres_url: str) -> None:
    current = _cli("db", "current", "--url", empty_postgres_url)
    assert (current.returncode, current.stdout.strip()) == (
        0,
        "none (the database has no threadstore schema)",
    ), current.stderr
    assert "no threadstore schema" in _failure(_cli("db", "check", "--url", empty_postgres_url))
    assert asyncio.run(table_names(empty_postgres_url)) == set()


def test_a_missing_postgresql_database_is_not_created() -> None:
    server = require_postgres()
    name = f"threadstore_absent_{uuid.uuid4().hex[:12]}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    for argv in (["current"], ["check"]):
        line = _failure(_cli("db", *argv, "--url", url))
        assert name in line
    exists = asyncio.run(
        on_connection(
            server,
            lambda conn: conn.execute(
                text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar_one(),
        )
    )
    assert exists == 0


# -- downgrade asks first --------------------------------------------------------


async def _fill(url: str) -> str:
    """Create the schema (a first start) and one thread with a message."""
    async with SQLAlchemyStore(url) as store:
        await store.create_thread("t1", "alice", "helper")
        await store.add_message("t1", "user", "keep me")
    return url


@pytest.fixture
async def filled_url(empty_url: str) -> str:
    """A database at head holding rows, on each SQL backend."""
    return await _fill(empty_url)


@pytest.fixture
async def filled_sqlite_url(empty_sqlite_url: str) -> str:
    """A SQLite file at head holding rows (the prompt is the same code on every backend)."""
    return await _fill(empty_sqlite_url)


def _thread_count(url: str) -> int:
    return int(
        asyncio.run(
            on_connection(
                url,
                lambda conn: conn.execute(
                    text("SELECT count(*) FROM threadstore_threads")
                ).scalar_one(),
            )
        )
    )


def test_downgrade_of_rows_without_a_terminal_needs_yes(filled_url: str) -> None:
    line = _failure(_cli("db", "downgrade", "base", "--url", filled_url))
    assert "holds rows in threadstore_messages, threadstore_threads" in line
    assert "stdin is not a terminal" in line
    assert "--yes" in line
    assert asyncio.run(revision_of(filled_url)) == head()
    assert _thread_count(filled_url) == 1

    result = _cli("db", "downgrade", "base", "--yes", "--url", filled_url)
    assert result.returncode == 0, result.stderr
    assert "Running downgrade" in result.stderr
    assert asyncio.run(revision_of(filled_url)) is None


async def test_downgrade_of_an_empty_database_does_not_ask(empty_url: str) -> None:
    await upgrade(empty_url)
    result = await asyncio.to_thread(_cli, "db", "downgrade", "base", "--url", empty_url)
    assert result.returncode == 0, result.stderr
    assert "Downgrade?" not in result.stderr
    assert await revision_of(empty_url) is None
    assert await table_names(empty_url) <= {VERSION_TABLE}


def _read_until(fd: int, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], _GUARD_SECONDS)
        if not ready:
            pytest.fail(f"the command never printed {marker!r}: {seen!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        seen += chunk
    return seen


def _at_the_prompt(url: str) -> tuple[subprocess.Popen[bytes], int, bytes]:
    """Start a downgrade to base with a terminal on stdin; return once it asks."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "threadstore.cli", "db", "downgrade", "base", "--url", url],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    os.close(terminal)
    assert process.stderr is not None
    asked = _read_until(process.stderr.fileno(), PROMPT)
    assert asked.endswith(PROMPT), asked
    return process, controller, asked


def _finish(process: subprocess.Popen[bytes], controller: int) -> tuple[int, str]:
    _, rest = process.communicate(timeout=_GUARD_SECONDS)
    os.close(controller)
    return process.returncode, rest.decode()


@pytest.mark.parametrize("answer", [b"y\n", b"yes\n"])
def test_downgrade_asks_on_a_terminal_and_runs_when_confirmed(
    filled_sqlite_url: str, answer: bytes
) -> None:
    process, controller, asked = _at_the_prompt(filled_sqlite_url)
    assert b"holds rows in threadstore_messages, threadstore_threads" in asked
    assert f"downgrading from {head()} to base".encode() in asked
    os.write(controller, answer)
    code, rest = _finish(process, controller)
    assert code == 0, rest
    assert "Running downgrade" in rest
    assert asyncio.run(revision_of(filled_sqlite_url)) is None


@pytest.mark.parametrize("answer", [b"\n", b"no\n"])
def test_downgrade_changes_nothing_unless_confirmed(filled_sqlite_url: str, answer: bytes) -> None:
    process, controller, _ = _at_the_prompt(filled_sqlite_url)
    os.write(controller, answer)
    code, rest = _finish(process, controller)
    assert code == 1
    assert rest.strip() == "threadstore: error: downgrade not confirmed; nothing was changed"
    assert asyncio.run(revision_of(filled_sqlite_url)) == head()
    assert _thread_count(filled_sqlite_url) == 1


def test_ctrl_c_at_the_prompt_is_one_line_and_changes_nothing(filled_sqlite_url: str) -> None:
    process, controller, _ = _at_the_prompt(filled_sqlite_url)
    process.send_signal(signal.SIGINT)
    code, rest = _finish(process, controller)
    assert code == 130
    assert "Traceback" not in rest
    assert rest.strip().startswith("threadstore: error: interrupted")
    assert len(rest.strip().splitlines()) == 1
    assert asyncio.run(revision_of(filled_sqlite_url)) == head()
    assert _thread_count(filled_sqlite_url) == 1


# -- every failure is one line ---------------------------------------------------


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql+asyncpg://app:Sekrit-pw-42@127.0.0.1:{port}/appdb"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["current", "--url", "::not a url::"], "cannot be parsed"),
        (["upgrade", "--url", "mysql://db/app"], "unsupported database backend"),
        (["current", "--url", _closed_port_url()], "cannot use the database"),
        (["upgrade", "--url", _closed_port_url()], "cannot use the database"),
        (["upgrade", "--url", "memory://"], "memory:// keeps no schema"),
    ],
    ids=["bad-url", "unsupported", "unreachable-current", "unreachable-upgrade", "memory"],
)
def test_connection_and_url_failures_are_one_line(argv: list[str], expected: str) -> None:
    line = _failure(_cli("db", *argv))
    assert expected in line
    assert "Sekrit-pw-42" not in line


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages of a SQLite database\n" * 200)
    for argv in (["current"], ["upgrade"]):
        line = _failure(_cli("db", *argv, "--url", f"sqlite+aiosqlite:///{path}"))
        assert str(path) in line
        assert "server" not in line


def test_an_unknown_target_revision_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    line = _failure(_cli("db", "upgrade", "nope", "--url", url))
    assert "Can't locate revision identified by 'nope'" in line
    assert "threadstore db history" in line
    asyncio.run(upgrade(url))
    line = _failure(_cli("db", "downgrade", "nope", "--yes", "--url", url))
    assert "'nope'" in line


async def test_tables_without_a_revision_are_one_line(empty_url: str) -> None:
    await on_connection(empty_url, Base.metadata.create_all)
    line = _failure(await asyncio.to_thread(_cli, "db", "upgrade", "--url", empty_url))
    assert "threadstore tables" in line
    assert "half-made" in line
    current = await asyncio.to_thread(_cli, "db", "current", "--url", empty_url)
    assert current.returncode == 0, current.stderr
    assert current.stdout.startswith("none (threadstore tables exist without a revision: ")
    assert await revision_of(empty_url) is None


def test_the_console_script_behaves_the_same(tmp_path: Path) -> None:
    script = shutil.which("threadstore", path=str(Path(sys.executable).parent))
    assert script is not None, "the threadstore console script is not installed"
    path = tmp_path / "app.db"
    result = subprocess.run(
        [script, "db", "current", "--url", f"sqlite+aiosqlite:///{path}"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=_GUARD_SECONDS,
        check=False,
    )
    assert "does not exist" in _failure(result)
    assert _leftovers(path) == []
