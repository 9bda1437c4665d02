"""Full-text search in a MemoryStore: the same words, AND semantics and ranking order as SQL.

Messages (their content) and thread titles are tokenized as
:func:`~threadstore.store.search_inputs.tokens` reads a query, and scored
with BM25 (k1 1.2, b 0.75) over the matching documents: more occurrences of
the terms and shorter texts score higher, the order SQLite's ``bm25()`` and
PostgreSQL's length-normalised ``ts_rank`` give. There is no index to keep
in sync: a search reads the state itself, so evictions, deletes and forks
are reflected at once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from threadstore.records import MessageRecord, SearchHitRecord, ThreadHitRecord, ThreadRecord
from threadstore.store.memory.keyset import keyset
from threadstore.store.paging import KeysetPage
from threadstore.store.search_inputs import SearchInput, tokens

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemorySearch", "snippet"]

_WORD = re.compile(r"[^\W_]+")
_K1, _B = 1.2, 0.75
_WINDOW = 12
"""Words a snippet shows at most (SQLite's snippet() is given the same)."""


def snippet(content: str, args: SearchInput) -> str:
    """Up to :data:`_WINDOW` words of ``content`` from just before the first match, marked."""
    words = list(_WORD.finditer(content))
    if not words:
        return content
    marked = [any(args.hits(term, [w.group().lower()]) for term in args.terms) for w in words]
    first = marked.index(True) if True in marked else 0
    start = max(0, min(first - 2, len(words) - _WINDOW))
    stop = min(len(words), start + _WINDOW)
    opened, closed = args.highlight
    parts = ["…" if start else ""]
    position = words[start].start() if start else 0
    for index in range(start, stop):
        word = words[index]
        parts.append(content[position : word.start()])
        parts.append(f"{opened}{word.group()}{closed}" if marked[index] else word.group())
        position = word.end()
    parts.append(content[position:] if stop == len(words) else "…")
    return "".join(parts)


class MemorySearch:
    """See :class:`~threadstore.store.ports_search.SearchRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit

    def _candidates(self, args: SearchInput) -> list[tuple[MessageRecord, list[str]]]:
        state, owner = self._unit.state, self._unit.owner
        found = []
        for thread_id, stored in state.messages.items():
            thread = state.threads.get(thread_id)
            if thread is None or (owner is not None and thread["user_id"] != owner):
                continue
            if args.thread_id is not None and thread_id != args.thread_id:
                continue
            if args.user_id is not None and thread["user_id"] != args.user_id:
                continue
            if args.agent_name is not None and thread["agent_name"] != args.agent_name:
                continue
            for message in stored:
                if args.role is not None and message["role"] != args.role:
                    continue
                words = tokens(message["content"])
                if args.matches(words):
                    found.append((message, words))
        return found

    async def messages(self, args: SearchInput, page: KeysetPage) -> list[SearchHitRecord]:
        """See :meth:`SearchRepository.messages`."""
        found = self._candidates(args)
        scores = _scores(args, [words for _, words in found])
        hits: list[SearchHitRecord] = [
            {
                "message_id": message["id"],
                "thread_id": message["thread_id"],
                "seq": message["seq"],
                "role": message["role"],
                "content": message["content"],
                "created_at": message["timestamp"],
                "score": score,
                "snippet": "",
            }
            for (message, _), score in zip(found, scores, strict=True)
        ]
        chosen = keyset(hits, lambda hit: (hit["score"], hit["message_id"]), page)
        for hit in chosen:
            hit["snippet"] = snippet(hit["content"], args)
        return chosen

    async def threads(self, args: SearchInput, page: KeysetPage) -> list[ThreadHitRecord]:
        """See :meth:`SearchRepository.threads`."""
        owner = self._unit.owner
        found: list[tuple[ThreadRecord, list[str]]] = []
        for thread in self._unit.state.threads.values():
            title = thread["title"]
            if (
                title is None
                or (owner is not None and thread["user_id"] != owner)
                or (args.user_id is not None and thread["user_id"] != args.user_id)
                or (args.agent_name is not None and thread["agent_name"] != args.agent_name)
            ):
                continue
            words = tokens(title)
            if args.matches(words):
                found.append((thread, words))
        scores = _scores(args, [words for _, words in found])
        hits: list[ThreadHitRecord] = [
            {
                "thread_id": thread["id"],
                "user_id": thread["user_id"],
                "agent_name": thread["agent_name"],
                "title": thread["title"] or "",
                "created_at": thread["created_at"],
                "updated_at": thread["updated_at"],
                "score": score,
                "snippet": "",
            }
            for (thread, _), score in zip(found, scores, strict=True)
        ]
        chosen = keyset(hits, lambda hit: (hit["score"], hit["thread_id"]), page)
        for hit in chosen:
            hit["snippet"] = snippet(hit["title"], args)
        return chosen


def _scores(args: SearchInput, documents: list[list[str]]) -> list[float]:
    """BM25 of each matching document (its words), over the matching documents."""
    if not documents:
        return []
    average = sum(len(words) for words in documents) / len(documents)
    scores = []
    for words in documents:
        norm = _K1 * (1 - _B + _B * len(words) / average)
        score = 0.0
        for term in args.terms:
            count = args.hits(term, words)
            score += count * (_K1 + 1) / (count + norm)
        scores.append(score)
    return scores
