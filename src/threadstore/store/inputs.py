"""Validated arguments of the store methods, shared by every backend.

Each function checks one method's arguments with :mod:`threadstore.validation`
and returns them normalised (copied), so the backends receive the same values
and raise the same errors before writing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from threadstore.errors import (
    DuplicateRecordError,
    RecordNotFoundError,
    ValidationError,
    VersionConflictError,
)
from threadstore.lc_messages import encode
from threadstore.validation import (
    MAX_TITLE_LENGTH,
    check_id,
    check_int,
    check_limit,
    check_optional_id,
    check_optional_text,
    check_rating,
    check_seq,
    check_text,
    check_ttl,
    json_object_copy,
)

__all__ = [
    "DEFAULT_SUSPENDED_TTL",
    "UPDATABLE_THREAD_FIELDS",
    "FeedbackInput",
    "MessageInput",
    "MessagePage",
    "SuspendedInput",
    "ThreadInput",
    "ThreadUpdate",
    "approval_of_other_thread",
    "checkpoint_input",
    "feedback_input",
    "fork_title",
    "key_reused",
    "message_inputs",
    "message_not_in_thread",
    "message_page",
    "optional_ids",
    "optional_limit",
    "suspended_state_input",
    "thread_input",
    "thread_update",
    "version_conflict",
]

DEFAULT_SUSPENDED_TTL = timedelta(days=7)
UPDATABLE_THREAD_FIELDS = frozenset({"title", "metadata"})
_UPDATE_ARGUMENTS = UPDATABLE_THREAD_FIELDS | {"metadata_patch", "expected_version"}
_NEW_MESSAGE_KEYS = frozenset({"role", "content", "metadata", "idempotency_key"})
_FORK_PREFIX = "Fork of "


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


def key_reused(key: str, thread_id: str) -> DuplicateRecordError:
    """The error of an idempotency key used again for a message of other content."""
    return DuplicateRecordError(
        f"idempotency key {key!r} of thread {thread_id!r} names a message of other content",
        suggestion="Use a new key for a new message; reuse a key only to retry the same one.",
    )


def version_conflict(thread_id: str, expected: int, current: int) -> VersionConflictError:
    """The error of a compare-and-swap update on a thread that moved on."""
    return VersionConflictError(
        f"thread {thread_id!r} is at version {current}, not the expected {expected}",
        suggestion="Read the thread again, reapply the change and retry with its version.",
    )


def fork_title(parent_title: str | None, parent_id: str) -> str:
    """Default title of a fork: ``Fork of <title>``, never nested ``Fork of Fork of``."""
    base = parent_title or parent_id
    return base if base.startswith(_FORK_PREFIX) else f"{_FORK_PREFIX}{base}"


@dataclass(frozen=True, slots=True)
class ThreadInput:
    """Arguments of create_thread."""

    thread_id: str
    user_id: str
    agent_name: str
    title: str | None
    metadata: dict[str, Any]

    def new_thread(self, now: object) -> dict[str, Any]:
        """The fields of the new thread, stamped ``now`` (a datetime or its ISO form)."""
        return {
            "id": self.thread_id,
            "user_id": self.user_id,
            "agent_name": self.agent_name,
            "title": self.title,
            "metadata": self.metadata,
            "created_at": now,
            "updated_at": now,
            "message_count": 0,
            "parent_thread_id": None,
            "fork_message_index": None,
            "version": 1,
        }


@dataclass(frozen=True, slots=True)
class ThreadUpdate:
    """Fields update_thread sets; ``None`` means unchanged.

    Attributes:
        patch: Keys to merge into the stored metadata (top level).
        expected_version: Apply only if the thread is at this version.
    """

    title: str | None
    set_title: bool
    metadata: dict[str, Any] | None
    patch: dict[str, Any] | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class MessageInput:
    """One message to append."""

    role: str
    content: str
    metadata: dict[str, Any]
    idempotency_key: str | None = None

    def same_as(self, stored: Mapping[Any, Any]) -> bool:
        """Whether a stored message holds this one's content (a retry, not a reuse)."""
        return bool(
            stored["role"] == self.role
            and stored["content"] == self.content
            and stored["metadata"] == self.metadata
        )


@dataclass(frozen=True, slots=True)
class MessagePage:
    """Paging arguments of get_messages."""

    limit: int
    offset: int
    after_seq: int | None
    before_seq: int | None
    newest_first: bool


@dataclass(frozen=True, slots=True)
class FeedbackInput:
    """Arguments of add_feedback."""

    thread_id: str
    user_id: str
    agent_name: str
    rating: int | None
    comment: str | None
    message_id: int | None
    feedback_type: str
    query: str | None
    response: str | None
    correction: str | None


@dataclass(frozen=True, slots=True)
class SuspendedInput:
    """Arguments of save_suspended_state."""

    approval_id: str
    thread_id: str
    agent_name: str
    node_name: str
    state: dict[str, Any]
    lifetime: timedelta


def _title(value: object) -> str | None:
    return check_optional_text("title", value, max_length=MAX_TITLE_LENGTH)


def _metadata(name: str, value: object) -> dict[str, Any]:
    return json_object_copy(name, value)


def thread_input(
    thread_id: object, user_id: object, agent_name: object, title: object, metadata: object
) -> ThreadInput:
    """Check create_thread's arguments."""
    return ThreadInput(
        thread_id=check_id("thread_id", thread_id),
        user_id=check_id("user_id", user_id),
        agent_name=check_id("agent_name", agent_name),
        title=_title(title),
        metadata=_metadata("metadata", metadata),
    )


def thread_update(updates: Mapping[str, Any]) -> ThreadUpdate:
    """Check update_thread's fields: only title and metadata may change."""
    unknown = sorted(set(updates) - _UPDATE_ARGUMENTS)
    if unknown:
        raise ValidationError(
            f"update_thread cannot change {', '.join(unknown)}",
            suggestion="Only title and metadata (or metadata_patch) can be updated; ids, "
            "owners, counts, versions and timestamps are managed by the store.",
        )
    metadata = updates.get("metadata")
    if "metadata" in updates and metadata is None:
        raise ValidationError("metadata cannot be None", suggestion="Pass metadata={} to clear it.")
    if "metadata" in updates and "metadata_patch" in updates:
        raise ValidationError(
            "pass metadata (replace) or metadata_patch (merge), not both",
            suggestion="Merge the keys into one metadata_patch, or replace the whole dict.",
        )
    patch = updates.get("metadata_patch")
    expected = updates.get("expected_version")
    return ThreadUpdate(
        title=_title(updates.get("title")),
        set_title="title" in updates,
        metadata=None if metadata is None else _metadata("metadata", metadata),
        patch=None if patch is None else _metadata("metadata_patch", patch),
        expected_version=None
        if expected is None
        else check_int("expected_version", expected, minimum=1),
    )


def message_inputs(messages: object) -> list[MessageInput]:
    """Check an add_messages batch."""
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence):
        raise ValidationError(
            "messages must be a list of dicts",
            suggestion='Pass e.g. [{"role": "user", "content": "hi"}].',
        )
    checked: list[MessageInput] = []
    keys: set[str] = set()
    for index, item in enumerate(messages):
        if not isinstance(item, Mapping):
            raise ValidationError(
                f"messages[{index}] must be a dict, got {type(item).__name__}",
                suggestion='Each item needs "role" and "content" and may have "metadata".',
            )
        extra = sorted(set(item) - _NEW_MESSAGE_KEYS)
        if extra or "role" not in item or "content" not in item:
            raise ValidationError(
                f"messages[{index}] must have role and content and nothing but metadata "
                f"and idempotency_key (unexpected: {', '.join(extra) or 'none'})",
                suggestion='Each item needs "role" and "content" and may have "metadata".',
            )
        message = message_input(
            item["role"], item["content"], item.get("metadata"), item.get("idempotency_key")
        )
        if message.idempotency_key is not None:
            if message.idempotency_key in keys:
                raise ValidationError(
                    f"idempotency key {message.idempotency_key!r} appears twice in the batch",
                    suggestion="Give every message of a batch its own key.",
                )
            keys.add(message.idempotency_key)
        checked.append(message)
    return checked


def message_input(
    role: object, content: object, metadata: object, idempotency_key: object = None
) -> MessageInput:
    """Check one message's fields."""
    return MessageInput(
        role=check_id("role", role),
        content=check_text("content", content),
        metadata=_metadata("metadata", metadata),
        idempotency_key=check_optional_id("idempotency_key", idempotency_key),
    )


def message_page(
    limit: object, offset: object, after_seq: object, before_seq: object, newest_first: object
) -> MessagePage:
    """Check get_messages' paging arguments."""
    return MessagePage(
        limit=check_limit("limit", limit),
        offset=check_limit("offset", offset),
        after_seq=None if after_seq is None else check_seq("after_seq", after_seq),
        before_seq=None if before_seq is None else check_seq("before_seq", before_seq),
        newest_first=bool(newest_first),
    )


def optional_ids(**values: object) -> None:
    """Check filter arguments that are ids or None (e.g. ``user_id=None``)."""
    for name, value in values.items():
        check_optional_id(name, value)


def optional_limit(limit: object) -> int | None:
    """Check a limit that may be None (no limit)."""
    return None if limit is None else check_limit("limit", limit)


def feedback_input(
    thread_id: object,
    user_id: object,
    agent_name: object,
    *,
    rating: object,
    comment: object,
    message_id: object,
    feedback_type: object,
    query: object,
    response: object,
    correction: object,
) -> FeedbackInput:
    """Check add_feedback's arguments."""
    return FeedbackInput(
        thread_id=check_id("thread_id", thread_id),
        user_id=check_id("user_id", user_id),
        agent_name=check_id("agent_name", agent_name),
        rating=check_rating(rating),
        comment=check_optional_text("comment", comment),
        message_id=None if message_id is None else check_int("message_id", message_id, minimum=1),
        feedback_type=check_id("feedback_type", feedback_type),
        query=check_optional_text("query", query),
        response=check_optional_text("response", response),
        correction=check_optional_text("correction", correction),
    )


def suspended_state_input(
    approval_id: object,
    thread_id: object,
    agent_name: object,
    node_name: object,
    state_json: object,
    ttl: object,
) -> SuspendedInput:
    """Check save_suspended_state's arguments."""
    return SuspendedInput(
        approval_id=check_id("approval_id", approval_id),
        thread_id=check_id("thread_id", thread_id),
        agent_name=check_id("agent_name", agent_name),
        node_name=check_id("node_name", node_name),
        state=json_object_copy("state_json", encode(state_json), allow_none=False),
        lifetime=check_ttl(ttl, default=DEFAULT_SUSPENDED_TTL),
    )


def checkpoint_input(
    thread_id: object,
    checkpoint_ns: object,
    checkpoint_id: object,
    parent_checkpoint_id: object,
    checkpoint: object,
    metadata: object,
) -> tuple[str, str, str, str | None, dict[str, Any], dict[str, Any]]:
    """Check save_checkpoint's arguments."""
    return (
        check_id("thread_id", thread_id),
        check_id("checkpoint_ns", checkpoint_ns, allow_empty=True),
        check_id("checkpoint_id", checkpoint_id),
        check_optional_id("parent_checkpoint_id", parent_checkpoint_id),
        json_object_copy("checkpoint", encode(checkpoint), allow_none=False),
        _metadata("metadata", metadata),
    )
