"""``store.transaction()``: a store view whose calls share one unit of work.

The view is a :class:`~threadstore.store.base.BaseStore` like any other: its
methods are the store's own, written once; only :meth:`Transaction.unit`
differs, handing every call the block's unit instead of opening one. Calls of
a block run one at a time (they share one connection), and a call that fails
marks its block aborted, because on PostgreSQL the transaction is then
unusable and on every backend part of the call may have run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from threadstore.errors import TransactionAbortedError, TransactionClosedError, TransactionError
from threadstore.records import HealthRecord
from threadstore.store.base import BaseStore
from threadstore.store.core import OpenBlock, StoreCore, enter_block, leave_block
from threadstore.store.health import DEFAULT_TIMEOUT
from threadstore.store.ports import Unit

__all__ = ["Transaction", "open_transaction"]


class _Shared:
    """What a block and its nested blocks share: the store, the unit and a call lock."""

    __slots__ = ("lock", "store", "unit")

    def __init__(self, store: BaseStore, unit: Unit) -> None:
        self.store = store
        self.unit = unit
        self.lock = asyncio.Lock()


class Transaction(BaseStore):
    """The object of an ``async with store.transaction() as tx:`` block (or a nested one)."""

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._active = True
        self._failed = False
        self.backend_name = shared.store.backend_name
        self.runs_without_loop = shared.store.runs_without_loop

    def __repr__(self) -> str:
        state = "open" if self._active else "closed"
        return f"<Transaction {state} on {self._shared.store!r}>"

    @property
    def store(self) -> BaseStore:
        """The store (or user view) this transaction writes through."""
        return self._shared.store

    def root(self) -> StoreCore:
        """The store underneath."""
        return self._shared.store.root()

    def scope_owner(self) -> str | None:
        """The user the block is limited to, when opened through a ``for_user`` view."""
        return self._shared.store.scope_owner()

    def _check(self) -> None:
        if not self._active:
            raise TransactionClosedError(
                "this transaction object was used after its `async with` block ended"
            )
        if self._failed:
            raise TransactionAbortedError(
                "an earlier call of this transaction block failed, so the block can only roll back"
            )

    def _open_unit(
        self, *, write: bool, block: bool, may_lag: bool = False
    ) -> AbstractAsyncContextManager[Unit]:
        raise TransactionError("a transaction view opens no units of its own")

    def unit(self, *, write: bool, may_lag: bool = False) -> AbstractAsyncContextManager[Unit]:
        """The block's unit, for one call at a time (on the primary, ``may_lag`` or not).

        Raises:
            TransactionClosedError: the block has ended.
            TransactionAbortedError: an earlier call of the block failed.
        """
        self._check()
        return self._bound()

    @contextlib.asynccontextmanager
    async def _bound(self) -> AsyncIterator[Unit]:
        async with self._shared.lock:
            self._check()
            try:
                yield self._shared.unit
            except BaseException:
                self._failed = True
                raise

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a nested block: a savepoint of this one, rolled back alone on an exception."""
        self._check()
        return self._nested()

    @contextlib.asynccontextmanager
    async def _nested(self) -> AsyncIterator[Transaction]:
        unit = self._shared.unit
        async with self._shared.lock:
            token = unit.savepoint()
        inner = Transaction(self._shared)
        try:
            yield inner
        except BaseException:
            inner._active = False
            await self._end_savepoint(token, commit=False)
            raise
        inner._active = False
        await self._end_savepoint(token, commit=not inner._failed)
        if inner._failed:
            raise TransactionAbortedError(
                "a call of the nested block failed: its writes were rolled back"
            )

    async def _end_savepoint(self, token: object, *, commit: bool) -> None:
        async with self._shared.lock:
            try:
                await self._shared.unit.end_savepoint(token, commit=commit)
            except BaseException:
                self._failed = True
                raise

    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """The store's health (checked on a connection of its own)."""
        return await self._shared.store.health_check(timeout=timeout)


@contextlib.asynccontextmanager
async def open_transaction(store: BaseStore) -> AsyncIterator[Transaction]:
    """Run a ``store.transaction()`` block: one unit, committed at the end or rolled back."""
    store.refuse_inside_own_block()
    async with store._open_unit(write=True, block=True) as unit:
        block = OpenBlock(store.root(), asyncio.current_task())
        token = enter_block(block)
        tx = Transaction(_Shared(store, unit))
        try:
            yield tx
            if tx._failed:
                raise TransactionAbortedError(
                    "a call of the transaction block failed: nothing was committed"
                )
        finally:
            tx._active = False
            block.open = False
            leave_block(token)
