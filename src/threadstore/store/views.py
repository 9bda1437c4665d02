"""``store.for_user(user_id)``: a store view that sees and changes one user's data only.

The view's methods are the store's own (written once); it only stamps its
user as the ``owner`` of every unit it hands out, and each backend's
repositories enforce the owner in their ``scoping`` module (see
:mod:`threadstore.store.scoping` for the rules). It composes with
transactions both ways: ``store.for_user(u).transaction()`` scopes the whole
block, and ``tx.for_user(u)`` scopes the calls made through it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from threadstore.records import HealthRecord
from threadstore.store.base import BaseStore
from threadstore.store.core import StoreCore
from threadstore.store.health import DEFAULT_TIMEOUT
from threadstore.store.ports import Unit

__all__ = ["UserView"]


@contextlib.asynccontextmanager
async def _owned_by(owner: str, opened: AbstractAsyncContextManager[Unit]) -> AsyncIterator[Unit]:
    async with opened as unit:
        previous = unit.owner
        unit.owner = owner
        try:
            yield unit
        finally:
            unit.owner = previous


class UserView(BaseStore):
    """The data of one user, through every method of a store (or of a transaction)."""

    def __init__(self, base: BaseStore, user_id: str) -> None:
        self._base = base
        self._owner = user_id
        self.backend_name = base.backend_name
        self.runs_without_loop = base.runs_without_loop

    def __repr__(self) -> str:
        return f"<view of user {self._owner!r} on {self._base!r}>"

    @property
    def user_id(self) -> str:
        """The user this view is limited to."""
        return self._owner

    def root(self) -> StoreCore:
        """The store underneath every view and transaction."""
        return self._base.root()

    def scope_owner(self) -> str | None:
        """The user this view is limited to."""
        return self._owner

    def _open_unit(
        self, *, write: bool, block: bool, may_lag: bool = False
    ) -> AbstractAsyncContextManager[Unit]:
        base = self._base._open_unit(write=write, block=block, may_lag=may_lag)
        return _owned_by(self._owner, base)

    def unit(self, *, write: bool, may_lag: bool = False) -> AbstractAsyncContextManager[Unit]:
        """The underlying store's (or transaction's) unit, limited to this view's user."""
        return _owned_by(self._owner, self._base.unit(write=write, may_lag=may_lag))

    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """The store's health."""
        return await self._base.health_check(timeout=timeout)
