"""The built wheel migrates a database on its own, outside the repository.

Slow (builds the wheel, creates a virtualenv and installs the dependencies
from the package index): marked ``slow`` so a quick local run can leave it
out with ``-m 'not slow'``. It always runs in CI.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.migrations.support import head, revision_ids
from threadstore.config import URL_ENV_VAR
from threadstore.migrations import VERSION_TABLE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TABLES = {
    "threadstore_threads",
    "threadstore_messages",
    "threadstore_feedback",
    "threadstore_suspended_states",
    "threadstore_checkpoints",
}


@dataclass(frozen=True)
class Installed:
    """A virtualenv outside the repository with the wheel installed, and a place to run in."""

    wheel: Path
    bin: Path
    workdir: Path

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a program of the virtualenv in ``workdir``, with a clean environment."""
        clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", URL_ENV_VAR}}
        clean.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.workdir,
            env={**clean, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def _checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    started = time.perf_counter()
    root = tmp_path_factory.mktemp("wheel")
    assert REPO not in root.parents
    dist = root / "dist"
    _checked(
        subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    )
    (wheel,) = dist.glob("threadstore-*.whl")
    venv = root / "venv"
    _checked(
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    )
    workdir = root / "elsewhere"
    workdir.mkdir()
    env = Installed(wheel=wheel, bin=venv / "bin", workdir=workdir)
    _checked(env.run("python", "-m", "pip", "install", "-q", f"{wheel}[postgres]"))
    print(f"wheel built and installed in {time.perf_counter() - started:.1f}s")
    return env


def test_wheel_ships_every_revision_and_env_py(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert "threadstore/_alembic/env.py" in names
    shipped = {
        Path(name).name.split("_")[0]
        for name in names
        if name.startswith("threadstore/_alembic/versions/") and name.endswith(".py")
    }
    assert shipped == set(revision_ids())
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert "threadstore/py.typed" in names


def test_installed_package_runs_from_the_virtualenv(installed: Installed) -> None:
    probe = _checked(
        installed.run(
            "python",
            "-c",
            "import threadstore, threadstore.migrations as m;"
            "print(threadstore.__file__); print(m.script_location())",
        )
    )
    module_file, scripts = probe.stdout.split()
    venv = installed.bin.parent
    assert Path(module_file).is_relative_to(venv)
    assert Path(scripts).is_relative_to(venv)
    assert Path(scripts).name == "_alembic"


def test_threadstore_db_migrates_a_sqlite_file(installed: Installed, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgraded = _checked(installed.run("threadstore", "db", "upgrade", "--url", url))
    assert upgraded.stderr.count("Running upgrade") == len(revision_ids())
    current = _checked(installed.run("threadstore", "db", "current", "--url", url))
    assert current.stdout.strip() == f"{head()} (head)"
    checked = _checked(installed.run("threadstore", "db", "check", "--url", url))
    assert "No new upgrade operations detected." in checked.stdout
    history = _checked(installed.run("threadstore", "db", "history"))
    assert all(revision in history.stdout for revision in revision_ids())
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        version = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    assert tables >= TABLES
    assert version == [(head(),)]

    # THREADSTORE_URL works too, and downgrade removes every table
    env = {URL_ENV_VAR: url}
    _checked(installed.run("threadstore", "db", "downgrade", "base", env=env))
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert tables & TABLES == set()


def test_threadstore_db_migrates_postgresql(installed: Installed, empty_postgres_url: str) -> None:
    _checked(installed.run("threadstore", "db", "upgrade", "--url", empty_postgres_url))
    checked = _checked(installed.run("threadstore", "db", "check", "--url", empty_postgres_url))
    assert "No new upgrade operations detected." in checked.stdout
    current = _checked(installed.run("threadstore", "db", "current", "--url", empty_postgres_url))
    assert current.stdout.strip() == f"{head()} (head)"


def test_threadstore_db_prints_sql_for_a_dba(installed: Installed) -> None:
    url = "postgresql://deploy:Sekrit-pw-42@db.invalid/app"
    result = _checked(installed.run("threadstore", "db", "upgrade", "--sql", "--url", url))
    assert "CREATE TABLE threadstore_threads" in result.stdout
    assert "Sekrit-pw-42" not in result.stdout + result.stderr


def test_demo_runs_on_the_embedded_default(installed: Installed) -> None:
    _checked(installed.run("python", "-m", "threadstore.demo"))
    assert (installed.workdir / "threadstore.db").is_file()
    failed = installed.run(
        "threadstore", "db", "current", "--url", "postgresql://x:y@127.0.0.1:1/z"
    )
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("threadstore: error: ")
