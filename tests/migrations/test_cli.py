"""The ``threadstore db`` command, run in-process; repository-root ``alembic`` as a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.migrations.support import head, revision_ids
from threadstore.cli import main
from threadstore.config import URL_ENV_VAR
from threadstore.migrations import VERSION_TABLE

REPO = Path(__file__).resolve().parents[2]
SECRET = "Sekrit-pw-42"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _error_line(err: str) -> str:
    """The one line a failure prints (after any progress lines), checked to be the last."""
    lines = err.splitlines()
    assert "Traceback" not in err
    assert [line for line in lines if "error" in line.lower()] == lines[-1:], err
    assert lines[-1].startswith("threadstore: error: ")
    return lines[-1]


def _closed_port_url() -> str:
    """A PostgreSQL URL with a password, on a local port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql+asyncpg://app:{SECRET}@127.0.0.1:{port}/appdb"


def test_upgrade_current_check_history_downgrade(
    empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_url(empty_url).database
    if empty_url.startswith("sqlite") and path:
        Path(path).touch()  # `current` reads an existing file only; an empty file has no schema
    code, out, err = _run(capsys, "db", "current", "--url", empty_url)
    assert (code, out.strip()) == (0, "none (the database has no threadstore schema)")

    code, out, err = _run(capsys, "db", "upgrade", "--url", empty_url)
    assert code == 0, err
    assert err.count("Running upgrade") == len(revision_ids())

    code, out, err = _run(capsys, "db", "current", "--url", empty_url)
    assert (code, out.strip()) == (0, f"{head()} (head)")

    code, out, err = _run(capsys, "db", "check", "--url", empty_url)
    assert (code, out.strip()) == (0, "No new upgrade operations detected.")

    code, out, err = _run(capsys, "db", "history", "--url", empty_url)
    assert code == 0
    assert all(revision in out for revision in revision_ids())

    code, out, err = _run(capsys, "db", "downgrade", "base", "--url", empty_url)
    assert code == 0, err
    assert err.count("Running downgrade") == len(revision_ids())

    code, out, err = _run(capsys, "db", "check", "--url", empty_url)
    assert code == 1
    line = _error_line(err)
    assert line.startswith("threadstore: error: Target database is not up to date.")
    assert "no threadstore schema" in line
    assert "threadstore db upgrade" in line


def test_current_reports_an_older_revision(
    empty_sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = revision_ids()[0]
    assert _run(capsys, "db", "upgrade", first, "--url", empty_sqlite_url)[0] == 0
    code, out, _ = _run(capsys, "db", "current", "--url", empty_sqlite_url)
    assert (code, out.strip()) == (0, f"{first} (head is {head()}: run `threadstore db upgrade`)")
    code, _, err = _run(capsys, "db", "check", "--url", empty_sqlite_url)
    assert code == 1
    assert "Target database is not up to date." in _error_line(err)


def test_url_comes_from_the_environment(
    empty_sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV_VAR, empty_sqlite_url)
    first = revision_ids()[0]
    assert _run(capsys, "db", "upgrade", first)[0] == 0
    assert _run(capsys, "db", "current")[1].strip().startswith(first)
    assert _run(capsys, "db", "upgrade")[0] == 0
    assert _run(capsys, "db", "current")[1].strip() == f"{head()} (head)"


def test_check_fails_on_drift(empty_sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    assert _run(capsys, "db", "upgrade", "--url", empty_sqlite_url)[0] == 0
    path = make_url(empty_sqlite_url).database
    assert path is not None
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE threadstore_stray (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE app_orders (id INTEGER PRIMARY KEY)")  # not ours: ignored
    code, _, err = _run(capsys, "db", "check", "--url", empty_sqlite_url)
    assert code == 1
    assert "differs from threadstore's models (1 differences: remove_table)" in _error_line(err)


def test_sql_prints_the_postgresql_script_without_connecting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, "db", "upgrade", "--sql", "--url", _closed_port_url())
    assert code == 0, err
    assert out.lstrip().startswith("BEGIN;")
    assert out.rstrip().endswith("COMMIT;")
    assert f"CREATE TABLE {VERSION_TABLE}" in out
    assert "CREATE TABLE threadstore_threads" in out
    assert "JSONB" in out
    assert f"UPDATE {VERSION_TABLE} SET version_num='{head()}'" in out or (
        f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('{head()}')" in out
    )
    assert SECRET not in out + err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["db", "current", "--url", _closed_port_url()], "cannot use the database"),
        (["db", "upgrade", "--url", _closed_port_url()], "cannot use the database"),
        (["db", "current", "--url", "mysql://app:Sekrit-pw-42@db/app"], "unsupported"),
        (["db", "current", "--url", "::not a url::"], "cannot be parsed"),
        (["db", "upgrade", "--url", "memory://"], "memory:// keeps no schema"),
        (["db", "downgrade", "nope", "--url", "sqlite+aiosqlite://"], "nope"),
    ],
)
def test_errors_are_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 1
    assert out == ""
    assert expected in _error_line(err)
    assert SECRET not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "db", "frobnicate")[0] == 2
    assert _run(capsys, "db", "downgrade")[0] == 2  # REV is required
    assert _run(capsys)[0] == 2


def _alembic(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("alembic", path=str(Path(sys.executable).parent))
    assert executable is not None, "alembic is not installed next to this Python"
    return subprocess.run(
        [executable, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


def test_alembic_from_the_repository_root(empty_url: str) -> None:
    """The deploy path: ``alembic ...`` with THREADSTORE_URL or ``-x url=``."""
    env = {**os.environ, URL_ENV_VAR: empty_url}
    env.pop("PYTHONPATH", None)  # alembic.ini's prepend_sys_path finds src/
    by_x = {**os.environ, URL_ENV_VAR: "sqlite+aiosqlite:////nonexistent/dir/x.db"}
    by_x.pop("PYTHONPATH", None)
    x = ["-x", f"url={empty_url}"]

    upgraded = _alembic("upgrade", "head", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stderr.count("Running upgrade") == len(revision_ids())
    current = _alembic(*x, "current", env=by_x)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"{head()} (head)"
    checked = _alembic(*x, "check", env=by_x)
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected." in checked.stdout
    history = _alembic("history", env=env)
    assert all(revision in history.stdout for revision in revision_ids())
    downgraded = _alembic(*x, "downgrade", "base", env=by_x)
    assert downgraded.returncode == 0, downgraded.stderr
    assert _alembic("current", env=env).stdout.strip() == ""


def test_alembic_sql_from_the_repository_root() -> None:
    env = {**os.environ}
    env.pop(URL_ENV_VAR, None)
    result = _alembic("-x", f"url={_closed_port_url()}", "upgrade", "head", "--sql", env=env)
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE threadstore_threads" in result.stdout
    assert "JSONB" in result.stdout
