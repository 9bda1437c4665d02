"""Full-text search statements per dialect: FTS5 on SQLite, a tsquery on PostgreSQL.

Both read :class:`~threadstore.store.search_inputs.SearchInput` terms, which
are runs of letters and digits only, and quote each one, so no user input
reaches FTS5's or tsquery's operator syntax. Every value is a bound
parameter; only fixed fragments are put together here.

SQLite: ``threadstore_messages_fts``, an FTS5 external-content table over
``threadstore_messages`` (tokenizer ``unicode61 remove_diacritics 0``), kept
in sync by triggers (revision 0007). Score: ``-bm25()``; snippet:
``snippet()`` with 12 words.

PostgreSQL: the GIN index ``ix_threadstore_messages_search`` on
``to_tsvector(threadstore_search_config(), content)``; the function returns
the text search configuration chosen when migrating (default ``simple``).
Score: ``ts_rank(..., 1)`` (divided by 1 + log of the message's length);
snippet: ``ts_headline()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String, Text, bindparam, text
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import TextualSelect
from sqlalchemy.types import TypeEngine

from threadstore.store.search_inputs import SearchInput
from threadstore.types import UTCDateTime

__all__ = ["FTS_TABLE", "PG_CONFIG", "PG_INDEX", "match_text", "statement", "tsquery_text"]

FTS_TABLE = "threadstore_messages_fts"
PG_CONFIG = "threadstore_search_config()"
PG_INDEX = "ix_threadstore_messages_search"
SNIPPET_WORDS = 12

_COLUMNS: dict[str, TypeEngine[Any]] = {
    "message_id": Integer(),
    "thread_id": String(),
    "seq": Integer(),
    "role": String(),
    "content": Text(),
    "created_at": UTCDateTime(),
    "score": Float(),
    "snippet": Text(),
}
_HIT = "m.id AS message_id, m.thread_id, m.seq, m.role, m.content, m.timestamp AS created_at"

_SQLITE_SCORE = f"-bm25({FTS_TABLE})"
_SQLITE = f"""
SELECT {_HIT}, {_SQLITE_SCORE} AS score,
       snippet({FTS_TABLE}, 0, :open, :close, '…', {SNIPPET_WORDS}) AS snippet
FROM {FTS_TABLE} JOIN threadstore_messages AS m ON m.id = {FTS_TABLE}.rowid{{join}}
WHERE {FTS_TABLE} MATCH :query{{where}}
ORDER BY score DESC, m.id DESC
LIMIT :limit
"""

_PG_QUERY = f"to_tsquery({PG_CONFIG}, :query)"
_PG_VECTOR = f"to_tsvector({PG_CONFIG}, m.content)"
_PG_SCORE = f"CAST(ts_rank({_PG_VECTOR}, {_PG_QUERY}, 1) AS double precision)"
_PG = f"""
SELECT hit.*, ts_headline({PG_CONFIG}, hit.content, {_PG_QUERY}, :options) AS snippet
FROM (
    SELECT {_HIT}, {_PG_SCORE} AS score
    FROM threadstore_messages AS m{{join}}
    WHERE {_PG_VECTOR} @@ {_PG_QUERY}{{where}}
    ORDER BY score DESC, m.id DESC
    LIMIT :limit
) AS hit
ORDER BY hit.score DESC, hit.message_id DESC
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


def statement(
    dialect: str, args: SearchInput, conditions: list[str], join: bool, after: bool
) -> tuple[TextualSelect, dict[str, Any]]:
    """The search statement and its dialect-specific parameters.

    ``conditions`` are fixed SQL fragments over ``m`` (the message) and
    ``t`` (its thread, joined when ``join``); ``after`` adds the keyset bound
    on ``(score, m.id)``, whose values are ``:after_score`` and ``:after_id``.
    """
    sqlite = dialect == "sqlite"
    score = _SQLITE_SCORE if sqlite else _PG_SCORE
    where = list(conditions)
    if after:
        where.append(f"({score} < :after_score OR ({score} = :after_score AND m.id < :after_id))")
    fragments = {
        "join": " JOIN threadstore_threads AS t ON t.id = m.thread_id" if join else "",
        "where": "".join(f"\n  AND {condition}" for condition in where),
    }
    opened, closed = args.highlight
    if sqlite:
        sql = _SQLITE.format(**fragments)
        params: dict[str, Any] = {"query": match_text(args), "open": opened, "close": closed}
    else:
        sql = _PG.format(**fragments)
        options = _PG_HEADLINE.format(open=opened, close=closed)
        params = {"query": tsquery_text(args), "options": options}
    binds: list[BindParameter[Any]] = [
        bindparam("query", type_=Text()),
        bindparam("limit", type_=Integer()),
    ]
    if after:
        binds += [bindparam("after_score", type_=Float()), bindparam("after_id", type_=Integer())]
    return text(sql).bindparams(*binds).columns(**_COLUMNS), params
