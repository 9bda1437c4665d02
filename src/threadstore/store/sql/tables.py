"""The ORM tables as Core handles, and rows turned into plain records at the boundary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from threadstore.clock import isoformat, stamp
from threadstore.models import (
    AgentPermission,
    AgentTopic,
    Checkpoint,
    CheckpointWrite,
    ContextItem,
    ContextRoute,
    Feedback,
    Message,
    SuspendedState,
    Thread,
)
from threadstore.records import (
    CheckpointRecord,
    ContextItemRecord,
    FeedbackRecord,
    MessageRecord,
    SuspendedStateRecord,
    ThreadRecord,
)
from threadstore.store import context_inputs
from threadstore.store.sql.direct import RecordShape

__all__ = [
    "CHECKPOINT_RECORD",
    "CHECKPOINT_RECORD_COLUMNS",
    "MESSAGE_RECORD",
    "THREAD_RECORD",
    "agent_permissions",
    "agent_topics",
    "checkpoint_record",
    "checkpoint_writes",
    "checkpoints",
    "context_items",
    "context_record",
    "context_routes",
    "feedback",
    "feedback_record",
    "message_record",
    "messages",
    "suspended",
    "suspended_record",
    "thread_record",
    "threads",
    "upsert",
]

threads = cast(Table, Thread.__table__)
messages = cast(Table, Message.__table__)
feedback = cast(Table, Feedback.__table__)
suspended = cast(Table, SuspendedState.__table__)
checkpoints = cast(Table, Checkpoint.__table__)
checkpoint_writes = cast(Table, CheckpointWrite.__table__)
context_items = cast(Table, ContextItem.__table__)
context_routes = cast(Table, ContextRoute.__table__)
agent_topics = cast(Table, AgentTopic.__table__)
agent_permissions = cast(Table, AgentPermission.__table__)

Row = Mapping[Any, Any]


def upsert(dialect: str, table: Table) -> Any:
    """An INSERT that accepts ``on_conflict_do_update`` on this dialect."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def thread_record(row: Row) -> ThreadRecord:
    """A thread row as a record."""
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "agent_name": row["agent_name"],
        "title": row["title"],
        "metadata": row["metadata"],
        "created_at": stamp(row["created_at"]),
        "updated_at": stamp(row["updated_at"]),
        "message_count": row["message_count"],
        "parent_thread_id": row["parent_thread_id"],
        "fork_message_index": row["fork_message_index"],
        "version": row["version"],
    }


def message_record(row: Row) -> MessageRecord:
    """A message row as a record."""
    return {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "seq": row["seq"],
        "role": row["role"],
        "content": row["content"],
        "metadata": row["metadata"],
        "timestamp": stamp(row["timestamp"]),
    }


def feedback_record(row: Row) -> FeedbackRecord:
    """A feedback row as a record."""
    return {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "user_id": row["user_id"],
        "agent_name": row["agent_name"],
        "rating": row["rating"],
        "comment": row["comment"],
        "message_id": row["message_id"],
        "feedback_type": row["feedback_type"],
        "query": row["query"],
        "response": row["response"],
        "correction": row["correction"],
        "created_at": isoformat(row["created_at"]),
    }


def suspended_record(row: Row) -> SuspendedStateRecord:
    """A suspended-state row as a record."""
    return {
        "id": row["id"],
        "thread_id": row["thread_id"],
        "agent_name": row["agent_name"],
        "node_name": row["node_name"],
        "state_snapshot": row["state_snapshot"],
        "created_at": isoformat(row["created_at"]),
        "expires_at": isoformat(row["expires_at"]),
    }


CHECKPOINT_RECORD_COLUMNS = [
    checkpoints.c[name]
    for name in (
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "parent_checkpoint_id",
        "checkpoint",
        "metadata",
        "created_at",
    )
]
"""What the dict checkpoint methods read: the record's columns only."""


def checkpoint_record(row: Row) -> CheckpointRecord:
    """A checkpoint row (record columns only) as a record."""
    return {
        "thread_id": row["thread_id"],
        "checkpoint_ns": row["checkpoint_ns"],
        "checkpoint_id": row["checkpoint_id"],
        "parent_checkpoint_id": row["parent_checkpoint_id"],
        "checkpoint": row["checkpoint"],
        "metadata": row["metadata"],
        "created_at": stamp(row["created_at"]),
    }


THREAD_RECORD = RecordShape(tuple(ThreadRecord.__annotations__), thread_record)
"""Threads' records: the columns of ``select(threads)``, in order."""
MESSAGE_RECORD = RecordShape(tuple(MessageRecord.__annotations__), message_record)
"""Messages' records: the leading columns of ``select(messages)``."""
CHECKPOINT_RECORD = RecordShape(tuple(CheckpointRecord.__annotations__), checkpoint_record)
"""Checkpoints' records: ``CHECKPOINT_RECORD_COLUMNS``, in order."""


def context_record(row: Row) -> ContextItemRecord:
    """A context-item row as a record."""
    expires_at = row["expires_at"]
    return {
        "key": row["key"],
        "value": row["value"],
        "subscribers": row["subscribers"],
        "topics": row["topics"],
        "ttl": row["ttl"],
        "created_at": isoformat(row["created_at"]),
        "expires_at": None if expires_at is None else isoformat(expires_at),
        "user_id": context_inputs.user_of(row["scope"]),
        "posted_by": row["posted_by"],
    }
