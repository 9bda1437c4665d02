"""The interface every threadstore backend implements.

Method names, positional arguments and record keys are a superset of
Agentomatic's ``BaseStore``, so code written against it swaps in threadstore by
changing an import. Every backend validates input with
:mod:`threadstore.validation` before writing and raises the classes of
:mod:`threadstore.errors`, so all backends behave the same.

Not to be confused with ``langgraph.store.base.BaseStore``: import this one as
``from threadstore import BaseStore``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

from threadstore.errors import DuplicateRecordError, RecordNotFoundError
from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    HealthRecord,
    LineageRecord,
    MessageRecord,
    NewMessage,
    StatsRecord,
    SuspendedStateRecord,
    ThreadRecord,
)
from threadstore.store.health import DEFAULT_TIMEOUT

__all__ = [
    "DEFAULT_SUSPENDED_TTL",
    "UPDATABLE_THREAD_FIELDS",
    "BaseStore",
    "approval_of_other_thread",
    "fork_title",
    "message_not_in_thread",
]

DEFAULT_SUSPENDED_TTL = timedelta(days=7)
UPDATABLE_THREAD_FIELDS = frozenset({"title", "metadata"})
_FORK_PREFIX = "Fork of "


def fork_title(parent_title: str | None, parent_id: str) -> str:
    """Default title of a fork: ``Fork of <title>``, never nested ``Fork of Fork of``."""
    base = parent_title or parent_id
    return base if base.startswith(_FORK_PREFIX) else f"{_FORK_PREFIX}{base}"


def message_not_in_thread(message_id: int, thread_id: str) -> RecordNotFoundError:
    """The error of feedback whose ``message_id`` names no message of its thread."""
    return RecordNotFoundError(
        f"message {message_id} is not a message of thread {thread_id!r}",
        suggestion="Pass the id of a message returned by add_message/get_messages for this "
        "thread, or no message_id for feedback on the whole thread.",
    )


def approval_of_other_thread(approval_id: str) -> DuplicateRecordError:
    """The error of saving a suspended state under an approval id another thread holds."""
    return DuplicateRecordError(
        f"approval {approval_id!r} already exists for another thread",
        suggestion="Use a new approval id for this thread (e.g. a UUID), or delete the other "
        "thread's approval first.",
    )


class BaseStore(ABC):
    """Async persistence for threads, messages, feedback, approvals, checkpoints and context.

    Ordering rules shared by every backend:

    * threads: most recently updated first, ties by id descending;
    * messages: by their per-thread ``seq`` (0, 1, 2, ...), never by timestamp;
    * feedback: newest first, ties by id descending;
    * suspended states: oldest first, ties by id;
    * checkpoints: newest first by ``checkpoint_id`` (LangGraph ids sort in
      creation order);
    * context items: by key; agents and their topic lists by agent name.

    Reads of a missing record return ``None`` (or ``[]``); deletes return
    whether something was deleted.
    """

    backend_name: str = "base"

    # -- lifecycle ------------------------------------------------------

    async def initialize(self) -> None:  # noqa: B027 - optional hook, like Agentomatic's
        """Prepare the backend (connect, check the schema). Safe to call twice."""

    async def close(self) -> None:  # noqa: B027 - optional hook, like Agentomatic's
        """Release connections and resources. Safe to call twice."""

    @abstractmethod
    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """Report ``status`` (healthy/unhealthy), backend, dialect, schema revision and checks.

        A probe for liveness and readiness: it logs nothing at INFO and writes
        nothing. Never raises for the database's sake: a failure, or no answer
        within ``timeout`` seconds, is reported as ``status == "unhealthy"``
        with ``error``.

        Raises:
            ValidationError: ``timeout`` is not a positive number.
        """

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- threads ---------------------------------------------------------

    @abstractmethod
    async def create_thread(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ThreadRecord:
        """Create a thread.

        Raises:
            DuplicateRecordError: a thread with this id exists.
            ValidationError: an argument is invalid.
        """

    @abstractmethod
    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        """Return the thread, or None."""

    @abstractmethod
    async def list_threads(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ThreadRecord]:
        """List threads, most recently updated first (ties by id descending)."""

    @abstractmethod
    async def update_thread(self, thread_id: str, **updates: Any) -> ThreadRecord | None:
        """Set ``title`` and/or replace ``metadata``; return the thread or None if missing.

        Raises:
            ValidationError: a field other than title/metadata, or an invalid value.
        """

    @abstractmethod
    async def delete_thread(self, thread_id: str) -> bool:
        """Delete a thread with its messages, feedback, suspended states and checkpoints.

        Forks of the thread are detached (``parent_thread_id`` becomes None),
        not deleted. Checkpoints under the id are removed even when no thread
        row exists. Returns whether the thread existed.
        """

    # -- messages ----------------------------------------------------------

    @abstractmethod
    async def add_message(
        self,
        thread_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> MessageRecord:
        """Append a message; it gets the thread's next ``seq``.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            ValidationError: an argument is invalid.
        """

    @abstractmethod
    async def add_messages(
        self, thread_id: str, messages: Sequence[NewMessage]
    ) -> list[MessageRecord]:
        """Append a batch of messages atomically: all are stored or none.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            ValidationError: an item is invalid (nothing is written).
        """

    @abstractmethod
    async def get_messages(
        self,
        thread_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
    ) -> list[MessageRecord]:
        """Return a page of a thread's messages in ``seq`` order.

        ``after_seq``/``before_seq`` bound the page by keyset (exclusive);
        ``newest_first`` reverses the order; ``offset`` applies after those.
        An unknown thread gives ``[]``.
        """

    # -- feedback ----------------------------------------------------------

    @abstractmethod
    async def add_feedback(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        rating: int | None = None,
        comment: str | None = None,
        message_id: int | None = None,
        feedback_type: str = "thumbs",
        query: str | None = "",
        response: str | None = "",
        correction: str | None = None,
    ) -> FeedbackRecord:
        """Record feedback on a thread (optionally on one message).

        Unlike Agentomatic's SQL store, feedback on a missing thread is an error
        on every backend, never an orphan row.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            RecordNotFoundError: ``message_id`` names no message of this thread.
            ValidationError: e.g. a rating outside 1..5.
        """

    @abstractmethod
    async def get_feedback(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        thread_id: str | None = None,
        limit: int = 50,
    ) -> list[FeedbackRecord]:
        """Return feedback, newest first, filtered by any of the given fields."""

    # -- stats -------------------------------------------------------------

    @abstractmethod
    async def get_stats(self) -> StatsRecord:
        """Return row counts per entity, the store class (``backend``) and the ``dialect``."""

    # -- suspended states (human in the loop) ------------------------------

    @abstractmethod
    async def save_suspended_state(
        self,
        approval_id: str,
        thread_id: str,
        agent_name: str,
        node_name: str,
        state_json: dict[str, Any],
        *,
        ttl: timedelta | float | None = None,
    ) -> SuspendedStateRecord:
        """Save (or replace) the state waiting for approval ``approval_id``.

        ``ttl`` is a timedelta or seconds; the default is 7 days. Saving again
        under the same id for the same thread replaces the state (and restarts
        its TTL); an id that a live approval of another thread holds is refused,
        never moved. Values may hold LangChain objects (e.g. ``HumanMessage``):
        they are stored in LangChain's JSON form and revived on read.

        Raises:
            ThreadNotFoundError: the thread does not exist.
            DuplicateRecordError: the approval id belongs to another thread.
        """

    @abstractmethod
    async def get_suspended_state(self, approval_id: str) -> SuspendedStateRecord | None:
        """Return the state, or None if it does not exist or has expired."""

    @abstractmethod
    async def list_suspended_states(
        self, *, thread_id: str | None = None, agent_name: str | None = None
    ) -> list[SuspendedStateRecord]:
        """List unexpired states, oldest first."""

    @abstractmethod
    async def delete_suspended_state(self, approval_id: str) -> bool:
        """Delete a state; return whether it existed."""

    @abstractmethod
    async def cleanup_expired_states(self) -> int:
        """Delete expired states; return how many were deleted."""

    # -- forks ---------------------------------------------------------------

    @abstractmethod
    async def fork_thread(
        self,
        parent_thread_id: str,
        message_index: int,
        new_thread_id: str,
        *,
        title: str | None = None,
    ) -> ThreadRecord | None:
        """Create ``new_thread_id`` holding copies of messages 0..message_index.

        Returns None and writes nothing when the parent does not exist or the
        index is outside its messages. The default title is ``Fork of <title>``.

        Raises:
            DuplicateRecordError: ``new_thread_id`` exists.
        """

    @abstractmethod
    async def get_thread_lineage(self, thread_id: str) -> LineageRecord:
        """Return ancestors (root first, parent last) and direct children (oldest first)."""

    # -- checkpoints -----------------------------------------------------------

    @abstractmethod
    async def save_checkpoint(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """Save (or replace) a checkpoint; the thread need not exist."""

    @abstractmethod
    async def get_checkpoint(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """Return a checkpoint; an empty ``checkpoint_id`` gives the latest."""

    @abstractmethod
    async def list_checkpoints(
        self,
        thread_id: str,
        checkpoint_ns: str,
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        """List checkpoints newest first; ``before`` keeps ids sorting before it."""

    # -- context items (shared agent memory, Syntha's model) ------------------------
    #
    # Every method takes ``user_id``: a user's scope, or None for the global
    # scope, which is distinct from every user. Nothing one scope holds is
    # visible to, or changed through, another.
    #
    # Routing: an item with neither subscribers nor topics is visible to every
    # agent; otherwise it is visible to its subscribers and to the agents
    # subscribed (in the same scope, at read time) to any of its topics.
    # ``agent_name=None`` reads without routing. Expired items are never returned.

    @abstractmethod
    async def save_context_item(
        self,
        key: str,
        value: Any,
        *,
        user_id: str | None = None,
        subscribers: Sequence[str] = (),
        topics: Sequence[str] = (),
        ttl: float | timedelta | None = None,
        posted_by: str | None = None,
    ) -> ContextItemRecord:
        """Save (or replace) the item ``key`` of the scope; its TTL restarts.

        Args:
            key: The item's key, unique per scope.
            value: Any JSON value: dict, list, str, int, float, bool or None.
            user_id: The user's scope, or None for the global scope.
            subscribers: Agents the item is for; empty means not restricted by name.
            topics: Topics the item is posted to.
            ttl: Seconds (or a timedelta) until the item expires; None: never.
            posted_by: The posting agent; when it has permissions configured in
                the scope, every topic must be among them.

        Raises:
            PermissionDeniedError: ``posted_by`` may not post to one of ``topics``
                (nothing is written).
            ValidationError: an argument is invalid.
        """

    @abstractmethod
    async def get_context_item(
        self, key: str, *, user_id: str | None = None, agent_name: str | None = None
    ) -> ContextItemRecord | None:
        """Return the item, or None if it is missing, expired or not routed to ``agent_name``."""

    @abstractmethod
    async def delete_context_item(self, key: str, *, user_id: str | None = None) -> bool:
        """Delete the item; return whether an unexpired item was deleted."""

    @abstractmethod
    async def get_all_context_items(
        self, *, user_id: str | None = None, agent_name: str | None = None
    ) -> list[ContextItemRecord]:
        """Return the scope's unexpired items visible to ``agent_name`` (all if None), by key."""

    @abstractmethod
    async def cleanup_expired_context_items(self) -> int:
        """Delete expired items in every scope; return how many were deleted."""

    @abstractmethod
    async def clear_context_items(self, *, user_id: str | None = None) -> int:
        """Delete every item of the scope; return how many unexpired items were deleted.

        Topic subscriptions and permissions are kept.
        """

    @abstractmethod
    async def save_agent_topics(
        self, agent_name: str, topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """Replace the agent's topic subscriptions in the scope; return them.

        Duplicates are dropped and the order is kept; an empty list removes
        the agent's subscriptions.
        """

    @abstractmethod
    async def get_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> list[str]:
        """Return the agent's topics in the scope, in saved order (``[]`` if none)."""

    @abstractmethod
    async def get_all_agent_topics(self, *, user_id: str | None = None) -> dict[str, list[str]]:
        """Return every subscribed agent of the scope with its topics, by agent name."""

    @abstractmethod
    async def remove_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> bool:
        """Remove the agent's subscriptions in the scope; return whether it had any."""

    @abstractmethod
    async def save_agent_permissions(
        self, agent_name: str, allowed_topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """Restrict the topics the agent may post to in the scope; return them.

        An empty list means the agent may post to no topic (it may still post
        items without topics).
        """

    @abstractmethod
    async def get_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> list[str] | None:
        """Return the topics the agent may post to, or None when it is not restricted."""

    @abstractmethod
    async def get_all_agent_permissions(
        self, *, user_id: str | None = None
    ) -> dict[str, list[str]]:
        """Return every restricted agent of the scope with its allowed topics, by agent name."""

    @abstractmethod
    async def remove_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> bool:
        """Lift the agent's posting restriction in the scope; return whether it had one."""
