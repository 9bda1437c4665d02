"""Checkpoint metadata made JSON-safe (``threadstore.langgraph.values.json_safe``).

The saver's checks walk every header and metadata value of every put; the
walk handles plain items in its loops. This pins it to the rule it
implements, written here plainly, for any value hypothesis draws: keys
become strings, tuples lists, NULs are dropped from strings, and a value
JSON cannot hold is refused.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadstore.errors import ValidationError
from threadstore.langgraph.values import json_safe


class _Refused(Exception):
    pass


def _rule(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, dict):
        return {_rule(str(k)): _rule(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rule(v) for v in value]
    raise _Refused


class _Odd:
    def __repr__(self) -> str:
        return "<odd>"


_text = st.text(alphabet=st.sampled_from(["a", "é", "\x00", " ", "1"]), max_size=4)
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | _text | st.just(_Odd())
_keys = _text | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_keys, inner, max_size=4)
    ),
    max_leaves=16,
)


@given(_values)
def test_json_safe_follows_the_rule(value: Any) -> None:
    try:
        expected = _rule(value)
    except _Refused:
        with pytest.raises(ValidationError, match="which JSON cannot store"):
            json_safe(value)
        return
    got = json_safe(value)
    assert got == expected
    assert type(got) is type(expected)


def test_a_checkpoint_header_keeps_its_versions() -> None:
    header = {
        "v": 4,
        "id": "1ef",
        "ts": "2026-12-03T00:00:00+00:00",
        "channel_versions": {"messages": "0002.0.1", "__start__": 3},
        "versions_seen": {"agent": {"messages": "0002.0.1"}, "__input__": {}},
    }
    assert json_safe(header, "header") == header
