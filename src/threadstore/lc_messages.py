"""LangChain message objects inside stored JSON values (suspended states, checkpoints).

An Agentomatic human-in-the-loop flow saves LangGraph state holding
``HumanMessage``/``AIMessage`` objects. They are stored in LangChain's own JSON
form (``langchain_core.load.dumpd``: ``{"lc": 1, "type": "constructor", ...}``)
and revived on read when ``langchain_core`` is installed. Only chat messages
are revived (LangChain's ``allowed_objects="messages"``), so a stored value can
never make the reader import or construct anything else. Without
``langchain_core`` the JSON form is returned as stored.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["decode", "encode"]

_SERIALIZABLE_MODULE = "langchain_core.messages.base"


def encode(value: Any) -> Any:
    """Return ``value`` with every LangChain message replaced by its JSON form.

    Containers are rebuilt only where a message was found; anything else is
    left for the JSON checks to accept or refuse.
    """
    module = sys.modules.get(_SERIALIZABLE_MODULE)
    if module is None:  # no message object can exist without langchain_core imported
        return value
    return _encode(value, module.BaseMessage)


def _encode(value: Any, message_type: type) -> Any:
    kind = type(value)
    if kind is dict or kind is list:  # scalar items skipped in the loop: no call each
        copy: Any = None
        for key, item in value.items() if kind is dict else enumerate(value):
            if type(item) in _SCALARS:
                continue
            new = _encode(item, message_type)
            if new is not item:
                if copy is None:
                    copy = dict(value) if kind is dict else list(value)
                copy[key] = new
        return value if copy is None else copy
    if kind in _SCALARS:
        return value
    if isinstance(value, message_type):
        from langchain_core.load import dumpd

        return dumpd(value)
    if isinstance(value, Mapping):
        items = {key: _encode(item, message_type) for key, item in value.items()}
        changed = any(items[key] is not item for key, item in value.items())
        return items if changed else value
    if isinstance(value, list):
        encoded = [_encode(item, message_type) for item in value]
        changed = any(new is not old for new, old in zip(encoded, value, strict=True))
        return encoded if changed else value
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types that never hold a message (exact types: a subclass is walked)."""


def decode(value: Any) -> Any:
    """Return ``value`` with LangChain message JSON forms revived as message objects."""
    if not _has_message(value):
        return value
    try:
        load = importlib.import_module("langchain_core.load").load
    except ImportError:
        return value
    return _decode(value, load)


def _is_message_form(value: Mapping[str, Any]) -> bool:
    if value.get("lc") != 1:
        return False
    path = value.get("id")
    return (
        value.get("type") == "constructor"
        and isinstance(path, list)
        and bool(path)
        and isinstance(path[-1], str)
        and path[-1].endswith(("Message", "MessageChunk"))
        and isinstance(value.get("kwargs"), Mapping)
    )


def _has_message(value: Any) -> bool:
    kind = type(value)
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        if _is_message_form(value):
            return True
        items: Any = value.values()
    elif kind is list or isinstance(value, list):
        items = value
    else:
        return False
    for item in items:  # noqa: SIM110 (a loop: any() over a generator costs a call per item)
        if type(item) not in _SCALARS and _has_message(item):
            return True
    return False


def _decode(value: Any, load: Any) -> Any:
    if isinstance(value, Mapping):
        if _is_message_form(value):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # load() is marked beta by LangChain
                try:
                    return load(dict(value), allowed_objects="messages")
                except (ValueError, TypeError, KeyError, ImportError):
                    return value  # not a message LangChain knows: keep the JSON form
        return {key: _decode(item, load) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, load) for item in value]
    return value
