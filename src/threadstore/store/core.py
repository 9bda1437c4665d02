"""The one choke point of every store call: where a unit of work is opened.

A store call outside a ``transaction()`` block opens a unit of its own through
the backend's :meth:`StoreCore._open_unit` hook, which commits it when the call
returns. Inside a block, the block's transaction object hands out the block's
unit instead. A call through the store itself from inside one of its own open
blocks (same task) is refused: it would wait for the block to end and hang.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from threadstore.errors import TransactionError
from threadstore.store.ports import Unit

__all__ = ["OpenBlock", "StoreCore", "enter_block", "leave_block"]


@dataclass(eq=False)
class OpenBlock:
    """A ``transaction()`` block that is running: its store, task and whether it is open."""

    store: StoreCore
    task: asyncio.Task[Any] | None
    open: bool = True


_OPEN_BLOCKS: ContextVar[tuple[OpenBlock, ...]] = ContextVar("threadstore_open_blocks", default=())


def enter_block(block: OpenBlock) -> object:
    """Record that the current task runs inside ``block``; return the token to reset it."""
    return _OPEN_BLOCKS.set((*_OPEN_BLOCKS.get(), block))


def leave_block(token: object) -> None:
    """Undo :func:`enter_block`."""
    _OPEN_BLOCKS.reset(token)  # type: ignore[arg-type]


class StoreCore(ABC):
    """What every public method stands on: :meth:`unit` and the backend's hook."""

    backend_name: str = "base"

    runs_without_loop: bool = False
    """True when the backend never waits on I/O (memory), so sync callers may drive it."""

    @abstractmethod
    def _open_unit(
        self, *, write: bool, block: bool, may_lag: bool = False
    ) -> AbstractAsyncContextManager[Unit]:
        """Open a storage unit: for one call (``block=False``) or a ``transaction()`` block.

        The unit commits when the context exits normally and rolls back on any
        exception. ``write`` says whether a one-call unit may write;
        ``may_lag`` that a one-call read may be served by a read replica.
        """

    def root(self) -> StoreCore:
        """The store underneath every view and transaction (here: the store itself)."""
        return self

    def scope_owner(self) -> str | None:
        """The user a ``for_user`` view limits calls to; None when unscoped."""
        return None

    def unit(self, *, write: bool, may_lag: bool = False) -> AbstractAsyncContextManager[Unit]:
        """The storage unit for one call: its own unit here, the block's in a transaction.

        ``may_lag``: the call is a read that may see a slightly older state
        (a read replica may serve it; never inside a transaction).

        Public for extensions such as the LangGraph saver, which store through
        the same repositories and transactions as the store's own methods.

        Raises:
            TransactionError: called through the store from inside one of its
                own open ``transaction()`` blocks.
        """
        self.refuse_inside_own_block()
        return self._open_unit(write=write, block=False, may_lag=may_lag and not write)

    def refuse_inside_own_block(self) -> None:
        """Raise TransactionError when the current task is inside one of this store's blocks."""
        blocks = _OPEN_BLOCKS.get()
        if not blocks:
            return
        task, root = asyncio.current_task(), self.root()
        for block in blocks:
            if block.open and block.store is root and block.task is task:
                raise TransactionError(
                    "this store was called directly inside one of its own open "
                    "transaction() blocks, which would wait for the block and hang",
                    suggestion="Inside `async with store.transaction() as tx:` call tx.<method>"
                    "(...) (and bind savers to tx), not store.<method>(...).",
                )
