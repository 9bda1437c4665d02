"""The SQL statements a store runs, recorded from its engine (one-statement and EXPLAIN checks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from threadstore import SQLAlchemyStore

Statement = tuple[str, Any]
"""A statement's SQL text and its parameters, as the driver got them."""


@contextlib.contextmanager
def recorded(store: SQLAlchemyStore) -> Iterator[list[Statement]]:
    """Collect every statement ``store`` executes inside the block."""
    statements: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def counted_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every call SQLite's threaded engine sends to a worker from now on."""
    from threadstore.store.sql.threaded import ThreadedEngine

    trips: list[str] = []
    run = ThreadedEngine.run

    async def counted(self: ThreadedEngine, fn: Any, *args: Any) -> Any:
        trips.append(getattr(fn, "__name__", type(fn).__name__))
        return await run(self, fn, *args)

    monkeypatch.setattr(ThreadedEngine, "run", counted)
    return trips
