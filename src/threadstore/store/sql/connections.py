"""The connections a unit of work runs on: SQLAlchemy's asyncio ones, or SQLite's threaded ones."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from threadstore.store.sql.threaded import ThreadedConnection, ThreadedEngine, ThreadedTransaction

__all__ = ["Conn", "Engine", "Tx"]

Engine = AsyncEngine | ThreadedEngine
"""PostgreSQL (and a borrowed aiosqlite engine): asyncio; SQLite: threaded."""
Conn = AsyncConnection | ThreadedConnection
"""A connection of an :data:`Engine`."""
Tx = AsyncTransaction | ThreadedTransaction
"""A transaction or savepoint of a :data:`Conn`."""
