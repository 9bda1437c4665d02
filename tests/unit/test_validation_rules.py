"""The shared input checks, without a store."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadstore.errors import ValidationError
from threadstore.store.base import fork_title
from threadstore.validation import (
    _MAX_JSON_DEPTH,
    MAX_TTL,
    check_id,
    check_json_value,
    check_ttl,
    json_copy,
)


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -1.5, "text", [], {}, {"a": [1, {"b": None}]}, "é🙂"],
)
def test_json_values_accepted(value: object) -> None:
    check_json_value("v", value)


def test_deep_nesting_refused() -> None:
    value: object = "leaf"
    for _ in range(300):
        value = [value]
    with pytest.raises(ValidationError, match="nested"):
        check_json_value("v", value)


def test_error_names_the_path() -> None:
    with pytest.raises(ValidationError, match=r"metadata\['a'\]\[1\]"):
        check_json_value("metadata", {"a": [1, {1, 2}]})


def test_ttl() -> None:
    default = timedelta(days=7)
    assert check_ttl(None, default=default) == default
    assert check_ttl(1.5, default=default) == timedelta(seconds=1.5)
    assert check_ttl(timedelta(minutes=2), default=default) == timedelta(minutes=2)
    with pytest.raises(ValidationError):
        check_ttl(timedelta(0), default=default)


@pytest.mark.parametrize("value", ["a\ud800b", ["\udfff"], {"\udc00": 1}])
def test_lone_surrogates_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="surrogate"):
        check_json_value("v", value)


def test_lone_surrogate_in_id_refused() -> None:
    with pytest.raises(ValidationError, match="surrogate"):
        check_id("thread_id", "t\ud800")


@pytest.mark.parametrize(
    "value", [1e-7, -1e20, 1e20, MAX_TTL + timedelta(microseconds=1), -MAX_TTL, 10**30]
)
def test_ttl_out_of_range_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="ttl"):
        check_ttl(value, default=timedelta(days=7))


def test_ttl_up_to_the_maximum_accepted() -> None:
    assert check_ttl(MAX_TTL, default=timedelta(days=7)) == MAX_TTL
    assert check_ttl(MAX_TTL.total_seconds(), default=timedelta(days=7)) == MAX_TTL


def test_fork_title_never_nests() -> None:
    assert fork_title("Plan", "p") == "Fork of Plan"
    assert fork_title(None, "p") == "Fork of p"
    assert fork_title("Fork of Plan", "f") == "Fork of Plan"


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included: refused
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF), max_size=8),
    st.tuples(st.integers()),  # never JSON as is: refused
)
_json_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=4), st.integers(), st.just("\x00"), st.just("\ud800")),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


def _containers(value: object) -> list[int]:
    if isinstance(value, dict):
        return [id(value), *(i for item in value.values() for i in _containers(item))]
    if isinstance(value, list):
        return [id(value), *(i for item in value for i in _containers(item))]
    return []


@given(_json_like)
def test_json_copy_refuses_exactly_what_the_check_refuses(value: object) -> None:
    """One pass that checks and copies agrees with the path-naming check and with deepcopy."""
    try:
        check_json_value("v", value)
    except ValidationError as refused:
        expected: str | None = refused.message
    else:
        expected = None
    if expected is not None:
        with pytest.raises(ValidationError) as info:
            json_copy("v", value)
        assert info.value.message == expected  # the same path named
        return
    copied = json_copy("v", value)
    assert copied == copy.deepcopy(value)
    assert not set(_containers(copied)) & set(_containers(value))  # nothing shared


def test_json_copy_refuses_too_deep_nesting() -> None:
    value: object = "leaf"
    for _ in range(300):
        value = {"k": value}
    with pytest.raises(ValidationError, match="nested"):
        json_copy("v", value)


@pytest.mark.parametrize("leaf", ["leaf", 7, None, True, 1.5, [], {}])
@pytest.mark.parametrize("container", ["list", "dict"])
@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_json_copy_and_the_check_agree_at_the_depth_limit(
    leaf: object, container: str, extra: int
) -> None:
    """A leaf just inside, at and just past the deepest level: copied or refused alike."""
    value: object = leaf
    for _ in range(_MAX_JSON_DEPTH + extra):
        value = [value] if container == "list" else {"k": value}
    try:
        check_json_value("v", value)
    except ValidationError:
        with pytest.raises(ValidationError, match="nested"):
            json_copy("v", value)
    else:
        assert json_copy("v", value) == value
