r"""Full-text search input, checked once for every backend.

The query text is never handed to a search engine's own syntax. One function,
:func:`parse_terms`, reads it as plain words: lowercased runs of Unicode
letters and digits (``[^\\W_]+``); everything else (quotes, ``*``, ``-``,
parentheses, ``:``) separates words, and words such as ``NOT`` or ``OR`` are
words like any other. A message matches when it contains every term (AND);
with ``prefix=True`` a term also matches the words it begins. Each backend
renders the same terms in its own syntax (FTS5 strings, a tsquery of quoted
lexemes, a Python set), so no input can cause a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from threadstore.errors import ValidationError
from threadstore.store.cursors import CursorScope
from threadstore.store.paging import KeysetPage, PageRequest, page_limit
from threadstore.validation import check_optional_id, check_text

__all__ = [
    "DEFAULT_HIGHLIGHT",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "SearchInput",
    "cursor_key",
    "parse_terms",
    "search_request",
    "tokens",
]

MAX_QUERY_LENGTH = 1000
"""Longest query text accepted, in characters."""
MAX_TERMS = 16
"""Most distinct terms a query may have."""
DEFAULT_HIGHLIGHT: tuple[str, str] = ("[", "]")
"""The markers put around each matched word of a snippet, unless ``highlight=`` says otherwise."""
_MAX_MARKER = 16
_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """The words of ``text`` as search sees them: lowercased runs of letters and digits."""
    return [word.lower() for word in _WORD.findall(text)]


def parse_terms(text: object) -> tuple[str, ...]:
    """The distinct terms of a query text, in first-seen order.

    Raises:
        ValidationError: the text is not a string, is too long, holds a NUL,
            or has no word at all.
    """
    checked = check_text("text", text, max_length=MAX_QUERY_LENGTH)
    terms = tuple(dict.fromkeys(tokens(checked)))
    if not terms:
        raise ValidationError(
            f"search text {checked[:40]!r} has no words",
            suggestion="Search for at least one word of letters or digits; quotes, '*', '-' "
            "and other punctuation only separate words.",
        )
    if len(terms) > MAX_TERMS:
        raise ValidationError(
            f"search text has {len(terms)} distinct words, at most {MAX_TERMS} are allowed",
            suggestion="Search for the few words that matter most.",
        )
    return terms


def _markers(highlight: object) -> tuple[str, str]:
    bad = ValidationError(
        f"highlight must be a pair of two non-empty strings, got {highlight!r}",
        suggestion=f"Pass e.g. highlight=('<b>', '</b>'): 1 to {_MAX_MARKER} characters each, "
        'without a double quote (").',
    )
    if not isinstance(highlight, tuple | list) or len(highlight) != 2:
        raise bad
    opened, closed = highlight
    for marker in (opened, closed):
        if not isinstance(marker, str) or not 0 < len(marker) <= _MAX_MARKER or '"' in marker:
            raise bad
        check_text("highlight", marker)
    return opened, closed


@dataclass(frozen=True)
class SearchInput:
    """A checked search: its terms, filters and snippet markers."""

    terms: tuple[str, ...]
    prefix: bool
    user_id: str | None
    agent_name: str | None
    thread_id: str | None
    role: str | None
    highlight: tuple[str, str]

    def matches(self, words: set[str] | list[str]) -> bool:
        """Whether a document of ``words`` holds every term (Python backends)."""
        return all(self.hits(term, words) for term in self.terms)

    def hits(self, term: str, words: set[str] | list[str]) -> int:
        """How many of ``words`` the term matches."""
        if self.prefix:
            return sum(1 for word in words if word.startswith(term))
        return sum(1 for word in words if word == term)


def search_request(
    method: str,
    text: object,
    *,
    user_id: object,
    agent_name: object,
    thread_id: object,
    role: object,
    limit: object,
    cursor: object,
    prefix: object,
    highlight: object,
    owner: str | None,
    key: type[str] | type[int] = int,
) -> tuple[SearchInput, PageRequest]:
    """Check every argument of a search method; the search and the page to read.

    Hits are ordered by score (higher is better) then their key (a message
    id, a thread id: of type ``key``), both descending; the cursor holds the
    last hit's :func:`cursor_key`.

    Raises:
        ValidationError: any argument is invalid, or the cursor was made for
            another search.
    """
    terms = parse_terms(text)
    if not isinstance(prefix, bool):
        raise ValidationError(
            f"prefix must be True or False, got {prefix!r}",
            suggestion="Pass prefix=True to match words that begin with a term.",
        )
    args = SearchInput(
        terms=terms,
        prefix=prefix,
        user_id=check_optional_id("user_id", user_id),
        agent_name=check_optional_id("agent_name", agent_name),
        thread_id=check_optional_id("thread_id", thread_id),
        role=check_optional_id("role", role),
        highlight=_markers(highlight),
    )
    size = page_limit(limit)
    scope = CursorScope(
        method,
        "score:desc",
        {
            "terms": " ".join(terms),
            "prefix": int(prefix),
            "user_id": args.user_id,
            "agent_name": args.agent_name,
            "thread_id": args.thread_id,
            "role": args.role,
            "view": owner,
        },
    )
    position = scope.decode(cursor, [str, key])
    after = None if position is None else (_score(scope, position[0]), position[1])
    return args, PageRequest(scope, size, KeysetPage(size + 1, descending=True, after=after))


def cursor_key(score: float, key: str | int) -> tuple[str, str | int]:
    """A hit's cursor position: its exact score (as ``float.hex``) and its key."""
    return (score.hex(), key)


def _score(scope: CursorScope, value: object) -> float:
    try:
        assert isinstance(value, str)
        score = float.fromhex(value)
    except (AssertionError, ValueError, OverflowError) as exc:
        raise scope.bad_position() from exc
    if score != score or score in (float("inf"), float("-inf")):
        raise scope.bad_position()
    return score
