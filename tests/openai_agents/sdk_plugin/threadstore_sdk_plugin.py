"""A pytest plugin that runs the SDK's own session tests against ThreadstoreSession.

Loaded with ``-p threadstore_sdk_plugin`` in a pytest run inside the SDK's
unpacked sdist (see ``test_sdk_suite.py``). It replaces ``agents.SQLiteSession``,
before the SDK's test modules import it, by a ThreadstoreSession on the store at
``THREADSTORE_SDK_URL``: each ``(db_path, session_id)`` pair of a test becomes
its own thread, as each db file is its own database for the SDK.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import threading
from pathlib import Path
from typing import Any

import agents

from threadstore import BaseStore, create_store
from threadstore.openai_agents import ThreadstoreSession

_STORE: BaseStore | None = None
_READY = threading.Lock()
_INITIALIZED: set[int] = set()
_MEMORY_DBS = itertools.count()


def _store() -> BaseStore:
    global _STORE
    with _READY:
        if _STORE is None:
            _STORE = create_store(os.environ["THREADSTORE_SDK_URL"])
        return _STORE


class SQLiteSession(ThreadstoreSession):
    """``SQLiteSession(session_id, db_path=":memory:", ...)`` backed by threadstore."""

    def __init__(
        self,
        session_id: str,
        db_path: str | Path = ":memory:",
        sessions_table: str = "agent_sessions",
        messages_table: str = "agent_messages",
        session_settings: Any = None,
    ) -> None:
        where = f"memory-{next(_MEMORY_DBS)}" if str(db_path) == ":memory:" else str(db_path)
        tag = hashlib.sha1(f"{where}:{sessions_table}:{messages_table}".encode()).hexdigest()[:12]
        super().__init__(
            session_id,
            _store(),
            thread_id=f"{tag}-{session_id}",
            session_settings=session_settings,
        )

    async def _initialized(self) -> None:
        key = id(asyncio.get_running_loop())
        if key not in _INITIALIZED:
            await self.store.initialize()
            _INITIALIZED.add(key)

    async def get_items(self, limit: int | None = None) -> Any:
        await self._initialized()
        return await super().get_items(limit)

    async def add_items(self, items: Any) -> None:
        await self._initialized()
        await super().add_items(items)

    async def pop_item(self) -> Any:
        await self._initialized()
        return await super().pop_item()

    async def clear_session(self) -> None:
        await self._initialized()
        await super().clear_session()

    def close(self) -> None:
        """The store outlives the session (SQLiteSession closes its connection)."""


agents.SQLiteSession = SQLiteSession  # type: ignore[misc]
