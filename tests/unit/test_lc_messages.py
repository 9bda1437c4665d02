"""LangChain messages found in stored values: the walks against their plain rule (hypothesis).

``encode`` and the check behind ``decode`` skip scalar items inside a
container's loop; these tests pin them to the straightforward recursion
they replace, for any tree of JSON values, tuples, subclasses and messages.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadstore import lc_messages

messages = pytest.importorskip("langchain_core.messages")
load = pytest.importorskip("langchain_core.load")


class Tone(enum.StrEnum):
    """A str subclass: not a plain scalar, walked like any object."""

    CALM = "calm"


def _plain_encode(value: Any) -> Any:
    """The rule: every message replaced by ``dumpd``; containers rebuilt only where one was."""
    if isinstance(value, messages.BaseMessage):
        return load.dumpd(value)
    if isinstance(value, Mapping):
        items = {key: _plain_encode(item) for key, item in value.items()}
        return items if any(items[k] is not v for k, v in value.items()) else value
    if isinstance(value, list):
        encoded = [_plain_encode(item) for item in value]
        return encoded if any(a is not b for a, b in zip(encoded, value, strict=True)) else value
    return value


def _plain_has_message(value: Any) -> bool:
    if isinstance(value, Mapping):
        form = (
            value.get("lc") == 1
            and value.get("type") == "constructor"
            and isinstance(value.get("id"), list)
            and bool(value["id"])
            and isinstance(value["id"][-1], str)
            and value["id"][-1].endswith(("Message", "MessageChunk"))
            and isinstance(value.get("kwargs"), Mapping)
        )
        return form or any(_plain_has_message(item) for item in value.values())
    if isinstance(value, list):
        return any(_plain_has_message(item) for item in value)
    return False


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.just(Tone.CALM)
)
chat = st.builds(messages.HumanMessage, content=st.text(max_size=5)) | st.builds(
    messages.AIMessage, content=st.text(max_size=5)
)
trees = st.recursive(
    scalars | chat,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=4)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3).map(OrderedDict)
    ),
    max_leaves=20,
)


@given(trees)
def test_encode_follows_the_plain_rule(value: Any) -> None:
    encoded = lc_messages.encode(value)
    expected = _plain_encode(value)
    assert encoded == expected
    assert (encoded is value) == (expected is value)  # untouched containers are not copied


@given(trees)
def test_the_check_before_decoding_follows_the_plain_rule(value: Any) -> None:
    encoded = lc_messages.encode(value)
    assert lc_messages._has_message(encoded) == _plain_has_message(encoded)
    assert lc_messages._has_message(value) == _plain_has_message(value)


def test_a_message_deep_in_a_list_of_scalars_is_found_and_revived() -> None:
    value = {"v": 1, "c": ["x", 2, None, {"m": [messages.HumanMessage(content="hi")]}]}
    encoded = lc_messages.encode(value)
    assert encoded["c"][:3] == ["x", 2, None]
    assert encoded["c"][3]["m"][0]["lc"] == 1
    assert value["c"][3]["m"][0] == messages.HumanMessage(content="hi")  # the input is kept
    assert lc_messages.decode(encoded)["c"][3]["m"][0] == messages.HumanMessage(content="hi")
