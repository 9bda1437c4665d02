"""The SDK's own session tests, fetched from its published sdist, run against ThreadstoreSession.

The sdist of the installed ``openai-agents`` version is downloaded at test time
into a temporary directory (never into this repository) and its
``tests/memory/test_session.py`` and ``test_session_limit.py`` run in a child
pytest with ``sdk_plugin/threadstore_sdk_plugin.py`` loaded, which makes every
``SQLiteSession(...)`` of those tests a ThreadstoreSession on our store.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import in_ci

PLUGIN_DIR = Path(__file__).parent / "sdk_plugin"
SUITES = ("tests/memory/test_session.py", "tests/memory/test_session_limit.py")

SQLITE_INTERNALS = (
    # They inspect SQLiteSession's private connection pool, file locks and close().
    "test_sqlite_session_close_closes_worker_thread_connections",
    "test_sqlite_session_reaps_connections_from_exited_worker_threads",
    "test_sqlite_session_closes_retired_connections_before_the_next_allocation",
    "test_sqlite_session_keeps_connections_of_live_worker_threads",
    "test_sqlite_session_closed_rejects_empty_add_items",
    "test_sqlite_session_file_lock_is_shared_across_instances",
    "test_sqlite_session_close_retries_quarantined_connection",
    "test_sqlite_session_rollback_failure_evicts_connection",
    # They break SQLiteSession's own tables with sqlite3 (drop a table, write bad JSON
    # into agent_messages) or swap its sqlite3 connection class; threadstore has no such
    # tables and validates JSON before it writes.
    "test_sqlite_session_failed_add_items_releases_write_lock",
    "test_sqlite_session_failed_clear_session_rolls_back",
    "test_sqlite_session_failed_pop_item_releases_write_lock",
    "test_sqlite_session_pop_item_skips_corrupt_most_recent",
    "test_sqlite_session_pop_item_returns_none_after_dropping_only_corrupt_rows",
    "test_sqlite_session_get_items_limit_skips_corrupt_newest_rows",
    "test_sqlite_session_get_items_session_settings_limit_skips_corrupt_rows",
    "test_sqlite_session_post_commit_cancellation_propagates_after_known_outcome",
)


@pytest.fixture(scope="session")
def sdk_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unpacked sdist of the installed openai-agents, fetched from the package index."""
    wanted = version("openai-agents")
    into = tmp_path_factory.mktemp("openai-agents-sdist")
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    fetched = subprocess.run(
        [*pip, "--dest", str(into), f"openai-agents=={wanted}"],
        capture_output=True,
        text=True,
        check=False,
    )
    archives = list(into.glob("openai_agents-*.tar.gz"))
    if fetched.returncode != 0 or not archives:
        if in_ci():
            pytest.fail(f"could not download the openai-agents sdist: {fetched.stderr[-500:]}")
        pytest.skip("the openai-agents sdist could not be downloaded (no package index?)")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(into, filter="data")
    (root,) = [p for p in into.iterdir() if p.is_dir()]
    return root


@pytest.fixture
def sdk_url(request: pytest.FixtureRequest, backend: str) -> str:
    """A fresh database of the backend under test for the SDK's tests."""
    if backend == "memory":
        return "memory://"
    name = "sqlite_url" if backend == "sqlite" else "postgres_url_fresh"
    return str(request.getfixturevalue(name))


def test_the_sdk_session_suite_passes_against_threadstore(sdk_sources: Path, sdk_url: str) -> None:
    env = {**os.environ, "THREADSTORE_SDK_URL": sdk_url, "PYTHONPATH": str(PLUGIN_DIR)}
    deselect = [f"--deselect={suite}::{name}" for suite in SUITES[:1] for name in SQLITE_INTERNALS]
    command = [sys.executable, "-m", "pytest", *SUITES, "-p", "threadstore_sdk_plugin"]
    command += ["-q", "-p", "no:cacheprovider", "-W", "ignore::ResourceWarning", *deselect]
    run = subprocess.run(
        command, cwd=sdk_sources, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    print(f"SDK session suite on {sdk_url.split(':')[0]}: {summary}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) (passed|failed|error)", summary))
    assert counts.get("passed", 0) >= 50, summary
    assert "failed" not in counts, summary
