"""Full-text search statements per dialect: FTS5 on SQLite, a tsquery on PostgreSQL.

Both read :class:`~threadstore.store.search_inputs.SearchInput` terms, which
are runs of letters and digits only, and quote each one, so no user input
reaches FTS5's or tsquery's operator syntax. Every value is a bound
parameter, except PostgreSQL's tsquery text: it is written into the statement
as a string literal (:func:`tsquery_literal`; letters, digits and our own
quotes only), so that the planner always sees the words. With a parameter, a
prepared statement soon runs a generic plan that assumes every word is as
rare as any other; for a common word and a user's threads that plan re-read
the word's whole posting list once per thread (1.6 s instead of 20 ms at a
million messages, bench/bench_queries.py).

SQLite (revision 0008): ``threadstore_search_messages``, an FTS5
external-content table over ``threadstore_messages`` (whose ``id`` is the
rowid), and ``threadstore_search_threads``, an FTS5 table of thread titles
keyed through ``threadstore_search_thread_rows`` (thread rowids are not
stable: VACUUM may renumber them). Triggers keep both in sync. Tokenizer
``unicode61 remove_diacritics 0``; score ``-bm25()``; snippet ``snippet()``.

PostgreSQL: the GIN indexes ``ix_threadstore_messages_search`` on the stored
column ``search_vector`` (revision 0011: ``to_tsvector(threadstore_search_config(),
content)``, computed at write, so ranking never re-parses a message) and
``ix_threadstore_threads_search`` on ``to_tsvector(threadstore_search_config(),
title)``; the function returns the text search configuration chosen when
migrating (default ``simple``). Score ``ts_rank(..., 1)`` (divided by 1 + log
of the document's length); snippet ``ts_headline()``, of one page's hits only.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, Text, bindparam, text
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import TextualSelect
from sqlalchemy.types import TypeEngine

from threadstore.store.search_inputs import SearchInput
from threadstore.types import UTCDateTime

__all__ = [
    "FTS_TABLES",
    "MESSAGES",
    "PG_CONFIG",
    "THREADS",
    "Target",
    "match_text",
    "statement",
    "tsquery_literal",
    "tsquery_text",
]

PG_CONFIG = "threadstore_search_config()"
SNIPPET_WORDS = 12
FTS_TABLES = ("threadstore_search_messages", "threadstore_search_threads")
"""SQLite's FTS5 tables (``erase_user`` rewrites both)."""


@dataclass(frozen=True)
class Target:
    """What one search reads: the hit's columns, its key and how SQLite reaches its rows."""

    fts: str
    hit: str
    """The SELECT list of a hit (without score and snippet), over alias ``d``."""
    key: str
    key_name: str
    """The key's name in a hit (the cursor's second value)."""
    document: str
    """The text column searched."""
    pg_vector: str
    """Its tsvector on PostgreSQL: a stored column or the expression its index is on."""
    sqlite_from: str
    pg_from: str
    columns: dict[str, TypeEngine[Any]]


MESSAGES = Target(
    fts="threadstore_search_messages",
    hit="d.id AS message_id, d.thread_id, d.seq, d.role, d.content, d.timestamp AS created_at",
    key="d.id",
    key_name="message_id",
    document="content",
    pg_vector="d.search_vector",
    sqlite_from="threadstore_search_messages "
    "JOIN threadstore_messages AS d ON d.id = threadstore_search_messages.rowid",
    pg_from="threadstore_messages AS d",
    columns={
        "message_id": Integer(),
        "thread_id": String(),
        "seq": Integer(),
        "role": String(),
        "content": Text(),
        "created_at": UTCDateTime(),
        "score": Float(),
        "snippet": Text(),
    },
)
THREADS = Target(
    fts="threadstore_search_threads",
    hit="d.id AS thread_id, d.user_id, d.agent_name, d.title, d.created_at, d.updated_at",
    key="d.id",
    key_name="thread_id",
    document="title",
    pg_vector=f"to_tsvector({PG_CONFIG}, d.title)",
    sqlite_from="threadstore_search_threads "
    "JOIN threadstore_search_thread_rows AS r ON r.id = threadstore_search_threads.rowid "
    "JOIN threadstore_threads AS d ON d.id = r.thread_id",
    pg_from="threadstore_threads AS d",
    columns={
        "thread_id": String(),
        "user_id": String(),
        "agent_name": String(),
        "title": Text(),
        "created_at": UTCDateTime(),
        "updated_at": UTCDateTime(),
        "score": Float(),
        "snippet": Text(),
    },
)

_TARGETS = {target.fts: target for target in (MESSAGES, THREADS)}

_SQLITE = """
SELECT {hit}, {score} AS score,
       snippet({fts}, 0, :open, :close, '…', {words}) AS snippet
FROM {source}{join}
WHERE {fts} MATCH :query{where}
ORDER BY score DESC, {key} DESC
LIMIT :limit
"""
_PG_QUERY = "to_tsquery({config}, {literal})"
_TSQUERY_LITERAL = re.compile(r"'(?:[^\W_]|[':*&| ])*'")
_PG = """
SELECT hit.*, ts_headline({config}, hit.{document}, {query}, :options) AS snippet
FROM (
    SELECT {hit}, {score} AS score
    FROM {source}{join}
    WHERE {vector} @@ {query}{where}
    ORDER BY score DESC, {key} DESC
    LIMIT :limit
) AS hit
ORDER BY hit.score DESC, hit.{key_name} DESC
"""
_PG_HEADLINE = 'StartSel="{open}", StopSel="{close}", MaxWords=20, MinWords=6'
MAX_PG_SHAPES = 256
"""PostgreSQL search statements kept built (least recently used ones go first)."""


def match_text(args: SearchInput) -> str:
    """The FTS5 query: each term a quoted string (``*`` after it for a prefix), all required."""
    star = "*" if args.prefix else ""
    return " ".join(f'"{term}"{star}' for term in args.terms)


def tsquery_text(args: SearchInput) -> str:
    """The tsquery text: each term a quoted lexeme (``:*`` for a prefix), joined by ``&``."""
    star = ":*" if args.prefix else ""
    return " & ".join(f"'{term}'{star}" for term in args.terms)


def tsquery_literal(args: SearchInput) -> str:
    """:func:`tsquery_text` as a SQL string literal (its quotes doubled), checked to be inert."""
    literal = "'" + tsquery_text(args).replace("'", "''") + "'"
    if not _TSQUERY_LITERAL.fullmatch(literal):  # terms are letters and digits only
        raise ValueError(f"not a safe tsquery literal: {literal!r}")
    return literal


def _pg_query(args: SearchInput) -> str:
    return _PG_QUERY.format(config=PG_CONFIG, literal=tsquery_literal(args))


def _score(dialect: str, target: Target, query: str | None) -> str:
    if dialect == "sqlite":
        return f"-bm25({target.fts})"
    assert query is not None
    return f"CAST(ts_rank({target.pg_vector}, {query}, 1) AS double precision)"


def statement(
    dialect: str, target: Target, args: SearchInput, conditions: list[str], join: str, after: bool
) -> tuple[TextualSelect, dict[str, Any], bool]:
    """The search statement, its dialect-specific parameters, and whether it is per call.

    ``conditions`` are fixed SQL fragments over ``d`` (the document: a
    message or a thread) and whatever ``join`` adds (e.g. ``t``, a message's
    thread); ``after`` adds the keyset bound on ``(score, key)``, whose
    values are ``:after_score`` and ``:after_id``. On SQLite every value is a
    parameter, so the statement is built once per shape; on PostgreSQL the
    tsquery is part of the text (see the module), so it is built per call.
    """
    opened, closed = args.highlight
    if dialect == "sqlite":
        params: dict[str, Any] = {"query": match_text(args), "open": opened, "close": closed}
        return _sqlite_shape(target.fts, tuple(conditions), join, after), params, False
    params = {"options": _PG_HEADLINE.format(open=opened, close=closed)}
    shaped = _pg_shape(target.fts, _pg_query(args), tuple(conditions), join, after)
    return shaped, params, True


@functools.lru_cache(maxsize=MAX_PG_SHAPES)
def _pg_shape(
    fts: str, query: str, conditions: tuple[str, ...], join: str, after: bool
) -> TextualSelect:
    """PostgreSQL's statement for a tsquery (``query``, its SQL) and a shape.

    The recent ones are kept: a search paged, or asked again, reuses its
    statement, and with it SQLAlchemy's memoized cache key (see
    ``DirectStatements.keyed``), instead of building and parsing the text anew.
    """
    return _build("postgresql", _TARGETS[fts], query, conditions, join, after)


@functools.cache
def _sqlite_shape(fts: str, conditions: tuple[str, ...], join: str, after: bool) -> TextualSelect:
    """SQLite's statement for the target of ``fts``, built once per shape.

    Its conditions are fixed fragments, so there are finitely many shapes.
    """
    return _build("sqlite", _TARGETS[fts], None, conditions, join, after)


def _build(
    dialect: str,
    target: Target,
    query: str | None,
    conditions: tuple[str, ...],
    join: str,
    after: bool,
) -> TextualSelect:
    """The statement of :func:`statement` (``query``: PostgreSQL's tsquery SQL)."""
    score = _score(dialect, target, query)
    where = list(conditions)
    if after:
        bound = f"({score} < :after_score OR ({score} = :after_score AND {target.key} < :after_id))"
        where.append(bound)
    parts = {
        "hit": target.hit,
        "score": score,
        "key": target.key,
        "join": join,
        "where": "".join(f"\n  AND {condition}" for condition in where),
    }
    if dialect == "sqlite":
        sql = _SQLITE.format(
            fts=target.fts, words=SNIPPET_WORDS, source=target.sqlite_from, **parts
        )
    else:
        assert query is not None  # PostgreSQL's statement holds the tsquery
        sql = _PG.format(
            config=PG_CONFIG,
            query=query,
            document=target.document,
            vector=target.pg_vector,
            source=target.pg_from,
            key_name=target.key_name,
            **parts,
        )
    key_type = target.columns[target.key_name]
    binds: list[BindParameter[Any]] = [bindparam("limit", type_=Integer())]
    if dialect == "sqlite":
        binds.append(bindparam("query", type_=Text()))
    if after:
        binds += [bindparam("after_score", type_=Float()), bindparam("after_id", type_=key_type)]
    return text(sql).bindparams(*binds).columns(**target.columns)
