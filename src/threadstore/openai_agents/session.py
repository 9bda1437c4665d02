"""``ThreadstoreSession``: the SDK's ``Session`` protocol over one thread's messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from agents.memory.session_settings import (
    SessionSettings,
    coerce_session_settings,
    resolve_session_limit,
)

from threadstore.errors import DuplicateRecordError, ThreadNotFoundError
from threadstore.validation import check_id

if TYPE_CHECKING:
    from agents import TResponseInputItem

    from threadstore.records import MessageRecord, NewMessage
    from threadstore.store.base import BaseStore

__all__ = ["ITEM_KEY", "ThreadstoreSession"]

logger = logging.getLogger(__name__)

ITEM_KEY = "openai_agents_item"
"""The message metadata key holding the SDK item exactly as it was added."""

_T = TypeVar("_T")
_PAGE = 1000
_TEXT_PARTS = ("text", "refusal")


class ThreadstoreSession:
    """An OpenAI Agents SDK session whose items are the messages of a threadstore thread.

    Each item is one message: ``role`` is the item's role (or its ``type``,
    e.g. ``function_call``), ``content`` its text (empty when it has none),
    and ``metadata[ITEM_KEY]`` the whole item, which is what the session
    returns. Messages written by other code come back as
    ``{"role": ..., "content": ...}``. The thread (id ``thread_id``, default
    the session id) is created on the first :meth:`add_items`.

    ``store`` may be a store, a ``store.for_user(...)`` view (the thread then
    belongs to that user) or a ``store.transaction()`` object.
    """

    session_settings: SessionSettings | None

    def __init__(
        self,
        session_id: str,
        store: BaseStore,
        *,
        thread_id: str | None = None,
        user_id: str | None = None,
        agent_name: str = "openai-agents",
        session_settings: SessionSettings | dict[str, Any] | None = None,
    ) -> None:
        """Bind the session to ``store``; nothing is written until items are added.

        Args:
            session_id: The SDK's session id.
            store: Where the items live.
            thread_id: The thread holding them (default: ``session_id``).
            user_id: The thread's user (default: the view's user, else ``agent_name``).
            agent_name: The thread's agent name.
            session_settings: Defaults such as ``limit`` for :meth:`get_items`.

        Raises:
            ValidationError: an id is invalid.
        """
        self.session_id = session_id
        self.thread_id = check_id("thread_id", session_id if thread_id is None else thread_id)
        self.store = store
        self.user_id = check_id("user_id", user_id or store.scope_owner() or agent_name)
        self.agent_name = check_id("agent_name", agent_name)
        self.session_settings = (
            SessionSettings()
            if session_settings is None
            else coerce_session_settings(session_settings)
        )
        self._thread_ready = False

    def __repr__(self) -> str:
        return f"<ThreadstoreSession {self.session_id!r} thread {self.thread_id!r}>"

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The latest ``limit`` items (all when None) in the order they were added.

        ``limit`` falls back to ``session_settings.limit``; 0 gives ``[]`` and a
        negative limit all items, as the SDK's SQLiteSession does.
        """
        wanted = resolve_session_limit(limit, self.session_settings)
        if wanted is not None and wanted > 0:
            newest = await self.store.get_messages(self.thread_id, limit=wanted, newest_first=True)
            return [_item_of(m) for m in reversed(newest)]
        if wanted == 0:
            return []
        items: list[TResponseInputItem] = []
        after: int | None = None
        while True:
            page = await self.store.get_messages(self.thread_id, limit=_PAGE, after_seq=after)
            items.extend(_item_of(m) for m in page)
            if len(page) < _PAGE:
                return items
            after = page[-1]["seq"]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append the items as messages, atomically (all or none)."""
        if not items:
            return
        batch = [_message_of(item) for item in items]
        await _settled(self._add(batch))

    async def _add(self, batch: list[NewMessage]) -> None:
        if not self._thread_ready:
            await self._ensure_thread()
        try:
            await self.store.add_messages(self.thread_id, batch)
        except ThreadNotFoundError:
            logger.info("thread %r was deleted; creating it again", self.thread_id)
            await self._ensure_thread()
            await self.store.add_messages(self.thread_id, batch)

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the newest item atomically; None when there is none."""
        message = await _settled(self.store.pop_message(self.thread_id))
        return None if message is None else _item_of(message)

    async def clear_session(self) -> None:
        """Delete every item; the thread itself (title, metadata, feedback) stays."""
        await _settled(self.store.clear_messages(self.thread_id))

    async def _ensure_thread(self) -> None:
        if await self.store.get_thread(self.thread_id) is None:
            try:
                await self.store.create_thread(
                    self.thread_id,
                    self.user_id,
                    self.agent_name,
                    metadata={"openai_agents_session_id": self.session_id},
                )
            except DuplicateRecordError:
                logger.debug("thread %r was created concurrently", self.thread_id)
        self._thread_ready = True


async def _settled(write: Awaitable[_T]) -> _T:
    """Let a write finish even if the caller is cancelled meanwhile; then re-raise the cancel.

    A cancellation never leaves the outcome unknown (half the SDK's run
    cancelled between "sent" and "committed"): the write commits or fails as
    a whole, then the caller sees its ``CancelledError``.
    """
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.cancelled():
            raise
        while not task.done():
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                logger.debug("cancelled again while a session write finishes")
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation is what the caller gets
        raise


def _message_of(item: TResponseInputItem) -> NewMessage:
    """The message that stores ``item``: its role, its text, and the item itself."""
    fields = cast(dict[str, Any], item)
    role = fields.get("role") or fields.get("type") or "item"
    return {
        "role": str(role),
        "content": _text_of(fields),
        "metadata": {ITEM_KEY: dict(fields)},
    }


def _text_of(fields: dict[str, Any]) -> str:
    content = fields.get("content", fields.get("output"))
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            part[name]
            for part in content
            if isinstance(part, dict)
            for name in _TEXT_PARTS
            if isinstance(part.get(name), str)
        ]
        return "\n".join(parts)
    return ""


def _item_of(message: MessageRecord) -> TResponseInputItem:
    stored = message["metadata"].get(ITEM_KEY)
    if isinstance(stored, dict):
        return cast("TResponseInputItem", stored)
    return cast("TResponseInputItem", {"role": message["role"], "content": message["content"]})
