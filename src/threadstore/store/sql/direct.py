"""Hot one-call reads straight on the driver: SQLAlchemy compiles, the driver runs.

A one-statement read in autocommit (get_thread, a message page, a thread
list, the latest checkpoint, lineage) spends more time in SQLAlchemy's
execution machinery than in the database: on asyncpg a greenlet switch per
driver call plus cursor emulation, on SQLite the sync execute path on the
worker. For statements built once per shape, :class:`DirectStatements`
keeps SQLAlchemy's own compilation of each statement for the dialect (its
SQL text, bind order and processors, result columns and processors) and
runs it on the pooled connection's driver connection: ``fetch`` on asyncpg,
one cursor on the SQLite worker. The SQL is the one SQLAlchemy would send;
only the execution path is shorter.

A read built per call (a filtered query, a search, an aggregate) is looked
up by its SQLAlchemy cache key instead, as SQLAlchemy's own compiled cache
does: compiled once per structure (a bounded LRU), its values taken from the
new statement's bound parameters (``construct_params(extracted_parameters=)``).

:mod:`~threadstore.store.sql.driver_calls` runs the compiled statements.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import JSON, Float, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import LRUCache

from threadstore import json_text
from threadstore.types import UTCDateTime

__all__ = [
    "MAX_DIRECT",
    "MAX_KEYED",
    "Compiled",
    "DirectStatements",
    "RecordShape",
]

MAX_DIRECT = 256
"""Statements compiled for the direct path at most; beyond, statements take SQLAlchemy's path."""

MAX_KEYED = 200
"""Statement structures built per call kept compiled (least recently used ones go first)."""

_Processor = Callable[[Any], Any] | None
_R = TypeVar("_R")
_UNSEEN: Any = object()


@dataclass(frozen=True, slots=True)
class RecordShape(Generic[_R]):
    """How rows of a table become its records: ``build`` a row mapping; ``keys`` in order.

    ``keys`` are the record's keys, each a column of that name whose value
    the record holds as read (timestamps as ISO text, see
    :func:`threadstore.clock.stamp`); ``build`` does the same for any row.
    None: the record renames or converts columns, so every row goes through
    ``build``.
    """

    keys: tuple[str, ...] | None
    build: Callable[[Mapping[Any, Any]], _R]


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement as SQLAlchemy compiled it for one dialect."""

    sql: str
    names: frozenset[str]
    """The statement's bind names."""
    take: Callable[[Mapping[str, Any]], list[Any]]
    """The binds' values in positional order, from a mapping holding them all (one C call)."""
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]
    """The positions of the binds that have a bind processor, with it."""
    defaults: Mapping[str, Any]
    """Values of binds the statement carries itself (e.g. literal comparisons)."""
    columns: tuple[tuple[str, _Processor], ...]
    """Result keys in column order, with their result processors."""
    stamped: tuple[tuple[str, _Processor], ...]
    """The same, with timestamps (``UTCDateTime``) as a record's ISO 8601 text."""
    fills: Mapping[str, Callable[[list[dict[str, Any]], str], None]]
    """Timestamp columns made ISO text a column at a time (``UTCDateTime.iso_column``)."""

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        """The positional driver arguments for ``params``.

        Raises:
            KeyError: a bind neither ``params`` nor the statement gives.
        """
        given: Mapping[str, Any] = params or {}
        if self.defaults:
            given = {**self.defaults, **given}
        args = self.take(given)
        for index, process in self.processed:
            args[index] = process(args[index])
        return args

    def records(self, raw: Sequence[Sequence[Any]], shape: RecordShape[_R]) -> list[_R]:
        """Driver rows as ``shape``'s records.

        When the statement's first columns are the record's keys, in order
        (``select(table)``), each record is built straight from its row; else
        through :meth:`rows` and ``shape.build``.
        """
        keys = shape.keys
        if keys is None or tuple(key for key, _ in self.stamped[: len(keys)]) != keys:
            return [shape.build(row) for row in self.rows(raw, stamps=True)]
        # zip's strict= alone costs a quarter of a microsecond a row
        found: list[dict[str, Any]] = [dict(zip(keys, row)) for row in raw]  # noqa: B905
        for key, process in self.stamped[: len(keys)]:
            fill = self.fills.get(key)
            if fill is not None:
                fill(found, key)
            elif process is not None:
                for record in found:
                    value = record[key]
                    if value is not None:
                        record[key] = process(value)
        return cast("list[_R]", found)

    def rows(self, raw: Sequence[Sequence[Any]], *, stamps: bool = False) -> list[dict[str, Any]]:
        """Driver rows as dicts keyed like SQLAlchemy's ``mappings()``.

        ``stamps``: timestamps as ISO 8601 text (what records hold, see
        :func:`threadstore.clock.stamp`) instead of datetimes.
        """
        columns = self.stamped if stamps else self.columns
        keys = [key for key, _ in columns]
        processed = [(key, process) for key, process in columns if process is not None]
        found = []
        if raw and len(raw[0]) != len(keys):
            raise ValueError(f"{len(raw[0])} columns in a row, {len(keys)} expected")
        for row in raw:
            values = dict(zip(keys, row))  # noqa: B905 (checked above, strict= is slow)
            for key, process in processed:
                value = values[key]
                if value is not None:
                    values[key] = process(value)
            found.append(values)
        return found


class DirectStatements:
    """The statements of one store compiled for its dialect, each once.

    Statements that cannot run this way (expanding or post-compile parameters,
    no result columns) are remembered as such and take SQLAlchemy's path.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._compiled: dict[ClauseElement, Compiled | None] = {}
        self._writes: dict[ClauseElement, Compiled | None] = {}
        self._lock = threading.Lock()
        self._keyed: LRUCache[Any, tuple[Compiled, SQLCompiler] | None] = LRUCache(MAX_KEYED)

    def get(self, statement: ClauseElement) -> Compiled | None:
        """The compiled form of ``statement``, or None when it must take SQLAlchemy's path."""
        return self._cached(self._compiled, statement, write=False)

    def get_write(
        self, statement: ClauseElement, params: Mapping[str, Any] | None = None
    ) -> Compiled | None:
        """:meth:`get` for a write without RETURNING (an INSERT or upsert built once).

        With ``params``: None unless they give every bind (else SQLAlchemy
        fills in the defaults of the columns left out).
        """
        compiled = self._cached(self._writes, statement, write=True)
        if compiled is None or params is None:
            return compiled
        return compiled if params.keys() >= compiled.names else None

    def _cached(
        self, cache: dict[ClauseElement, Compiled | None], statement: ClauseElement, *, write: bool
    ) -> Compiled | None:
        if statement in cache:
            return cache[statement]
        if len(cache) >= MAX_DIRECT:
            return None  # SQLAlchemy's own statement cache serves the rest
        compiled = _compile(statement.compile(dialect=self._dialect), self._dialect, write=write)
        with self._lock:
            cache[statement] = compiled
        return compiled

    def keyed(
        self, statement: ClauseElement, params: Mapping[str, Any] | None
    ) -> tuple[Compiled, dict[str, Any]] | None:
        """A statement built per call: its structure's compiled form and this call's values.

        None when it must take SQLAlchemy's path (as for :meth:`get`, or it has
        no cache key).
        """
        key = statement._generate_cache_key()
        if key is None:
            return None
        entry = self._keyed.get(key.key, _UNSEEN)
        if entry is _UNSEEN:
            compiler = statement._compiler(self._dialect, cache_key=key)
            compiled = _compile(compiler, self._dialect)  # None unless an SQLCompiler
            entry = None if compiled is None else (compiled, cast(SQLCompiler, compiler))
            self._keyed[key.key] = entry
        if entry is None:
            return None
        compiled, compiler = entry
        values = compiler.construct_params(dict(params or {}), extracted_parameters=key.bindparams)
        return compiled, dict(values)


def _compile(compiled: Any, dialect: Dialect, *, write: bool = False) -> Compiled | None:
    if not isinstance(compiled, SQLCompiler) or compiled._result_columns is None:
        return None
    if bool(compiled._result_columns) == write:
        return None  # a read returns rows; a write here returns none (no RETURNING)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    names = compiled.positiontup or []
    processors = compiled._bind_processors
    defaults = {
        name: bind.effective_value
        for bind, name in compiled.bind_names.items()
        if not bind.required and name in names
    }
    if any(bind.expanding for bind in compiled.bind_names):
        return None
    columns: list[tuple[str, _Processor]] = []
    stamped: list[tuple[str, _Processor]] = []
    fills: dict[str, Callable[[list[dict[str, Any]], str], None]] = {}
    for entry in compiled._result_columns:
        type_ = entry[3]
        if not _numeric(type_):
            columns.append((entry[0], _result_processor(type_, dialect)))
        elif isinstance(type_, Float) and not type_.asdecimal:
            columns.append((entry[0], float))  # a float, or a Decimal from a numeric column
        else:
            return None  # its result processor depends on the driver's column type
        if isinstance(type_, UTCDateTime):
            stamped.append((entry[0], type_.iso_processor(dialect, None)))
            fill = type_.iso_column(dialect)
            if fill is not None:
                fills[entry[0]] = fill
        else:
            stamped.append(columns[-1])
    if len({key for key, _ in columns}) != len(columns):
        return None  # duplicate keys: leave the disambiguation to SQLAlchemy
    types = {name: bind.type for bind, name in compiled.bind_names.items()}
    binds: list[tuple[str, _Processor]] = []
    for name in names:
        process = processors.get(name)
        if process is not None and not callable(process):
            return None  # a tuple-valued bind: one processor per element
        if (
            process is not None
            and isinstance(types.get(name), JSON)
            and getattr(dialect, "_json_serializer", None) is None
        ):
            binds.append((name, json_text.bind_processor(process)))
            continue
        binds.append((name, process))
    return Compiled(
        sql=compiled.string,
        names=frozenset(names),
        take=_taker(names),
        processed=tuple(
            (i, process) for i, (_, process) in enumerate(binds) if process is not None
        ),
        defaults=defaults,
        columns=tuple(columns),
        stamped=tuple(stamped),
        fills=fills,
    )


def _taker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A function giving the values of ``names`` from a mapping, as a new list, in one C call."""
    if not names:
        return lambda _given: []
    if len(names) == 1:
        one = operator.itemgetter(names[0])
        return lambda given: [one(given)]
    many = operator.itemgetter(*names)
    return lambda given: list(many(given))


def _result_processor(type_: Any, dialect: Dialect) -> _Processor:
    """SQLAlchemy's result processor of ``type_``; JSON text in one scanner call."""
    process = type_._cached_result_processor(dialect, None)
    if (
        process is not None
        and isinstance(type_, JSON)
        and getattr(dialect, "_json_deserializer", None) in (None, json_text.loads)
    ):
        return json_text.result_processor(process)
    return cast("_Processor", process)


def _numeric(type_: Any) -> bool:
    affinity = type_._type_affinity
    return affinity is not None and issubclass(affinity, (Numeric, Float))
