"""Full-text search statements per dialect: FTS5 on SQLite, a tsquery on PostgreSQL.

Both read :class:`~threadstore.store.search_inputs.SearchInput` terms, which
are runs of letters and digits only, and quote each one, so no user input
reaches FTS5's or tsquery's operator syntax. Every value is a bound
parameter; only fixed fragments are put together here.

SQLite (revision 0008): ``threadstore_search_messages``, an FTS5
external-content table over ``threadstore_messages`` (whose ``id`` is the
rowid), and ``threadstore_search_threads``, an FTS5 table of thread titles
keyed through ``threadstore_search_thread_rows`` (thread rowids are not
stable: VACUUM may renumber them). Triggers keep both in sync. Tokenizer
``unicode61 remove_diacritics 0``; score ``-bm25()``; snippet ``snippet()``.

PostgreSQL: the GIN indexes ``ix_threadstore_messages_search`` and
``ix_threadstore_threads_search`` on ``to_tsvector(threadstore_search_config(),
content|title)``; the function returns the text search configuration chosen
when migrating (default ``simple``). Score ``ts_rank(..., 1)`` (divided by
1 + log of the document's length); snippet ``ts_headline()``.
"""

from __future__ import annotations

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
    sqlite_from: str
    pg_from: str
    columns: dict[str, TypeEngine[Any]]


MESSAGES = Target(
    fts="threadstore_search_messages",
    hit="d.id AS message_id, d.thread_id, d.seq, d.role, d.content, d.timestamp AS created_at",
    key="d.id",
    key_name="message_id",
    document="content",
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

_SQLITE = """
SELECT {hit}, {score} AS score,
       snippet({fts}, 0, :open, :close, '…', {words}) AS snippet
FROM {source}{join}
WHERE {fts} MATCH :query{where}
ORDER BY score DESC, {key} DESC
LIMIT :limit
"""
_PG_QUERY = f"to_tsquery({PG_CONFIG}, :query)"
_PG = """
SELECT hit.*, ts_headline({config}, hit.{document}, {query}, :options) AS snippet
FROM (
    SELECT {hit}, {score} AS score
    FROM {source}{join}
    WHERE to_tsvector({config}, d.{document}) @@ {query}{where}
    ORDER BY score DESC, {key} DESC
    LIMIT :limit
) AS hit
ORDER BY hit.score DESC, hit.{key_name} DESC
"""
_PG_HEADLINE = 'StartSel="{open}", StopSel="{close}", MaxWords=20, MinWords=6'


def match_text(args: SearchInput) -> str:
    """The FTS5 query: each term a quoted string (``*`` after it for a prefix), all required."""
    star = "*" if args.prefix else ""
    return " ".join(f'"{term}"{star}' for term in args.terms)


def tsquery_text(args: SearchInput) -> str:
    """The tsquery text: each term a quoted lexeme (``:*`` for a prefix), joined by ``&``."""
    star = ":*" if args.prefix else ""
    return " & ".join(f"'{term}'{star}" for term in args.terms)


def _score(dialect: str, target: Target) -> str:
    if dialect == "sqlite":
        return f"-bm25({target.fts})"
    vector = f"to_tsvector({PG_CONFIG}, d.{target.document})"
    return f"CAST(ts_rank({vector}, {_PG_QUERY}, 1) AS double precision)"


def statement(
    dialect: str, target: Target, args: SearchInput, conditions: list[str], join: str, after: bool
) -> tuple[TextualSelect, dict[str, Any]]:
    """The search statement and its dialect-specific parameters.

    ``conditions`` are fixed SQL fragments over ``d`` (the document: a
    message or a thread) and whatever ``join`` adds (e.g. ``t``, a message's
    thread); ``after`` adds the keyset bound on ``(score, key)``, whose
    values are ``:after_score`` and ``:after_id``.
    """
    score = _score(dialect, target)
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
    opened, closed = args.highlight
    if dialect == "sqlite":
        sql = _SQLITE.format(
            fts=target.fts, words=SNIPPET_WORDS, source=target.sqlite_from, **parts
        )
        params: dict[str, Any] = {"query": match_text(args), "open": opened, "close": closed}
    else:
        sql = _PG.format(
            config=PG_CONFIG,
            query=_PG_QUERY,
            document=target.document,
            source=target.pg_from,
            key_name=target.key_name,
            **parts,
        )
        params = {
            "query": tsquery_text(args),
            "options": _PG_HEADLINE.format(open=opened, close=closed),
        }
    key_type = target.columns[target.key_name]
    binds: list[BindParameter[Any]] = [
        bindparam("query", type_=Text()),
        bindparam("limit", type_=Integer()),
    ]
    if after:
        binds += [bindparam("after_score", type_=Float()), bindparam("after_id", type_=key_type)]
    return text(sql).bindparams(*binds).columns(**target.columns), params
