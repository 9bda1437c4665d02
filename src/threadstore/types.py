"""Column types: aware UTC datetimes and JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, TypeDecorator
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from threadstore.clock import isoformat, isoformat_utc_many

__all__ = ["BigIntId", "Identifier", "JSONDocument", "UTCDateTime"]


class _SqliteDateTime(sqlite.DATETIME):
    """SQLite's DATETIME (the same text, the same DDL), parsed by ``datetime.fromisoformat``.

    SQLAlchemy parses each value with a regular expression; the stored text is
    ISO 8601 (``2026-01-02 03:04:05.000006``), which the C parser reads several
    times faster, and a message page reads one per row.
    """

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """Parse ISO 8601 text (None stays None)."""
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            return None if value is None else parse(value)

        return process


def _utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC)."""
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    Naive datetimes are refused on the way in; SQLite, which stores no offset,
    gets the UTC wall time and has UTC re-attached on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """SQLite: its DATETIME, read back with the C ISO parser instead of a regex."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteDateTime())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(self.impl_instance)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; SQLite gets a naive UTC value."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """:meth:`process_bind_param` and the dialect's own processor; on SQLite in one call.

        A UTC datetime (what the store's clock gives) becomes SQLite's text by
        one ``isoformat``: the same text as SQLAlchemy's storage format
        (``2026-01-02 03:04:05.000006``), which formats seven fields by name.
        """
        composed = super().bind_processor(dialect)
        if dialect.name != "sqlite" or composed is None:
            return composed

        def to_text(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is UTC:
                return value.isoformat(" ", "microseconds")[:26]
            return composed(value)

        return to_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        return None if value is None else _utc(value)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """:meth:`process_result_value` after the dialect's own processor, in one wrapper.

        A value the driver already gives in UTC (asyncpg always does) is
        returned as is; SQLite's text is parsed by :class:`_SqliteDateTime`.
        """
        inner = _inner_processor(self, dialect, coltype)

        def to_utc(value: Any) -> datetime | None:
            if inner is not None:
                value = inner(value)
            return None if value is None else _utc(value)

        return to_utc

    def iso_processor(self, dialect: Dialect, coltype: object) -> Any:
        """A result processor giving a record's ISO 8601 text (``clock.isoformat``) directly.

        On SQLite the stored text as SQLAlchemy writes it
        (``2026-01-02 03:04:05.000006``, UTC) is rearranged without parsing;
        any other text, and every other backend, goes through the datetime.
        """
        to_utc = self.result_processor(dialect, coltype)

        def to_iso(value: Any) -> str | None:
            value = to_utc(value)
            return None if value is None else isoformat(value)

        if dialect.name != "sqlite":
            if _inner_processor(self, dialect, coltype) is not None:
                return to_iso

            def datetime_to_iso(value: Any) -> str | None:
                if value is None:
                    return None
                if value.tzinfo is UTC:  # asyncpg's timestamptz: one C call
                    text: str = value.isoformat("T", "microseconds")  # positional: no keywords
                    return text
                return to_iso(value)

            return datetime_to_iso

        def text_to_iso(value: Any) -> str | None:
            if type(value) is str and len(value) == 26 and value[10] == " " and value[19] == ".":
                return f"{value[:10]}T{value[11:]}+00:00"
            return to_iso(value)

        return text_to_iso

    def iso_column(self, dialect: Dialect) -> Callable[[list[dict[str, Any]], str], None] | None:
        """A column of records from driver rows turned to ISO text in place, in one loop.

        For drivers that give UTC datetimes as they are (asyncpg), where a call
        of :meth:`iso_processor` per value is most of the cost; None elsewhere.
        """
        if dialect.name == "sqlite" or _inner_processor(self, dialect, None) is not None:
            return None
        other = self.iso_processor(dialect, None)

        def fill(records: list[dict[str, Any]], key: str) -> None:
            values = [record[key] for record in records]
            texts = isoformat_utc_many(values)
            for record, value, text in zip(records, values, texts, strict=True):
                if text is not None:
                    record[key] = text
                elif value is not None:
                    record[key] = other(value)

        return fill


def _inner_processor(column: UTCDateTime, dialect: Dialect, coltype: object) -> Any:
    """The dialect's own result processor under ``column`` (None: the driver's value as is)."""
    return column.load_dialect_impl(dialect).result_processor(dialect, coltype)


JSONDocument: Any = JSON().with_variant(JSONB(), "postgresql")
"""JSON column type: JSONB on PostgreSQL, JSON text elsewhere."""

BigIntId: Any = BigInteger().with_variant(Integer(), "sqlite")
"""Surrogate key: BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite."""

Identifier: Any = String(255).with_variant(String(255, collation="C"), "postgresql")
"""A caller-supplied id; byte-wise ("C") ordering on PostgreSQL, as on SQLite."""
