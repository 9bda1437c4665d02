"""Declarative base: the naming convention and the column types every model uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from threadstore.types import JSONDocument, UTCDateTime

__all__ = ["NAMING_CONVENTION", "SEARCH_TABLE_PREFIX", "TABLE_PREFIX", "Base"]

TABLE_PREFIX = "threadstore_"
SEARCH_TABLE_PREFIX = f"{TABLE_PREFIX}search_"
"""SQLite's full-text search tables (revision 0008: FTS5 tables, their shadow tables and a row
map): no model, no data of their own (derived from messages and threads), so never exported,
compared or counted."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every threadstore table; its metadata is what Alembic compares."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
    }
