"""What a backend supplies for full-text search (see :mod:`threadstore.store.search_inputs`)."""

from __future__ import annotations

from typing import Protocol

from threadstore.records import SearchHitRecord
from threadstore.store.paging import KeysetPage
from threadstore.store.search_inputs import SearchInput

__all__ = ["SearchRepository"]


class SearchRepository(Protocol):
    """Messages found by their words."""

    async def messages(self, args: SearchInput, page: KeysetPage) -> list[SearchHitRecord]:
        """Hits holding every term, by ``(score, message_id)`` descending, after ``page.after``.

        Only messages of threads matching the filters, and of the unit's
        owner's threads when it is scoped.
        """
