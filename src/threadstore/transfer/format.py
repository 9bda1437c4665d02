"""The export format: versioned JSON Lines, values encoded losslessly by column type.

A file is UTF-8 text, one JSON document per line (gzip-compressed when its name
ends in ``.gz``):

1. a header: ``{"format": "threadstore-export", "format_version": 1,
   "schema_revision": "...", "selection": {...}, "tables": {name: [column, ...]}}``;
2. one line per row, ``{"table": name, "row": [value, ...]}``, the values in the
   header's column order, tables in dependency order (parents first), rows in
   primary-key order;
3. a trailer, ``{"end": {"rows": {name: count}}}``, without which a file is
   treated as truncated.

Values are encoded by the column's type, never guessed from the value:
timestamps as ISO-8601 with microseconds and an explicit offset, binary as
base64, JSON columns as the JSON value itself, decimals as strings, the rest
(text, integers, floats, booleans, NULL) as JSON scalars. The file carries no
clock reading and no backend name, so exporting the same rows twice gives the
same bytes.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, LargeBinary, Numeric, Table
from sqlalchemy.types import TypeDecorator, TypeEngine

from threadstore.errors import ValidationError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Kind",
    "canonical_digest",
    "column_kind",
    "decode_value",
    "dump_line",
    "encode_value",
]

FORMAT_NAME = "threadstore-export"
FORMAT_VERSION = 1


class Kind(Enum):
    """How a column's values are written to the file."""

    PLAIN = "plain"
    DATETIME = "datetime"
    DATE = "date"
    BYTES = "bytes"
    JSON = "json"
    DECIMAL = "decimal"
    FLOAT = "float"


def _base_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return type_


def column_kind(column: Column[Any]) -> Kind:
    """Return how ``column``'s values are encoded (from its type only)."""
    type_ = _base_type(column.type)
    if isinstance(type_, JSON):
        return Kind.JSON
    if isinstance(type_, DateTime):
        return Kind.DATETIME
    if isinstance(type_, Date):
        return Kind.DATE
    if isinstance(type_, LargeBinary):
        return Kind.BYTES
    if isinstance(type_, Numeric):
        return Kind.FLOAT if type_.asdecimal is False else Kind.DECIMAL
    return Kind.PLAIN


def encode_value(kind: Kind, value: Any) -> Any:
    """Encode one column value for the file (None stays None: SQL NULL)."""
    if value is None or kind is Kind.JSON or kind is Kind.PLAIN:
        return value
    if kind is Kind.DATETIME:
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return str(moment.astimezone(UTC).isoformat(timespec="microseconds"))
    if kind is Kind.DATE:
        return str(value.isoformat())
    if kind is Kind.BYTES:
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind is Kind.DECIMAL:
        return str(value)
    return float(value)


def decode_value(kind: Kind, value: Any, *, where: str) -> Any:
    """Decode one value read from a file; ``where`` names it in errors.

    Raises:
        ValidationError: the value does not fit the column's kind.
    """
    if value is None or kind is Kind.JSON:
        return value
    try:
        if kind is Kind.DATETIME:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("no UTC offset")
            return moment.astimezone(UTC)
        if kind is Kind.DATE:
            return date.fromisoformat(value)
        if kind is Kind.BYTES:
            return base64.b64decode(value.encode("ascii"), validate=True)
        if kind is Kind.DECIMAL:
            return decimal.Decimal(value)
        if kind is Kind.FLOAT:
            return float(value)
    except (ValueError, TypeError, AttributeError, binascii.Error, decimal.InvalidOperation) as exc:
        raise ValidationError(
            f"{where}: {value!r} is not a valid {kind.value} value ({exc})",
            suggestion="The export file was edited or damaged; export it again.",
        ) from exc
    if isinstance(value, (dict, list)):
        raise ValidationError(
            f"{where}: expected a scalar, got {type(value).__name__}",
            suggestion="The export file was edited or damaged; export it again.",
        )
    return value


def dump_line(document: Any) -> str:
    """Serialise one line of the file: compact, key order kept, no NaN."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def _canonical_json(value: Any) -> Any:
    """Normalise a JSON value the way JSONB would: sorted keys, integral floats as ints."""
    if isinstance(value, dict):
        return {key: _canonical_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_canonical_json(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical_digest(table: Table, kinds: list[Kind], row: tuple[Any, ...]) -> int:
    """Hash one row the same way on every backend (for per-table checksums).

    JSON values are compared by content: key order and ``1`` vs ``1.0`` are
    not differences (PostgreSQL's JSONB keeps neither).
    """
    encoded = [
        _canonical_json(value) if kind is Kind.JSON else encode_value(kind, value)
        for kind, value in zip(kinds, row, strict=True)
    ]
    text = json.dumps([table.name, encoded], sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")
