"""What a backend supplies for full-text search (see :mod:`threadstore.store.search_inputs`)."""

from __future__ import annotations

from typing import Protocol

from threadstore.records import SearchHitRecord, ThreadHitRecord
from threadstore.store.paging import KeysetPage
from threadstore.store.search_inputs import SearchInput

__all__ = ["SearchRepository"]


class SearchRepository(Protocol):
    """Messages found by their words, threads by the words of their titles."""

    async def messages(self, args: SearchInput, page: KeysetPage) -> list[SearchHitRecord]:
        """Hits holding every term, by ``(score, message_id)`` descending, after ``page.after``.

        Only messages of threads matching the filters, and of the unit's
        owner's threads when it is scoped.
        """

    async def threads(self, args: SearchInput, page: KeysetPage) -> list[ThreadHitRecord]:
        """Threads whose title holds every term, by ``(score, thread_id)`` descending.

        ``args.thread_id`` and ``args.role`` are None; the owner applies as above.
        """
