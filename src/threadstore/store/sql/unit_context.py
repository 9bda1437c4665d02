"""What every unit of work of one SQLAlchemyStore shares: dialect, locks, compiled statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from threadstore.clock import Clock
from threadstore.store.locks import LoopLock
from threadstore.store.sql.checkpoint_queries import SaverStatements
from threadstore.store.sql.direct import DirectStatements
from threadstore.store.sql.group_commit import GroupCommit
from threadstore.store.sql.replicas import ReplicaSet
from threadstore.store.sql.tables import upsert
from threadstore.store.sql.vector_distance import PgVectorProbe

__all__ = ["SqlContext"]


@dataclass(frozen=True)
class SqlContext:
    """What every unit of one store shares."""

    dialect: str
    where: str
    autocommit: bool
    """Whether reads and one-statement writes may run outside a transaction (not
    behind PgBouncer, where a statement's parse and execute could reach two servers)."""
    database: str | None
    clock: Clock
    write_lock: LoopLock
    saver_statements: SaverStatements
    replicas: ReplicaSet | None = None
    group_commit: GroupCommit | None = None
    """SQLite: one-call writes share transactions (see :mod:`.group_commit`)."""
    direct: DirectStatements | None = field(default=None, compare=False)
    """Hot reads compiled for the driver (see :mod:`.direct`); None: always SQLAlchemy's path."""
    sqlite_vec: bool = False
    """SQLite with sqlite-vec loaded: long-term store searches rank in SQL."""
    pgvector: PgVectorProbe = field(default_factory=PgVectorProbe, compare=False)
    """PostgreSQL: whether the database has pgvector, asked on the first ranked search."""

    def upsert(self, table: Table) -> Any:
        """An INSERT accepting ``on_conflict_do_update`` on this dialect."""
        return upsert(self.dialect, table)
