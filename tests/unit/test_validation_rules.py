"""The shared input checks, without a store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from threadstore.errors import ValidationError
from threadstore.store.base import fork_title
from threadstore.validation import MAX_TTL, check_id, check_json_value, check_ttl


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
