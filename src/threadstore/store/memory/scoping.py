"""Where a user-scoped view's owner is checked in a MemoryStore."""

from __future__ import annotations

from threadstore.store.memory.state import MemoryState

__all__ = ["owns"]


def owns(state: MemoryState, owner: str | None, thread_id: str) -> bool:
    """Whether a call scoped to ``owner`` may see the thread (always when unscoped)."""
    if owner is None:
        return True
    thread = state.threads.get(thread_id)
    return thread is not None and thread["user_id"] == owner
