"""LangGraph's own conformance suite, every capability, on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

pytest.importorskip("langgraph.checkpoint.conformance")

from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from tests.conftest import POOLED_BACKENDS, StoreFactory
from threadstore.langgraph import ThreadstoreSaver

# 81 tests in 8 capabilities (langgraph-checkpoint-conformance 0.0.2); a newer
# suite may add tests, never drop capabilities.
MIN_TESTS = 81


@pytest.fixture(params=POOLED_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every backend, plus PostgreSQL behind PgBouncer."""
    return str(request.param)


async def test_conformance_full(backend: str, store_factory: StoreFactory) -> None:
    async def factory() -> AsyncIterator[ThreadstoreSaver]:
        store = store_factory()
        await store.initialize()
        try:
            yield ThreadstoreSaver(store)
        finally:
            await store.close()

    registered = checkpointer_test(name=f"ThreadstoreSaver[{backend}]")(factory)
    report = await validate(registered)

    failures = {name: result.failures for name, result in report.results.items() if result.failures}
    assert failures == {}
    assert {name for name, r in report.results.items() if r.detected} == {
        c.value for c in ALL_CAPABILITIES
    }
    assert all(r.passed is True for r in report.results.values())
    passed = sum(r.tests_passed for r in report.results.values())
    print(f"conformance {backend}: {passed} passed, level {report.conformance_level()}")
    assert passed >= MIN_TESTS
    assert report.conformance_level() == "FULL"
