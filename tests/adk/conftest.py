"""The ADK adapter's tests also run through PgBouncer (transaction pooling)."""

from __future__ import annotations

import pytest

from tests.conftest import POOLED_BACKENDS


@pytest.fixture(params=POOLED_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every backend, plus PostgreSQL behind PgBouncer."""
    return str(request.param)
