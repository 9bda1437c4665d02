"""Pytest plugin: LangGraph's own store tests, with ThreadstoreLongTermStore as InMemoryStore.

Loaded (``-p threadstore_lg_suite_plugin``) by
``tests/langgraph/test_langgraph_store_suite.py`` into a pytest run over the
tests of the published ``langgraph-checkpoint`` sdist, fetched at test time.
Before those tests import ``InMemoryStore``, it is replaced by a subclass of
ThreadstoreLongTermStore: every instance gets a fresh user scope of one shared
threadstore store on the backend named by ``THREADSTORE_LG_SUITE_URL``
(``memory://`` or a database URL), so tests never see each other's items.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import langgraph.store.memory as lg_memory

from threadstore import BaseStore, MemoryStore, SQLAlchemyStore
from threadstore.langgraph import ThreadstoreLongTermStore
from threadstore.sync_loop import LoopThread

_URL = os.environ["THREADSTORE_LG_SUITE_URL"]
_RUNNER = LoopThread("suite-setup")
_SHARED: BaseStore = MemoryStore() if _URL == "memory://" else SQLAlchemyStore(_URL)
_RUNNER.run(_SHARED.initialize())


class SuiteStore(ThreadstoreLongTermStore):
    """``InMemoryStore(index=...)`` as the suite builds it, on a fresh threadstore scope."""

    def __init__(self, *, index: Any = None, **options: Any) -> None:
        super().__init__(_SHARED.for_user(f"suite-{uuid.uuid4().hex}"), index=index, **options)


lg_memory.InMemoryStore = SuiteStore  # type: ignore[misc]
