"""The rules of a user-scoped view (``store.for_user(user_id)``), shared by every backend.

A unit's ``owner`` is None for an unscoped call, or the view's user. Each
backend enforces it in its own ``scoping`` module with these rules: a thread
is visible when its ``user_id`` is the owner, and every thread-scoped record
(messages, feedback, suspended states, checkpoints) with its thread; a
foreign id behaves exactly like a missing one. Context items live in the
owner's scope: ``user_id=None`` (or the owner) names it, any other user's
scope reads as empty and refuses writes. Runs and tool calls are visible when
their ``user_id`` is the owner (see
:func:`threadstore.store.run_inputs.record_owner` for how it is set); log
analyses and optimization runs are per agent, so a view reads none and
cannot write them.
"""

from __future__ import annotations

from threadstore.errors import PermissionDeniedError
from threadstore.models.context import GLOBAL_SCOPE

__all__ = ["context_scope", "refuse_agent_records", "refuse_foreign_scope", "refuse_foreign_user"]


def context_scope(owner: str | None, scope: str) -> str | None:
    """The scope a call may use: ``scope`` unscoped; the owner's own, or None if foreign."""
    if owner is None:
        return scope
    if scope in (GLOBAL_SCOPE, owner):
        return owner
    return None


def refuse_foreign_scope(owner: str | None, scope: str) -> str:
    """The scope a write may use, or PermissionDeniedError for another user's scope."""
    allowed = context_scope(owner, scope)
    if allowed is None:
        raise PermissionDeniedError(
            f"a view of user {owner!r} cannot write another user's context items",
            suggestion="Pass user_id=None (or the view's user) through store.for_user(...).",
        )
    return allowed


def refuse_foreign_user(owner: str | None, user_id: str) -> None:
    """Refuse to create a record for another user through a view."""
    if owner is not None and user_id != owner:
        raise PermissionDeniedError(
            f"a view of user {owner!r} cannot create records of user {user_id!r}",
            suggestion="Create it through store.for_user(...) of that user, or the store.",
        )


def refuse_agent_records(owner: str | None, what: str) -> None:
    """Refuse to write per-agent records (analyses, optimization runs) through a view."""
    if owner is not None:
        raise PermissionDeniedError(
            f"a view of user {owner!r} cannot write {what}: they are per agent, not per user",
            suggestion="Save them through the store itself, not store.for_user(...).",
        )
