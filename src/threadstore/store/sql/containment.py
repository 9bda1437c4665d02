"""``metadata_contains`` as SQL: JSONB ``@>`` on PostgreSQL, json_each/json_extract on SQLite.

PostgreSQL evaluates ``metadata @> :needle`` itself (a ``jsonb_path_ops`` GIN
index serves it). SQLite has no containment operator, so the needle is
compiled into one boolean expression over the JSON text, following the rules
of :func:`threadstore.store.containment.contains` exactly: a key is read with
``json_type``/``json_extract`` (or matched through ``json_each`` when it is no
plain identifier), an array element is searched with a correlated
``EXISTS (SELECT 1 FROM json_each(...))``, and every scalar comparison checks
the JSON type first (``true`` is not ``1``; ``1`` equals ``1.0``). Container
branches are guarded by ``CASE`` so that a string is never parsed as JSON. The
whole filter runs inside the statement: no row leaves the database to be tested.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from threadstore.store.containment import json_kind

__all__ = ["metadata_contains"]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALAR_TYPES = {"null": ("null",), "string": ("text",), "number": ("integer", "real")}


def metadata_contains(
    dialect: str, column: ColumnElement[Any], needle: Mapping[str, Any]
) -> ColumnElement[bool]:
    """The condition "``column`` contains ``needle``" on this dialect."""
    if dialect == "postgresql":
        return type_coerce(column, JSONB).contains(dict(needle))
    names = (f"je{n}" for n in itertools.count())
    return _all(_member(column, key, value, names) for key, value in needle.items())


def _all(conditions: Iterator[ColumnElement[bool]]) -> ColumnElement[bool]:
    items = list(conditions)
    return and_(*items) if items else true()


def _member(document: Any, key: str, value: Any, names: Iterator[str]) -> ColumnElement[bool]:
    """The object ``document`` has ``key`` and its value contains ``value``."""
    if _PLAIN_KEY.fullmatch(key):
        path = f"$.{key}"
        kind, found = func.json_type(document, path), func.json_extract(document, path)
        return _holds(kind, found, value, names)
    each = func.json_each(document).table_valued("key", "value", "type").alias(next(names))
    return (
        select(literal(1))
        .select_from(each)
        .where(each.c.key == key, _holds(each.c.type, each.c.value, value, names))
        .exists()
    )


def _holds(
    kind: ColumnElement[Any], value: Any, needle: Any, names: Iterator[str]
) -> ColumnElement[bool]:
    """A JSON value (its ``json_type`` and SQL value) contains ``needle``."""
    wanted = json_kind(needle)
    if wanted == "boolean":
        return kind == ("true" if needle else "false")
    if wanted in _SCALAR_TYPES:
        types = _SCALAR_TYPES[wanted]
        typed = kind == types[0] if len(types) == 1 else kind.in_(types)
        return typed if needle is None else and_(typed, value == literal(needle))
    if wanted == "object":
        inner = _all(_member(value, key, item, names) for key, item in needle.items())
        return case((kind == "object", inner), else_=false())
    inner = _all(_element(value, item, names) for item in needle)
    return case((kind == "array", inner), else_=false())


def _element(array: Any, needle: Any, names: Iterator[str]) -> ColumnElement[bool]:
    """Some element of the JSON array ``array`` contains ``needle``."""
    each = func.json_each(array).table_valued("key", "value", "type").alias(next(names))
    return (
        select(literal(1))
        .select_from(each)
        .where(_holds(each.c.type, each.c.value, needle, names))
        .exists()
    )
