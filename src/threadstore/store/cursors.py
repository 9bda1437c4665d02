"""Opaque paging cursors, written once for every listing and every backend.

A cursor is the keyset position of the last row of a page (e.g. its
``created_at`` and ``id``) together with what it was made for: the method,
its order and a digest of its filters (the view's user included). It travels
as base64url text of compact JSON followed by a checksum::

    base64url( {"v": 1, "m": method, "o": order, "f": digest, "p": position} + sha256[:8] )

Decoding checks the checksum, the version, the method, the order and the
filters before it hands the position back, so a truncated or edited cursor,
one from another listing, or one reused with other filters is a
:class:`~threadstore.errors.ValidationError` with a suggestion, never a raw
exception or a silently wrong page. Cursors are checked, not secret: a forged
one can only start a page elsewhere in the same listing, because what a caller
may see is enforced by the query (filters, ``for_user`` scoping), never by the
cursor.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from threadstore import json_text
from threadstore.errors import ValidationError

__all__ = ["CURSOR_VERSION", "MAX_CURSOR_LENGTH", "CursorScope", "Position", "Scalar"]

CURSOR_VERSION = 1
"""Bumped whenever the payload changes; cursors of another version are refused."""
MAX_CURSOR_LENGTH = 4096
"""Longer input is refused before decoding (real cursors are a few hundred characters)."""

Scalar = str | int | None
"""A filter value a cursor is bound to."""
Position = tuple[str | int, ...]
"""The keyset values of a page's last row, in the listing's sort order."""

_CHECK_BYTES = 8
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
MAX_DIGESTS = 1024
"""Filter digests kept (a paged listing asks for the same filters' digest on every page)."""
_RESTART = "Pass the next_cursor of the previous page unchanged, or start again with cursor=None."


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
"""``json.dumps`` with these options builds an encoder per call; a cursor needs two."""


def _canonical(value: object) -> bytes:
    return _CANONICAL(value).encode()


@functools.lru_cache(maxsize=MAX_DIGESTS)
def _digest(filters: tuple[tuple[str, Scalar], ...]) -> str:
    """The digest of these filters (a pure function: kept for the filters seen last)."""
    return hashlib.sha256(_canonical(dict(filters))).hexdigest()[:16]


def _malformed() -> ValidationError:
    return ValidationError(
        "cursor is malformed or was changed (it is not one threadstore returned)",
        suggestion=_RESTART,
    )


def _check(data: bytes) -> bytes:
    return hashlib.sha256(b"threadstore-cursor:" + data).digest()[:_CHECK_BYTES]


@dataclass(frozen=True)
class CursorScope:
    """What a cursor is made for: a listing method, its order and its filters.

    Build one per call with the call's own arguments (every filter, ``None``
    included, and the user of a ``for_user`` view); :meth:`encode` then makes
    the cursor of a position and :meth:`decode` accepts only cursors made by
    an equal scope.
    """

    method: str
    order: str
    filters: Mapping[str, Scalar]

    @functools.cached_property
    def digest(self) -> str:
        """A short fingerprint of the filters (their values are not carried)."""
        filters = tuple(self.filters.items())
        try:
            return _digest(filters)
        except TypeError:  # a value that cannot be a cache key (a list): computed as is
            return str(_digest.__wrapped__(filters))

    def encode(self, position: Sequence[str | int]) -> str:
        """The cursor of ``position`` (JSON strings and integers) in this scope."""
        payload = {
            "v": CURSOR_VERSION,
            "m": self.method,
            "o": self.order,
            "f": self.digest,
            "p": list(position),
        }
        data = _canonical(payload)
        return base64.urlsafe_b64encode(data + _check(data)).rstrip(b"=").decode("ascii")

    def decode(self, cursor: object, kinds: Sequence[type]) -> Position | None:
        """The position a cursor of this scope holds; None for no cursor.

        Args:
            cursor: The ``next_cursor`` of an earlier page, or None (first page).
            kinds: The Python type (``str`` or ``int``) of each position value.

        Raises:
            ValidationError: the cursor is not a string, is malformed or was
                edited, or was made by another method, order, filters or version.
        """
        if cursor is None:
            return None
        if not isinstance(cursor, str):
            raise ValidationError(
                f"cursor must be a str or None, got {type(cursor).__name__}",
                suggestion=_RESTART,
            )
        payload = self._payload(cursor)
        if payload.get("v") != CURSOR_VERSION:
            raise ValidationError(
                f"this cursor was made by another version of threadstore (format "
                f"{payload.get('v')!r}, this one reads {CURSOR_VERSION})",
                suggestion="An upgrade changed the cursor format: start again with cursor=None.",
            )
        if payload.get("m") != self.method:
            raise ValidationError(
                f"this cursor was made by {payload.get('m')!r}, not {self.method!r}",
                suggestion=f"Pass {self.method} only cursors it returned. {_RESTART}",
            )
        if payload.get("o") != self.order:
            raise ValidationError(
                f"this cursor was made for order {payload.get('o')!r}, not {self.order!r}",
                suggestion=f"Keep the order of the first page. {_RESTART}",
            )
        if payload.get("f") != self.digest:
            names = ", ".join(sorted(self.filters))
            raise ValidationError(
                f"this cursor was made for {self.method} with other filters ({names})",
                suggestion=f"Pass the same {names} as for the first page. {_RESTART}",
            )
        return self._position(payload.get("p"), kinds)

    def _payload(self, cursor: str) -> dict[str, object]:
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise _malformed()
        try:  # base64.urlsafe_b64decode, without its layers of argument handling
            text = (cursor + "=" * (-len(cursor) % 4)).encode("ascii")
            raw = binascii.a2b_base64(text.translate(_FROM_URLSAFE))
        except (binascii.Error, ValueError) as exc:  # not base64url (or not ASCII)
            raise _malformed() from exc
        data, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
        if len(raw) <= _CHECK_BYTES or check != _check(data):
            raise _malformed()
        try:
            payload = json_text.loads(data.decode())
        except ValueError as exc:  # checksummed but not JSON: not made by this code
            raise _malformed() from exc
        if not isinstance(payload, dict):
            raise _malformed()
        return payload

    def _position(self, values: object, kinds: Sequence[type]) -> Position:
        if not isinstance(values, list) or len(values) != len(kinds):
            raise self.bad_position()
        for value, kind in zip(values, kinds):  # noqa: B905 (lengths checked above)
            if type(value) is not kind:
                raise self.bad_position()
        return tuple(values)

    def bad_position(self) -> ValidationError:
        """The error for a cursor whose position does not fit this scope's listing."""
        return ValidationError(
            f"cursor holds no valid position for {self.method}", suggestion=_RESTART
        )
