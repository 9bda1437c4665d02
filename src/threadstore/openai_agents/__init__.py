"""OpenAI Agents SDK sessions on threadstore (install ``threadstore[openai-agents]``).

:class:`ThreadstoreSession` keeps an agent's conversation history as the
messages of one threadstore thread, so search, export, erasure and retention
see it like any other conversation.
"""

from __future__ import annotations

from threadstore.openai_agents.session import ITEM_KEY, ThreadstoreSession

__all__ = ["ITEM_KEY", "ThreadstoreSession"]
