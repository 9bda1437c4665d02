"""LangGraph's own store tests (``tests/test_store.py`` of the published
``langgraph-checkpoint`` sdist, fetched at test time, never copied here) run
against ThreadstoreLongTermStore standing in for InMemoryStore, on every backend.

The suite is written for InMemoryStore; ``suite_plugin`` swaps the class for
ours before the suite imports it (each instance a fresh user scope of one
threadstore store). On the SQL backends five tests call the *sync* API from
inside a running event loop, which InMemoryStore tolerates and LangGraph's
own database stores refuse (``InvalidStateError``, "can lead to deadlocks"),
as ours do there (``SyncStoreError``, an ``InvalidStateError``); those five
are expected to fail with that error and no other test may fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import pytest

pytest.importorskip("langgraph.store.base")

from tests.conftest import BACKENDS

PLUGIN_DIR = Path(__file__).parent / "suite_plugin"
SYNC_CALLS_ON_THE_LOOP = {
    "test_async_batch_store_resilience",
    "test_cannot_put_empty_namespace",
    "test_async_search_and_listing_keep_empty_prefixes_and_wildcards[True]",
    "test_async_batch_store_deduplication",
    "test_async_batched_vector_search_concurrent",
}
PIP_DOWNLOAD = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q"]
SUITE = [sys.executable, "-m", "pytest", "tests/test_store.py", "-q", "-p", "no:cacheprovider"]
SUITE += ["-p", "threadstore_lg_suite_plugin", "-o", "addopts="]
MIN_TESTS = 117  # langgraph-checkpoint 4.3.2; a newer suite may add tests


@pytest.fixture(scope="session")
def langgraph_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The installed langgraph-checkpoint's sdist, downloaded from PyPI and unpacked."""
    version = metadata.version("langgraph-checkpoint")
    where = tmp_path_factory.mktemp("langgraph-sdist")
    download = subprocess.run(
        [*PIP_DOWNLOAD, "--dest", str(where), f"langgraph-checkpoint=={version}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    archives = list(where.glob("langgraph_checkpoint-*.tar.gz"))
    if download.returncode != 0 or not archives:
        message = f"cannot fetch the langgraph-checkpoint {version} sdist: {download.stderr[-500:]}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    with tarfile.open(archives[0]) as archive:
        archive.extractall(where, filter="data")
    (root,) = [p for p in where.iterdir() if p.is_dir()]
    assert (root / "tests" / "test_store.py").exists()
    return root


@pytest.fixture(params=BACKENDS)
def suite_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url_fresh"
    return str(request.getfixturevalue(name))


def _outcomes(report: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped")
        if failed is not None:
            outcomes[case.attrib["name"]] = "failed: " + failed.attrib.get("message", "")
        elif skipped is not None:
            outcomes[case.attrib["name"]] = "skipped"
        else:
            outcomes[case.attrib["name"]] = "passed"
    return outcomes


def test_langgraph_store_suite(langgraph_sources: Path, suite_url: str, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    env = dict(os.environ, THREADSTORE_LG_SUITE_URL=suite_url)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGIN_DIR), env.get("PYTHONPATH")) if p)
    run = subprocess.run(
        [*SUITE, f"--junitxml={report}"],
        cwd=langgraph_sources,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    outcomes = _outcomes(report)
    assert len(outcomes) >= MIN_TESTS, run.stdout[-3000:]
    failed = {name: why for name, why in outcomes.items() if why.startswith("failed")}
    assert not [name for name, why in outcomes.items() if why == "skipped"]
    if suite_url == "memory://":
        assert failed == {}
    else:
        assert set(failed) == SYNC_CALLS_ON_THE_LOOP, failed
        assert all("SyncStoreError" in why for why in failed.values()), failed
