"""The SQL statements a store runs, recorded from its engine (one-statement and EXPLAIN checks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

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
