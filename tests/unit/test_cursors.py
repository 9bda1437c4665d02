"""The cursor codec on its own: round trips, and every way a cursor can be wrong."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from threadstore import ValidationError
from threadstore.store.cursors import MAX_CURSOR_LENGTH, CursorScope

SCOPE = CursorScope("list_things", "created:desc", {"user_id": "alice", "agent_name": None})


def _forge(payload: object) -> str:
    """A cursor with a valid checksum around any payload (what only this code should make)."""
    data = json.dumps(payload).encode()
    check = hashlib.sha256(b"threadstore-cursor:" + data).digest()[:8]
    return base64.urlsafe_b64encode(data + check).rstrip(b"=").decode()


def _refused(cursor: object, *words: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        SCOPE.decode(cursor, [str, int])
    assert caught.value.suggestion
    assert all(word in str(caught.value) for word in words), str(caught.value)
    return caught.value


def test_round_trip() -> None:
    position = ("2026-01-01T00:00:00.000000+00:00", 42)
    cursor = SCOPE.encode(position)
    assert SCOPE.decode(cursor, [str, int]) == position
    assert SCOPE.decode(None, [str, int]) is None
    assert "alice" not in base64.urlsafe_b64decode(cursor + "==").decode(errors="replace")


def test_the_filters_bind_the_cursor_in_any_key_order() -> None:
    same = CursorScope("list_things", "created:desc", {"agent_name": None, "user_id": "alice"})
    assert same.decode(SCOPE.encode(("x", 1)), [str, int]) == ("x", 1)
    for other in (
        CursorScope("list_things", "created:desc", {"user_id": "bob", "agent_name": None}),
        CursorScope("list_things", "created:desc", {"user_id": "alice", "agent_name": "a"}),
        CursorScope("list_things", "created:desc", {"user_id": "alice"}),
    ):
        with pytest.raises(ValidationError, match="other filters"):
            other.decode(SCOPE.encode(("x", 1)), [str, int])
    with pytest.raises(ValidationError, match="order"):
        CursorScope("list_things", "created:asc", SCOPE.filters).decode(
            SCOPE.encode(("x", 1)), [str, int]
        )
    with pytest.raises(ValidationError, match="made by 'list_things'"):
        CursorScope("other", "created:desc", SCOPE.filters).decode(
            SCOPE.encode(("x", 1)), [str, int]
        )


def test_malformed_cursors() -> None:
    good = SCOPE.encode(("x", 1))
    for bad in ("", "!!!!", "é", good[:-1], good[1:], good + "A", "A" * (MAX_CURSOR_LENGTH + 1)):
        error = _refused(bad, "malformed")
        assert error.__cause__ is None or not isinstance(error.__cause__, ValidationError)
    _refused(b"bytes", "must be a str")
    _refused(7, "must be a str")


def test_checksummed_payloads_of_the_wrong_shape() -> None:
    base = {"v": 1, "m": SCOPE.method, "o": SCOPE.order, "f": SCOPE.digest}
    _refused(_forge([1, 2]), "malformed")
    _refused(_forge({**base, "v": 2, "p": ["x", 1]}), "another version")
    _refused(_forge({**base, "p": ["x"]}), "no valid position")
    _refused(_forge({**base, "p": ["x", "1"]}), "no valid position")
    _refused(_forge({**base, "p": ["x", True]}), "no valid position")
    _refused(_forge({**base, "p": ["x", 1.5]}), "no valid position")
    _refused(_forge({**base, "p": {"x": 1}}), "no valid position")
    assert SCOPE.decode(_forge({**base, "p": ["x", 1]}), [str, int]) == ("x", 1)


def test_positions_are_checked_per_kind() -> None:
    from threadstore.store.paging import page_request

    def request(position: list[object]) -> object:
        cursor = CursorScope("m", "o", {}).encode(position)  # type: ignore[arg-type]
        return page_request(
            "m", "o", {}, limit=5, cursor=cursor, kinds=("time", "id"), descending=True
        )

    read = request(["2026-01-01T00:00:00.000000+00:00", "t1"]).read  # type: ignore[attr-defined]
    assert read.limit == 6
    assert read.after[0].isoformat() == "2026-01-01T00:00:00+00:00"
    for bad in (
        ["2026-01-01T00:00:00+00:00", "t1"],  # not the form records carry
        ["2026-01-01T00:00:00.000000", "t1"],  # naive
        ["2026-01-01T01:00:00.000000+01:00", "t1"],  # not UTC
        ["yesterday", "t1"],
        ["2026-01-01T00:00:00.000000+00:00", ""],
        ["2026-01-01T00:00:00.000000+00:00", "x" * 256],
    ):
        with pytest.raises(ValidationError, match="no valid position"):
            request(bad)


def test_the_digest_is_the_filters_canonical_hash_kept_or_not() -> None:
    def expected(filters: dict[str, object]) -> str:
        text = json.dumps(filters, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    plain: dict[str, object] = {"user_id": "alice", "agent_name": None, "n": 3}
    listed: dict[str, object] = {"user_id": "alice", "roles": ["user", "tool"]}  # unhashable
    for filters in (plain, listed, dict(reversed(list(plain.items())))):
        for _ in range(2):  # computed, then found again
            scope = CursorScope("list_things", "created:desc", filters)  # type: ignore[arg-type]
            assert scope.digest == expected(filters)
    other = CursorScope("list_things", "created:desc", {**plain, "n": 4})  # type: ignore[arg-type]
    assert other.digest != expected(plain)
