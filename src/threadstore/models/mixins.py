"""Column groups shared by several tables."""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["VersionedMixin"]


class VersionedMixin:
    """A row version for compare-and-swap writes.

    A new row starts at 1 (the server default, so an insert may omit it);
    every change sets ``version = version + 1`` in the same UPDATE, and a
    conditional change adds ``WHERE version = :expected``: no row updated
    means the record moved on (or is gone). Any table whose rows are changed
    by read-modify-write (threads today, a settings table later) mixes it in.
    """

    version: Mapped[int] = mapped_column(Integer, server_default="1")
