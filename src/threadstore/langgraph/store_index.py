"""The semantic index of the long-term store: what to embed, and ranking by cosine.

Embeddings are stored as JSON float arrays. On PostgreSQL (pgvector or a
portable float8 computation) and on SQLite with sqlite-vec, a search ranks
every matching item in SQL (:mod:`threadstore.langgraph.store_ranking`);
elsewhere (MemoryStore, SQLite without the extension) :meth:`Index.rank`
ranks here, in Python, the candidates a search's namespace prefix and
filter select (at most ``max_candidates``, the newest). Both give the same
pages. Ranking follows
LangGraph's ``InMemoryStore``: an item scores its best field, ties keep
newest first, and items without an embedding fill a page the scored ones
leave short.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from langgraph.store.base import IndexConfig, Op, PutOp, SearchOp
from langgraph.store.base.embed import ensure_embeddings, get_text_at_path, tokenize_path

from threadstore.errors import ValidationError
from threadstore.langgraph.store_query import cosine
from threadstore.store.memory_item_rows import ItemKey, MemoryItemRow

__all__ = ["Embedded", "Index"]

Embedded = tuple[dict[ItemKey, dict[str, list[float]]], dict[str, list[float]]]
"""Embeddings of a batch: per put, by field; per distinct search query."""


class Index:
    """An ``IndexConfig`` made ready: its embeddings object and tokenized field paths."""

    def __init__(self, config: IndexConfig) -> None:
        if "embed" not in config:
            raise ValidationError(
                "the index config has no 'embed'",
                suggestion='Pass index={"embed": my_embed_function, "dims": 1536}.',
            )
        self.config: IndexConfig = IndexConfig(**config)
        self.embeddings = ensure_embeddings(config["embed"])
        self.dims: int | None = config.get("dims")
        self.fields = [
            (path, tokenize_path(path) if path != "$" else path)
            for path in (config.get("fields") or ["$"])
        ]

    def _texts(self, op: PutOp) -> list[tuple[str, str]]:
        """(field name, text) pairs to embed for one put."""
        if op.value is None or op.index is False:
            return []
        paths = self.fields if op.index is None else [(p, tokenize_path(p)) for p in op.index]
        texts: list[tuple[str, str]] = []
        for path, tokens in paths:
            found = get_text_at_path(op.value, tokens)
            if len(found) == 1:
                texts.append((path, found[0]))
            else:
                texts.extend((f"{path}.{i}", text) for i, text in enumerate(found))
        return texts

    def _checked(self, vectors: Sequence[Sequence[float]], want: int) -> list[list[float]]:
        if len(vectors) != want:
            raise ValidationError(
                f"the embedding function returned {len(vectors)} vectors for {want} texts",
                suggestion="Return one vector per input text, in order.",
            )
        out = [[float(x) for x in vector] for vector in vectors]
        for vector in out:
            if not all(math.isfinite(x) for x in vector):
                raise ValidationError(
                    "an embedding holds NaN or infinity",
                    suggestion="Check the embedding model's output; vectors must be finite.",
                )
            if self.dims is not None and len(vector) != self.dims:
                raise ValidationError(
                    f"an embedding has {len(vector)} dimensions, the index expects {self.dims}",
                    suggestion="Set IndexConfig dims to your model's vector size.",
                )
        return out

    def _plan(self, puts: Iterable[PutOp]) -> tuple[list[ItemKey], list[tuple[ItemKey, str, str]]]:
        keys: list[ItemKey] = []
        plan: list[tuple[ItemKey, str, str]] = []
        for op in puts:
            if op.value is None:
                continue
            keys.append((op.namespace, op.key))
            plan.extend(((op.namespace, op.key), field, text) for field, text in self._texts(op))
        return keys, plan

    def _found(
        self,
        keys: list[ItemKey],
        plan: list[tuple[ItemKey, str, str]],
        raw: Sequence[Sequence[float]],
    ) -> dict[ItemKey, dict[str, list[float]]]:
        found: dict[ItemKey, dict[str, list[float]]] = {key: {} for key in keys}
        for (key, field, _), vector in zip(plan, self._checked(raw, len(plan)), strict=True):
            found[key][field] = vector
        return found

    @staticmethod
    def _queries(ops: Sequence[Op]) -> list[str]:
        asked = (op.query for op in ops if isinstance(op, SearchOp) and op.query)
        return list(dict.fromkeys(asked))

    async def embed(self, puts: Iterable[PutOp], ops: Sequence[Op]) -> Embedded:
        """Each put's embeddings by field (``{}``: none, so old ones go) and each query's."""
        keys, plan = self._plan(puts)
        raw = await self.embeddings.aembed_documents([t for _, _, t in plan]) if plan else []
        queries = {
            q: self._checked([await self.embeddings.aembed_query(q)], 1)[0]
            for q in self._queries(ops)
        }
        return self._found(keys, plan, raw), queries

    def embed_sync(self, puts: Iterable[PutOp], ops: Sequence[Op]) -> Embedded:
        """:meth:`embed` with the embeddings' sync API (for the sync store methods)."""
        keys, plan = self._plan(puts)
        raw = self.embeddings.embed_documents([t for _, _, t in plan]) if plan else []
        queries = {
            q: self._checked([self.embeddings.embed_query(q)], 1)[0] for q in self._queries(ops)
        }
        return self._found(keys, plan, raw), queries

    @staticmethod
    def rank(
        candidates: Sequence[MemoryItemRow],
        embedded: dict[ItemKey, list[list[float]]],
        query: list[float],
        offset: int,
        limit: int,
    ) -> list[tuple[MemoryItemRow, float | None]]:
        """The page ``offset``/``limit`` of candidates by best cosine score."""
        scored: list[tuple[float, int, MemoryItemRow]] = []
        scoreless: list[MemoryItemRow] = []
        for position, row in enumerate(candidates):
            vectors = embedded.get(row.item_key)
            if not vectors:
                scoreless.append(row)
                continue
            best = max(cosine(query, vector) for vector in vectors)
            scored.append((best, position, row))
        scored.sort(key=lambda hit: (-hit[0], hit[1]))
        page: list[tuple[MemoryItemRow, Any]] = [
            (row, score) for score, _, row in scored[offset : offset + limit]
        ]
        if len(page) < limit:
            page.extend((row, None) for row in scoreless[: limit - len(page)])
        return page
