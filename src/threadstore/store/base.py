"""The interface every threadstore backend implements, and every public method, written once.

Method names, positional arguments and record keys are a superset of
Agentomatic's ``BaseStore``, so code written against it swaps in threadstore by
changing an import. Each public method is defined once (in
:mod:`threadstore.store.api`): it validates its arguments with
:mod:`threadstore.store.inputs` in one order, then calls a repository of the
backend's unit of work (:mod:`threadstore.store.ports`). Backends supply only
storage and the lifecycle hooks, so all of them behave the same by construction.

Not to be confused with ``langgraph.store.base.BaseStore``: import this one as
``from threadstore import BaseStore``.
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Self

from threadstore.errors import PermissionDeniedError
from threadstore.records import HealthRecord
from threadstore.store.api.agents import AgentMethods
from threadstore.store.api.approvals import ApprovalMethods
from threadstore.store.api.context import ContextMethods
from threadstore.store.api.maintenance import MaintenanceMethods
from threadstore.store.api.messages import MessageMethods
from threadstore.store.api.queries import QueryMethods
from threadstore.store.api.runs import RunMethods
from threadstore.store.api.search import SearchMethods
from threadstore.store.api.threads import ThreadMethods
from threadstore.store.api.tools import ToolCallMethods
from threadstore.store.health import DEFAULT_TIMEOUT
from threadstore.store.inputs import (
    DEFAULT_SUSPENDED_TTL,
    UPDATABLE_THREAD_FIELDS,
    approval_of_other_thread,
    fork_title,
    message_not_in_thread,
)
from threadstore.validation import check_id

if TYPE_CHECKING:
    from threadstore.store.transaction import Transaction

__all__ = [
    "DEFAULT_SUSPENDED_TTL",
    "LIFECYCLE_METHODS",
    "UPDATABLE_THREAD_FIELDS",
    "BaseStore",
    "approval_of_other_thread",
    "fork_title",
    "message_not_in_thread",
]

LIFECYCLE_METHODS = frozenset({"initialize", "close", "health_check"})
"""The public methods a backend may define itself; every other one is BaseStore's."""


class BaseStore(
    ThreadMethods,
    MessageMethods,
    ApprovalMethods,
    ContextMethods,
    AgentMethods,
    RunMethods,
    ToolCallMethods,
    QueryMethods,
    MaintenanceMethods,
    SearchMethods,
):
    """Async persistence for threads, messages, feedback, approvals, checkpoints and context.

    Ordering rules shared by every backend:

    * threads: most recently updated first, ties by id descending;
    * messages: by their per-thread ``seq`` (0, 1, 2, ...), never by timestamp;
    * feedback: newest first, ties by id descending;
    * suspended states: oldest first, ties by id;
    * checkpoints: newest first by ``checkpoint_id`` (LangGraph ids sort in
      creation order);
    * context items: by key; agents and their topic lists by agent name;
    * runs, tool calls, log analyses, optimization runs: newest first, ties by
      id descending.

    The ``*_page`` methods (``list_threads_page``, ``get_feedback_page``,
    ``list_suspended_states_page``, ``get_context_items_page``) read the same
    orders by keyset and return ``{"items": [...], "next_cursor": ...}``;
    ``list_threads_page`` sorts by creation unless ``order="updated"``, so a
    walk never skips or repeats a thread that others' updates move.

    Reads of a missing record return ``None`` (or ``[]``); deletes return
    whether something was deleted. Every call is its own transaction, unless
    it is made through the object of a :meth:`transaction` block.
    """

    # -- lifecycle ------------------------------------------------------

    async def initialize(self) -> None:
        """Prepare the backend (connect, check the schema). Safe to call twice."""

    async def close(self) -> None:
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

    # -- unit of work -----------------------------------------------------

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work: ``async with store.transaction() as tx:``.

        ``tx`` has every method of the store. Its writes commit together when
        the block ends and roll back together on any exception; its reads see
        its own writes. ``tx.transaction()`` nests a savepoint. A call that
        fails inside the block aborts it (further calls raise
        :class:`~threadstore.errors.TransactionAbortedError`); catch failures
        around a nested block instead. Using ``tx`` after the block raises
        :class:`~threadstore.errors.TransactionClosedError`. Isolation per
        backend: see docs/transactions.md.
        """
        from threadstore.store.transaction import open_transaction

        self.refuse_inside_own_block()
        return open_transaction(self)

    def for_user(self, user_id: str) -> BaseStore:
        """A view through which no method reads, changes or deletes another user's data.

        Threads are the user's when their ``user_id`` is; messages, feedback,
        suspended states and checkpoints go with their thread; context items,
        topics and permissions live in the user's scope (``user_id=None`` or
        the user's id names it); runs and tool calls are the user's when their
        ``user_id`` is, and per-agent log analyses and optimization runs are
        not visible. A foreign id behaves exactly like a missing one;
        ``create_thread`` and context writes for another user raise
        :class:`~threadstore.errors.PermissionDeniedError`. Views compose with
        :meth:`transaction` both ways.

        Raises:
            PermissionDeniedError: this is already a view of another user.
            ValidationError: ``user_id`` is not a valid id.
        """
        from threadstore.store.views import UserView

        owner = check_id("user_id", user_id)
        current = self.scope_owner()
        if current is not None:
            if current != owner:
                raise PermissionDeniedError(
                    f"a view of user {current!r} cannot widen to user {owner!r}",
                    suggestion="Call for_user(...) on the store itself.",
                )
            return self
        return UserView(self, owner)
