"""JSON read and written by the C scanner and encoder directly (``threadstore.json_text``).

They must give exactly what ``json.loads`` / ``json.dumps`` give, and raise
the same errors, for any text a database could hold: NaN, and integers past
64 bits, which a faster parser such as orjson reads as floats, included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadstore import json_text

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(documents, st.sampled_from(["", " ", "\n", "\t "]), st.sampled_from(["", " ", "\n"]))
def test_loads_gives_what_json_loads_gives(value: Any, before: str, after: str) -> None:
    texts = (json.dumps(value), json.dumps(value, indent=1), json.dumps(value, ensure_ascii=False))
    for text in texts:
        padded = before + text + after
        assert _same(json_text.loads(padded), json.loads(padded))


def _same(got: Any, expected: Any) -> bool:
    """Equal, with NaN equal to NaN, and of the same types throughout."""
    if isinstance(expected, float) and expected != expected:
        return isinstance(got, float) and got != got
    if isinstance(expected, dict):
        return (
            type(got) is dict
            and list(got) == list(expected)
            and all(_same(got[key], value) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            type(got) is list
            and len(got) == len(expected)
            and all(_same(a, b) for a, b in zip(got, expected, strict=True))
        )
    return type(got) is type(expected) and got == expected


@pytest.mark.parametrize(
    "text", ["NaN", "[Infinity, -Infinity]", str(2**70), '{"a": -123456789012345678901234}']
)
def test_nan_and_long_integers_are_read_as_json_loads_reads_them(text: str) -> None:
    assert _same(json_text.loads(text), json.loads(text))


@pytest.mark.parametrize("text", ["", " ", "{", '{"a": }', "[1, 2", "1 2", '{"a": 1} x', "nul"])
def test_malformed_text_raises_what_json_loads_raises(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        json_text.loads(text)
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)


def test_bytes_are_decoded_as_json_loads_decodes_them() -> None:
    assert json_text.loads(b'{"a": [1, 2]}') == {"a": [1, 2]}


@given(documents)
def test_result_processor_scans_text_and_hands_the_rest_to_the_fallback(value: Any) -> None:
    seen: list[Any] = []

    def fallback(found: Any) -> Any:
        seen.append(found)
        return ("fallback", found)

    process = json_text.result_processor(fallback)
    assert _same(process(json.dumps(value)), value)
    assert not seen
    assert process(3) == ("fallback", 3)  # a number a SQLite JSON column may hold
    assert process(" 1") == ("fallback", " 1")  # not plain text: SQLAlchemy's processor
    assert seen == [3, " 1"]


@given(documents)
def test_bind_processor_writes_what_json_dumps_writes(value: Any) -> None:
    process = json_text.bind_processor(lambda found: ("fallback", found))
    if isinstance(value, dict | list):
        assert process(value) == json.dumps(value)
    else:
        assert process(value) == ("fallback", value)


def test_bind_processor_refuses_what_json_dumps_refuses() -> None:
    process = json_text.bind_processor(lambda found: ("fallback", found))
    with pytest.raises(TypeError, match="not JSON serializable"):
        process({"a": [object()]})
    assert process({"a": [1]}) == '{"a": [1]}'  # nothing left behind by the failed call
