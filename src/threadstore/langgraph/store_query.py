"""The query rules of the long-term store, the same for every backend.

Filters and namespace conditions run here, in Python, over rows the backend
returned for a namespace prefix, so they mean the same thing everywhere:
``$gt``/``$gte``/``$lt``/``$lte`` compare numbers as numbers and strings as
strings (a number never matches a string, JSON ``true`` is not ``1``);
``$eq``/``$ne`` and plain values compare as JSON values.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from langgraph.store.base import MatchCondition

from threadstore.errors import ValidationError

__all__ = ["FILTER_OPERATORS", "check_filter", "cosine", "matches", "matches_conditions"]

FILTER_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_equal(left: object, right: object) -> bool:
    """Equality of JSON values: ``true`` is not ``1``, ``1`` is ``1.0``, lists match in order."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _number(left) and _number(right):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and left == right


def _apply(value: object, op: str, operand: object) -> bool:
    if op == "$eq":
        return _json_equal(value, operand)
    if op == "$ne":
        return not _json_equal(value, operand)
    compare = _ORDERED[op]
    if _number(value) and _number(operand):
        return bool(compare(value, operand))
    if isinstance(value, str) and isinstance(operand, str):
        return bool(compare(value, operand))
    return False


def _match(value: object, wanted: object) -> bool:
    if isinstance(wanted, dict):
        if any(k.startswith("$") for k in wanted):
            return all(_apply(value, name, operand) for name, operand in wanted.items())
        return isinstance(value, dict) and all(_match(value.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(wanted)
            and all(map(_match, value, wanted))
        )
    return _json_equal(value, wanted)


def check_filter(filter: dict[str, Any] | None) -> dict[str, Any]:
    """The filter, or ValidationError naming an unknown ``$`` operator."""
    if filter is None:
        return {}
    if not isinstance(filter, dict):
        raise ValidationError(
            f"filter must be a dict, got {type(filter).__name__}",
            suggestion='Pass filter={"field": value} or {"field": {"$gt": 3}}.',
        )

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                if isinstance(key, str) and key.startswith("$") and key not in FILTER_OPERATORS:
                    raise ValidationError(
                        f"unsupported filter operator {key!r}",
                        suggestion="Use one of " + ", ".join(sorted(FILTER_OPERATORS)) + ".",
                    )
                walk(sub)

    walk(filter)
    return filter


def matches(value: dict[str, Any], filter: dict[str, Any]) -> bool:
    """Whether an item's value satisfies every condition of ``filter``."""
    return all(_match(value.get(key), wanted) for key, wanted in filter.items())


def _condition(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    else:
        raise ValidationError(
            f"unsupported match type {condition.match_type!r}",
            suggestion='Use MatchCondition(match_type="prefix" or "suffix", path=...).',
        )
    return all(want == "*" or label == want for label, want in pairs)


def matches_conditions(
    namespace: tuple[str, ...], conditions: Sequence[MatchCondition] | None
) -> bool:
    """Whether a namespace satisfies every condition (whole labels, ``*`` any one label)."""
    return all(_condition(c, namespace) for c in conditions or ())


def cosine(query: Sequence[float], vector: Sequence[float]) -> float:
    """Cosine similarity; 0.0 when either vector is all zeros."""
    dot = sum(a * b for a, b in zip(query, vector, strict=False))
    norms = math.sqrt(sum(a * a for a in query)) * math.sqrt(sum(b * b for b in vector))
    return dot / norms if norms > 0 else 0.0
