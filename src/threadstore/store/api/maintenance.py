"""Erasure and retention methods, written once: validate, then batches of repository calls.

``erase_user`` is one unit (one transaction). The retention methods run in
batches of ``batch_size``, each batch its own unit: outside a
``transaction()`` block every batch commits by itself, so no lock is held for
long on a busy table and an interrupted run keeps what it finished; inside a
block every batch uses the block's unit, so the whole run commits (or rolls
back) with the block, as every call of a block does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from threadstore.errors import PermissionDeniedError, ValidationError
from threadstore.store.core import StoreCore
from threadstore.store.ports import (
    ERASED_KINDS,
    EXPIRED_KINDS,
    PRUNED_KINDS,
    THREAD_KINDS,
    Counts,
    NamespaceKey,
)
from threadstore.validation import INT32_MAX, check_id, check_int, check_optional_id

__all__ = ["DEFAULT_BATCH_SIZE", "MAX_BATCH_SIZE", "MaintenanceMethods"]

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 10_000
"""The largest batch: its keys stay well under every driver's bound-parameter limit."""


def _batch_size(value: object) -> int:
    return check_int("batch_size", value, minimum=1, maximum=MAX_BATCH_SIZE)


def _age(older_than: object) -> datetime | timedelta:
    """Check ``older_than``: an aware datetime, or a positive timedelta (an age)."""
    if isinstance(older_than, timedelta):
        if older_than <= timedelta(0):
            raise ValidationError(
                f"older_than must be a positive age, got {older_than}",
                suggestion="Pass e.g. timedelta(days=30): threads idle for longer are deleted.",
            )
        return older_than
    if isinstance(older_than, datetime):
        if older_than.tzinfo is None or older_than.utcoffset() is None:
            raise ValidationError(
                "older_than is a naive datetime",
                suggestion="Pass an aware datetime, e.g. datetime.now(UTC) - timedelta(days=30).",
            )
        return older_than
    raise ValidationError(
        f"older_than must be a datetime or a timedelta, got {type(older_than).__name__}",
        suggestion="Pass e.g. timedelta(days=30).",
    )


def _zero(kinds: tuple[str, ...]) -> Counts:
    return dict.fromkeys((*kinds, "batches"), 0)


def _add(totals: Counts, counts: Counts) -> None:
    totals["batches"] += 1
    for name, value in counts.items():
        totals[name] += value


class MaintenanceMethods(StoreCore):
    """Erasing one user's data, deleting idle threads, pruning checkpoints, purging TTLs."""

    async def erase_user(self, user_id: str) -> Counts:
        """Delete everything the user owns, in one transaction; return rows per kind.

        Removes the user's threads with their messages, feedback, suspended
        states, checkpoints and LangGraph writes (whoever gave that feedback),
        the feedback the user gave on any thread, and the user's scope of
        context items (with routes), agent topics, agent permissions and
        LangGraph long-term memory items (``memory_items``).
        Other users' forks of the user's threads are detached, as by
        :meth:`delete_thread`. Checkpoints under thread ids that have no
        thread row belong to no user and stay. Keys of the result:
        ``threads, messages, feedback, suspended_states, checkpoints,
        checkpoint_writes, forks_detached, context_items, topics`` (rows)
        and ``permissions`` (restricted agents). A ``for_user`` view may
        erase its own user only.

        Raises:
            ValidationError: ``user_id`` is not a valid id.
            PermissionDeniedError: a view of another user.
        """
        user = check_id("user_id", user_id)
        owner = self.scope_owner()
        if owner is not None and owner != user:
            raise PermissionDeniedError(
                f"a view of user {owner!r} cannot erase user {user!r}",
                suggestion="Erase a user through the store itself (or that user's view).",
            )
        async with self.unit(write=True) as unit:
            counts = await unit.maintenance.erase_user(user)
        return {name: counts[name] for name in ERASED_KINDS}

    async def delete_idle_threads(
        self, older_than: datetime | timedelta, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Counts:
        """Delete threads last updated before a time, with everything in them.

        ``older_than`` is an aware datetime, or a timedelta meaning that long
        before now (fixed when the run starts). Each batch deletes up to
        ``batch_size`` threads with their messages, feedback, suspended states,
        checkpoints and writes, and detaches their forks, as
        :meth:`delete_thread` does; see the module docstring for how batches
        commit. On PostgreSQL a thread being written at that moment is
        skipped (it is not idle). Returns rows per kind of
        :data:`~threadstore.store.ports.THREAD_KINDS` and ``batches``.

        Raises:
            ValidationError: a naive datetime, an age that is not positive, or
                a ``batch_size`` outside 1..10000.
        """
        age = _age(older_than)
        size = _batch_size(batch_size)
        totals = _zero(THREAD_KINDS)
        cutoff: datetime | None = None
        while True:
            async with self.unit(write=True) as unit:
                repo = unit.maintenance
                if cutoff is None:
                    cutoff = age if isinstance(age, datetime) else repo.now() - age
                counts = await repo.delete_idle(cutoff, size)
            _add(totals, counts)
            if counts["threads"] < size:
                return totals

    async def prune_checkpoints(
        self,
        keep_last: int,
        *,
        thread_id: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Counts:
        """Keep the newest ``keep_last`` checkpoints per thread and namespace; delete the rest.

        Older checkpoints go with their pending writes; a kept checkpoint whose
        parent was deleted gets ``parent_checkpoint_id`` None (as LangGraph's
        ``prune(strategy="keep_latest")``). Namespaces of a graph with a
        ``DeltaChannel`` (whose history lives in older checkpoints) are left
        whole. ``thread_id`` limits the pass to one thread. Each batch deletes
        up to ``batch_size`` checkpoints. Returns ``checkpoints``,
        ``checkpoint_writes`` and ``batches``.

        Raises:
            ValidationError: ``keep_last`` below 1 (use :meth:`delete_thread`
                to drop every checkpoint), or an invalid ``thread_id`` or
                ``batch_size``.
        """
        keep = check_int("keep_last", keep_last, minimum=1, maximum=INT32_MAX)
        thread = check_optional_id("thread_id", thread_id)
        size = _batch_size(batch_size)
        totals = _zero(PRUNED_KINDS)
        after: NamespaceKey | None = None
        while True:
            async with self.unit(write=True) as unit:
                counts, after = await unit.maintenance.prune_checkpoints(keep, thread, after, size)
            _add(totals, counts)
            if after is None:
                return totals

    async def purge_expired(self, *, batch_size: int = DEFAULT_BATCH_SIZE) -> Counts:
        """Delete expired suspended states and expired context items, in batches.

        The bounded counterpart of :meth:`cleanup_expired_states` and
        :meth:`cleanup_expired_context_items`: each batch deletes up to
        ``batch_size`` of each. Returns ``suspended_states``,
        ``context_items``, ``memory_items`` (LangGraph long-term memory items
        past their TTL) and ``batches``.

        Raises:
            ValidationError: ``batch_size`` outside 1..10000.
        """
        size = _batch_size(batch_size)
        totals = _zero(EXPIRED_KINDS)
        while True:
            async with self.unit(write=True) as unit:
                counts = await unit.maintenance.purge_expired(size)
            _add(totals, counts)
            if all(counts[name] < size for name in EXPIRED_KINDS):
                return totals
