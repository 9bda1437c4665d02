"""Fixtures for the LangGraph saver tests (each module skips without LangGraph)."""

from __future__ import annotations

from typing import Any

import pytest

from threadstore import BaseStore


@pytest.fixture
async def saver(store: BaseStore) -> Any:
    """A ThreadstoreSaver on the (initialized) store of the backend under test."""
    pytest.importorskip("langgraph.checkpoint.base")
    from threadstore.langgraph import ThreadstoreSaver

    return ThreadstoreSaver(store)
