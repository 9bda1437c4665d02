"""The one parser of search text: plain words, never engine syntax."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadstore import ValidationError
from threadstore.store.search_inputs import MAX_TERMS, SearchInput, parse_terms
from threadstore.store.sql.search_dialects import match_text, tsquery_literal, tsquery_text


def _search(terms: tuple[str, ...], *, prefix: bool = False) -> SearchInput:
    return SearchInput(terms, prefix, None, None, None, None, ("[", "]"))


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Refund", ("refund",)),
        ('"refund" NOT late', ("refund", "not", "late")),
        ("refund* -late (x) OR y:z", ("refund", "late", "x", "or", "y", "z")),
        ("foo_bar 3.14 e-mail", ("foo", "bar", "3", "14", "e", "mail")),
        ("Über STRASSE straße", ("über", "strasse", "straße")),
        ("again again AGAIN", ("again",)),
        ("日本語 テキスト", ("日本語", "テキスト")),
    ],
)
def test_text_becomes_lowercased_distinct_words(text: str, terms: tuple[str, ...]) -> None:
    assert parse_terms(text) == terms


@pytest.mark.parametrize("text", ["", "  ", '"*"', "- ( ) :", 12, None, "a\x00b", "x" * 1001])
def test_no_words_or_bad_text_is_a_validation_error(text: object) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_terms(text)
    assert caught.value.suggestion


def test_too_many_terms_are_refused() -> None:
    assert len(parse_terms(" ".join(f"w{n}" for n in range(MAX_TERMS)))) == MAX_TERMS
    with pytest.raises(ValidationError, match="at most"):
        parse_terms(" ".join(f"w{n}" for n in range(MAX_TERMS + 1)))


@given(st.text(max_size=200))
def test_any_text_renders_to_quoted_terms_only(text: str) -> None:
    try:
        terms = parse_terms(text)
    except ValidationError:
        assert not re.search(r"[^\W_]", text) or "\x00" in text
        return
    assert all(re.fullmatch(r"[^\W_]+", term) for term in terms)
    for prefix in (False, True):
        fts = match_text(_search(terms, prefix=prefix))
        assert fts.count('"') == 2 * len(terms)
        tsq = tsquery_text(_search(terms, prefix=prefix))
        assert tsq.count("'") == 2 * len(terms)
        assert tsq.count("&") == len(terms) - 1
        # PostgreSQL gets it as a literal in the statement: only our own quotes in it, doubled
        literal = tsquery_literal(_search(terms, prefix=prefix))
        assert literal == "'" + tsq.replace("'", "''") + "'"
        assert literal[1:-1].replace("''", "").count("'") == 0
