"""Public full-text search, written once for every backend."""

from __future__ import annotations

from collections.abc import Sequence

from threadstore.records import Page, SearchHitRecord, ThreadHitRecord
from threadstore.store.core import StoreCore
from threadstore.store.search_inputs import DEFAULT_HIGHLIGHT, cursor_key, search_request

__all__ = ["SearchMethods"]


class SearchMethods(StoreCore):
    """Messages found by the words of their content, threads by their titles."""

    async def search_messages(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_name: str | None = None,
        thread_id: str | None = None,
        role: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: bool = False,
        highlight: Sequence[str] = DEFAULT_HIGHLIGHT,
    ) -> Page[SearchHitRecord]:
        """Return the messages holding every word of ``text``, best match first.

        ``text`` is read as plain words (lowercased letters and digits; any
        punctuation, quotes or operators only separate words), all of which
        must occur (AND); with ``prefix=True`` a word also matches the words
        it begins. ``user_id``/``agent_name`` filter by the message's thread,
        ``thread_id`` and ``role`` by the message. Hits are ordered by
        ``score`` (BM25 on SQLite, ``ts_rank`` on PostgreSQL, an equivalent
        in memory: more occurrences and shorter messages rank higher), ties by
        message id descending. Each hit's ``snippet`` wraps the matched words
        in ``highlight`` (``("[", "]")`` by default). Pass ``next_cursor``
        back as ``cursor`` with the same arguments for the next page.

        Raises:
            ValidationError: no word in ``text``, a bad filter, limit, marker
                or cursor.
        """
        args, request = search_request(
            "search_messages",
            text,
            user_id=user_id,
            agent_name=agent_name,
            thread_id=thread_id,
            role=role,
            limit=limit,
            cursor=cursor,
            prefix=prefix,
            highlight=tuple(highlight) if isinstance(highlight, list) else highlight,
            owner=self.scope_owner(),
        )
        async with self.unit(write=False, may_lag=True) as unit:
            rows = await unit.search.messages(args, request.read)
        return request.page(rows, lambda hit: cursor_key(hit["score"], hit["message_id"]))

    async def search_threads(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_name: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: bool = False,
        highlight: Sequence[str] = DEFAULT_HIGHLIGHT,
    ) -> Page[ThreadHitRecord]:
        """Return the threads whose title holds every word of ``text``, best match first.

        Words, ranking, snippets, paging and views work as in
        :meth:`search_messages`; ties by thread id descending. Threads without
        a title are never found.

        Raises:
            ValidationError: no word in ``text``, a bad filter, limit, marker
                or cursor.
        """
        args, request = search_request(
            "search_threads",
            text,
            user_id=user_id,
            agent_name=agent_name,
            thread_id=None,
            role=None,
            limit=limit,
            cursor=cursor,
            prefix=prefix,
            highlight=tuple(highlight) if isinstance(highlight, list) else highlight,
            owner=self.scope_owner(),
            key=str,
        )
        async with self.unit(write=False, may_lag=True) as unit:
            rows = await unit.search.threads(args, request.read)
        return request.page(rows, lambda hit: cursor_key(hit["score"], hit["thread_id"]))
