"""What a backend supplies for the filtered queries over threads and messages."""

from __future__ import annotations

from typing import Protocol

from threadstore.records import MessageRecord, ThreadRecord
from threadstore.store.paging import KeysetPage, ThreadSort
from threadstore.store.query_inputs import MessageQuery, ThreadQuery

__all__ = ["QueryRepository"]


class QueryRepository(Protocol):
    """Filtered, keyset-paged reads across threads and messages (scoped to the unit's owner)."""

    async def threads(
        self, query: ThreadQuery, sort: ThreadSort, page: KeysetPage
    ) -> list[ThreadRecord]:
        """A keyset page of the matching threads by ``(sort, id)``."""

    async def messages(self, query: MessageQuery, page: KeysetPage) -> list[MessageRecord]:
        """A keyset page of the matching messages by ``(timestamp, thread_id, seq)``."""
