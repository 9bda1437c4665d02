"""MemoryStore: the whole contract in RAM, for development and tests.

Every method runs without awaiting in the middle, so each call is atomic with
respect to other tasks on the event loop, as a database transaction would be.
Records are deep-copied in and out: callers never share state with the store.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any, TypeVar, cast

from threadstore import lc_messages
from threadstore.clock import Clock, check_clock, isoformat
from threadstore.errors import DuplicateRecordError, ThreadNotFoundError
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
from threadstore.store import context_inputs, inputs
from threadstore.store.base import (
    BaseStore,
    approval_of_other_thread,
    fork_title,
    message_not_in_thread,
)
from threadstore.store.health import DEFAULT_TIMEOUT, check_timeout
from threadstore.validation import (
    check_id,
    check_int,
    check_limit,
    check_optional_id,
    check_seq,
)

__all__ = ["MemoryStore"]

_T = TypeVar("_T")


def _copy(value: _T) -> _T:
    return copy.deepcopy(value)


_R = TypeVar("_R", SuspendedStateRecord, CheckpointRecord)


def _revived(record: _R) -> _R:
    """A copy of a suspended state or checkpoint with LangChain messages revived."""
    copied = _copy(record)
    key = "state_snapshot" if "state_snapshot" in copied else "checkpoint"
    copied[key] = lc_messages.decode(copied[key])  # type: ignore[literal-required]
    return copied


class MemoryStore(BaseStore):
    """A :class:`BaseStore` kept in process memory; data is lost on exit.

    Args:
        max_threads: Keep at most this many threads; creating one more evicts
            the least recently updated thread with all its data.
        clock: Returns the current aware time; inject one in tests.
    """

    backend_name = "memory"

    def __init__(self, *, max_threads: int | None = None, clock: Clock | None = None) -> None:
        if max_threads is not None:
            check_int("max_threads", max_threads, minimum=1)
        self.max_threads = max_threads
        """The most threads kept (the least recently updated is evicted), None when unbounded."""
        self._clock = check_clock(clock)
        self._threads: dict[str, ThreadRecord] = {}
        self._messages: dict[str, list[MessageRecord]] = {}
        self._feedback: dict[int, FeedbackRecord] = {}
        self._suspended: dict[str, SuspendedStateRecord] = {}
        self._checkpoints: dict[tuple[str, str], dict[str, CheckpointRecord]] = {}
        # The LangGraph saver's binary parts, by (thread_id, checkpoint_ns,
        # checkpoint_id): the serialised channel values (type tag, bytes) and
        # the pending writes {(task_id, idx): (channel, type tag, bytes, task_path)}.
        self._checkpoint_payloads: dict[tuple[str, str, str], tuple[str, bytes]] = {}
        self._checkpoint_writes: dict[
            tuple[str, str, str], dict[tuple[str, int], tuple[str, str, bytes, str]]
        ] = {}
        self._context: dict[tuple[str, str], ContextItemRecord] = {}
        self._agent_topics: dict[tuple[str, str], list[str]] = {}
        self._agent_permissions: dict[tuple[str, str], list[str]] = {}
        self._next_message_id = 1
        self._next_feedback_id = 1

    def __repr__(self) -> str:
        return f"MemoryStore(threads={len(self._threads)}, max_threads={self.max_threads})"

    def _now(self) -> str:
        return isoformat(self._clock())

    # -- lifecycle ------------------------------------------------------------

    async def health_check(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the probe's own bound, by design
    ) -> HealthRecord:
        """Report healthy; the memory backend has no schema and nothing to wait for."""
        started = time.perf_counter()
        check_timeout(timeout)
        return {
            "status": "healthy",
            "backend": type(self).__name__,
            "dialect": self.backend_name,
            "schema_revision": None,
            "checks": {},
            "latency_ms": (time.perf_counter() - started) * 1000,
            "error": None,
        }

    # -- threads ----------------------------------------------------------------

    async def create_thread(
        self,
        thread_id: str,
        user_id: str,
        agent_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> ThreadRecord:
        """See :meth:`BaseStore.create_thread`."""
        args = inputs.thread_input(thread_id, user_id, agent_name, title, metadata)
        self._require_new_thread(args.thread_id)
        now = self._now()
        thread: ThreadRecord = {
            "id": args.thread_id,
            "user_id": args.user_id,
            "agent_name": args.agent_name,
            "title": args.title,
            "metadata": args.metadata,
            "created_at": now,
            "updated_at": now,
            "message_count": 0,
            "parent_thread_id": None,
            "fork_message_index": None,
        }
        self._insert_thread(thread, [])
        return _copy(thread)

    def _require_new_thread(self, thread_id: str) -> None:
        if thread_id in self._threads:
            raise DuplicateRecordError(f"thread {thread_id!r} already exists")

    def _insert_thread(self, thread: ThreadRecord, messages: list[MessageRecord]) -> None:
        self._threads[thread["id"]] = thread
        self._messages[thread["id"]] = messages
        if self.max_threads is not None and len(self._threads) > self.max_threads:
            others = (t for t in self._threads.values() if t["id"] != thread["id"])
            oldest = min(others, key=lambda t: (t["updated_at"], t["id"]))
            self._remove_thread(oldest["id"])

    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        """See :meth:`BaseStore.get_thread`."""
        check_id("thread_id", thread_id)
        thread = self._threads.get(thread_id)
        return None if thread is None else _copy(thread)

    async def list_threads(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ThreadRecord]:
        """See :meth:`BaseStore.list_threads`."""
        inputs.optional_ids(agent_name=agent_name, user_id=user_id)
        limit, offset = check_limit("limit", limit), check_limit("offset", offset)
        threads = [
            t
            for t in self._threads.values()
            if (agent_name is None or t["agent_name"] == agent_name)
            and (user_id is None or t["user_id"] == user_id)
        ]
        threads.sort(key=lambda t: (t["updated_at"], t["id"]), reverse=True)
        return _copy(threads[offset : offset + limit])

    async def update_thread(self, thread_id: str, **updates: Any) -> ThreadRecord | None:
        """See :meth:`BaseStore.update_thread`."""
        check_id("thread_id", thread_id)
        change = inputs.thread_update(updates)
        thread = self._threads.get(thread_id)
        if thread is None:
            return None
        if change.set_title:
            thread["title"] = change.title
        if change.metadata is not None:
            thread["metadata"] = change.metadata
        thread["updated_at"] = self._now()
        return _copy(thread)

    async def delete_thread(self, thread_id: str) -> bool:
        """See :meth:`BaseStore.delete_thread`."""
        check_id("thread_id", thread_id)
        self._delete_checkpoints(thread_id)
        if thread_id not in self._threads:
            return False
        self._remove_thread(thread_id)
        return True

    def _delete_checkpoints(self, thread_id: str) -> None:
        """Remove a thread's checkpoints with their payloads and pending writes."""
        for key in [key for key in self._checkpoints if key[0] == thread_id]:
            del self._checkpoints[key]
        for parts in (self._checkpoint_payloads, self._checkpoint_writes):
            for full_key in [k for k in parts if k[0] == thread_id]:
                del parts[full_key]

    def _remove_thread(self, thread_id: str) -> None:
        del self._threads[thread_id]
        del self._messages[thread_id]
        self._feedback = {k: f for k, f in self._feedback.items() if f["thread_id"] != thread_id}
        self._suspended = {k: s for k, s in self._suspended.items() if s["thread_id"] != thread_id}
        for child in self._threads.values():
            if child["parent_thread_id"] == thread_id:
                child["parent_thread_id"] = None

    # -- messages -----------------------------------------------------------------

    async def add_message(
        self,
        thread_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> MessageRecord:
        """See :meth:`BaseStore.add_message`."""
        check_id("thread_id", thread_id)
        message = inputs.message_input(role, content, metadata)
        return self._append(thread_id, [message])[0]

    async def add_messages(
        self, thread_id: str, messages: Sequence[NewMessage]
    ) -> list[MessageRecord]:
        """See :meth:`BaseStore.add_messages`."""
        check_id("thread_id", thread_id)
        return self._append(thread_id, inputs.message_inputs(messages))

    def _append(self, thread_id: str, batch: list[inputs.MessageInput]) -> list[MessageRecord]:
        thread = self._threads.get(thread_id)
        if thread is None:
            raise ThreadNotFoundError(thread_id)
        now = self._now()
        stored = self._messages[thread_id]
        added: list[MessageRecord] = []
        for item in batch:
            record: MessageRecord = {
                "id": self._next_message_id,
                "thread_id": thread_id,
                "seq": len(stored),
                "role": item.role,
                "content": item.content,
                "metadata": item.metadata,
                "timestamp": now,
            }
            self._next_message_id += 1
            stored.append(record)
            added.append(record)
        if added:
            thread["message_count"] = len(stored)
            thread["updated_at"] = now
        return _copy(added)

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
        """See :meth:`BaseStore.get_messages`."""
        check_id("thread_id", thread_id)
        page = inputs.message_page(limit, offset, after_seq, before_seq, newest_first)
        selected = [
            m
            for m in self._messages.get(thread_id, [])
            if (page.after_seq is None or m["seq"] > page.after_seq)
            and (page.before_seq is None or m["seq"] < page.before_seq)
        ]
        if page.newest_first:
            selected.reverse()
        return _copy(selected[page.offset : page.offset + page.limit])

    # -- feedback -----------------------------------------------------------------

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
        """See :meth:`BaseStore.add_feedback`."""
        args = inputs.feedback_input(
            thread_id,
            user_id,
            agent_name,
            rating=rating,
            comment=comment,
            message_id=message_id,
            feedback_type=feedback_type,
            query=query,
            response=response,
            correction=correction,
        )
        if args.thread_id not in self._threads:
            raise ThreadNotFoundError(args.thread_id)
        if args.message_id is not None and not any(
            m["id"] == args.message_id for m in self._messages[args.thread_id]
        ):
            raise message_not_in_thread(args.message_id, args.thread_id)
        record = cast(
            FeedbackRecord,
            {"id": self._next_feedback_id, **asdict(args), "created_at": self._now()},
        )
        self._feedback[record["id"]] = record
        self._next_feedback_id += 1
        return _copy(record)

    async def get_feedback(
        self,
        *,
        agent_name: str | None = None,
        user_id: str | None = None,
        thread_id: str | None = None,
        limit: int = 50,
    ) -> list[FeedbackRecord]:
        """See :meth:`BaseStore.get_feedback`."""
        inputs.optional_ids(agent_name=agent_name, user_id=user_id, thread_id=thread_id)
        limit = check_limit("limit", limit)
        items = [
            f
            for f in self._feedback.values()
            if (agent_name is None or f["agent_name"] == agent_name)
            and (user_id is None or f["user_id"] == user_id)
            and (thread_id is None or f["thread_id"] == thread_id)
        ]
        items.sort(key=lambda f: (f["created_at"], f["id"]), reverse=True)
        return _copy(items[:limit])

    # -- stats ------------------------------------------------------------------------

    async def get_stats(self) -> StatsRecord:
        """See :meth:`BaseStore.get_stats`."""
        return {
            "backend": type(self).__name__,
            "dialect": self.backend_name,
            "threads": len(self._threads),
            "messages": sum(len(m) for m in self._messages.values()),
            "feedback": len(self._feedback),
            "suspended_states": len(self._suspended),
            "checkpoints": sum(len(c) for c in self._checkpoints.values()),
            "context_items": len(self._context),
        }

    # -- suspended states -------------------------------------------------------------

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
        """See :meth:`BaseStore.save_suspended_state`."""
        approval, thread, agent, node, state, lifetime = inputs.suspended_state_input(
            approval_id, thread_id, agent_name, node_name, state_json, ttl
        )
        if thread not in self._threads:
            raise ThreadNotFoundError(thread)
        existing = self._suspended.get(approval)
        if existing is not None and existing["thread_id"] != thread and self._live(existing):
            raise approval_of_other_thread(approval)
        now = self._clock()
        record: SuspendedStateRecord = {
            "id": approval,
            "thread_id": thread,
            "agent_name": agent,
            "node_name": node,
            "state_snapshot": state,
            "created_at": isoformat(now),
            "expires_at": isoformat(now + lifetime),
        }
        self._suspended[approval] = record
        return _revived(record)

    def _live(self, record: SuspendedStateRecord) -> bool:
        return record["expires_at"] > self._now()

    async def get_suspended_state(self, approval_id: str) -> SuspendedStateRecord | None:
        """See :meth:`BaseStore.get_suspended_state`."""
        check_id("approval_id", approval_id)
        record = self._suspended.get(approval_id)
        return _revived(record) if record is not None and self._live(record) else None

    async def list_suspended_states(
        self, *, thread_id: str | None = None, agent_name: str | None = None
    ) -> list[SuspendedStateRecord]:
        """See :meth:`BaseStore.list_suspended_states`."""
        inputs.optional_ids(thread_id=thread_id, agent_name=agent_name)
        items = [
            s
            for s in self._suspended.values()
            if self._live(s)
            and (thread_id is None or s["thread_id"] == thread_id)
            and (agent_name is None or s["agent_name"] == agent_name)
        ]
        items.sort(key=lambda s: (s["created_at"], s["id"]))
        return [_revived(item) for item in items]

    async def delete_suspended_state(self, approval_id: str) -> bool:
        """See :meth:`BaseStore.delete_suspended_state`."""
        check_id("approval_id", approval_id)
        return self._suspended.pop(approval_id, None) is not None

    async def cleanup_expired_states(self) -> int:
        """See :meth:`BaseStore.cleanup_expired_states`."""
        expired = [k for k, s in self._suspended.items() if not self._live(s)]
        for key in expired:
            del self._suspended[key]
        return len(expired)

    # -- forks ------------------------------------------------------------------------

    async def fork_thread(
        self,
        parent_thread_id: str,
        message_index: int,
        new_thread_id: str,
        *,
        title: str | None = None,
    ) -> ThreadRecord | None:
        """See :meth:`BaseStore.fork_thread`."""
        args = inputs.thread_input(new_thread_id, "-", "-", title, None)
        check_id("parent_thread_id", parent_thread_id)
        index = check_seq("message_index", message_index)
        parent = self._threads.get(parent_thread_id)
        if parent is None or not 0 <= index < parent["message_count"]:
            return None
        self._require_new_thread(args.thread_id)
        now = self._now()
        thread: ThreadRecord = {
            "id": args.thread_id,
            "user_id": parent["user_id"],
            "agent_name": parent["agent_name"],
            "title": args.title or fork_title(parent["title"], parent["id"]),
            "metadata": _copy(parent["metadata"]),
            "created_at": now,
            "updated_at": now,
            "message_count": index + 1,
            "parent_thread_id": parent["id"],
            "fork_message_index": index,
        }
        copies: list[MessageRecord] = []
        for message in self._messages[parent["id"]][: index + 1]:
            copied = _copy(message)
            copied["id"] = self._next_message_id
            copied["thread_id"] = args.thread_id
            self._next_message_id += 1
            copies.append(copied)
        self._insert_thread(thread, copies)
        return _copy(thread)

    async def get_thread_lineage(self, thread_id: str) -> LineageRecord:
        """See :meth:`BaseStore.get_thread_lineage`."""
        check_id("thread_id", thread_id)
        ancestors: list[ThreadRecord] = []
        current = self._threads.get(thread_id)
        while current is not None and current["parent_thread_id"] is not None:
            current = self._threads.get(current["parent_thread_id"])
            if current is not None:
                ancestors.append(current)
        ancestors.reverse()
        children = [t for t in self._threads.values() if t["parent_thread_id"] == thread_id]
        children.sort(key=lambda t: (t["created_at"], t["id"]))
        return {
            "thread_id": thread_id,
            "ancestors": _copy(ancestors),
            "descendants": _copy(children),
        }

    # -- checkpoints ----------------------------------------------------------------

    async def save_checkpoint(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        parent_checkpoint_id: str | None,
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        """See :meth:`BaseStore.save_checkpoint`."""
        thread, ns, cid, parent, body, meta = inputs.checkpoint_input(
            thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata
        )
        self._checkpoint_payloads.pop((thread, ns, cid), None)
        self._checkpoints.setdefault((thread, ns), {})[cid] = {
            "thread_id": thread,
            "checkpoint_ns": ns,
            "checkpoint_id": cid,
            "parent_checkpoint_id": parent,
            "checkpoint": body,
            "metadata": meta,
            "created_at": self._now(),
        }

    async def get_checkpoint(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> CheckpointRecord | None:
        """See :meth:`BaseStore.get_checkpoint`."""
        check_id("thread_id", thread_id)
        check_id("checkpoint_ns", checkpoint_ns, allow_empty=True)
        check_id("checkpoint_id", checkpoint_id, allow_empty=True)
        saved = self._checkpoints.get((thread_id, checkpoint_ns), {})
        if not checkpoint_id:
            checkpoint_id = max(saved, default="")
        record = saved.get(checkpoint_id)
        return None if record is None else _revived(record)

    async def list_checkpoints(
        self,
        thread_id: str,
        checkpoint_ns: str,
        *,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[CheckpointRecord]:
        """See :meth:`BaseStore.list_checkpoints`."""
        inputs.optional_ids(before=before)
        check_id("thread_id", thread_id)
        check_id("checkpoint_ns", checkpoint_ns, allow_empty=True)
        maximum = inputs.optional_limit(limit)
        saved = self._checkpoints.get((thread_id, checkpoint_ns), {})
        ids = sorted((c for c in saved if before is None or c < before), reverse=True)
        return [_revived(saved[c]) for c in ids[:maximum]]

    # -- context items ------------------------------------------------------------------

    def _unexpired(self, item: ContextItemRecord) -> bool:
        return item["expires_at"] is None or item["expires_at"] > self._now()

    def _routed(self, item: ContextItemRecord, scope: str, agent_name: str | None) -> bool:
        if agent_name is None or not (item["subscribers"] or item["topics"]):
            return True
        subscribed = self._agent_topics.get((scope, agent_name), [])
        return agent_name in item["subscribers"] or any(t in subscribed for t in item["topics"])

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
        """See :meth:`BaseStore.save_context_item`."""
        args = context_inputs.context_item_input(
            key,
            value,
            user_id=user_id,
            subscribers=subscribers,
            topics=topics,
            ttl=ttl,
            posted_by=posted_by,
        )
        if args.posted_by is not None:
            allowed = self._agent_permissions.get((args.scope, args.posted_by))
            context_inputs.check_may_post(args, allowed)
        now = self._clock()
        record: ContextItemRecord = {
            "key": args.key,
            "value": args.value,
            "subscribers": args.subscribers,
            "topics": args.topics,
            "ttl": args.ttl,
            "created_at": isoformat(now),
            "expires_at": None if args.lifetime is None else isoformat(now + args.lifetime),
            "user_id": context_inputs.user_of(args.scope),
            "posted_by": args.posted_by,
        }
        self._context[(args.scope, args.key)] = record
        return _copy(record)

    async def get_context_item(
        self, key: str, *, user_id: str | None = None, agent_name: str | None = None
    ) -> ContextItemRecord | None:
        """See :meth:`BaseStore.get_context_item`."""
        scope = context_inputs.scope_of(user_id)
        item = self._context.get((scope, check_id("key", key)))
        agent = check_optional_id("agent_name", agent_name)
        if item is None or not self._unexpired(item) or not self._routed(item, scope, agent):
            return None
        return _copy(item)

    async def delete_context_item(self, key: str, *, user_id: str | None = None) -> bool:
        """See :meth:`BaseStore.delete_context_item`."""
        scope = context_inputs.scope_of(user_id)
        item = self._context.pop((scope, check_id("key", key)), None)
        return item is not None and self._unexpired(item)

    async def get_all_context_items(
        self, *, user_id: str | None = None, agent_name: str | None = None
    ) -> list[ContextItemRecord]:
        """See :meth:`BaseStore.get_all_context_items`."""
        scope = context_inputs.scope_of(user_id)
        agent = check_optional_id("agent_name", agent_name)
        items = [
            item
            for (item_scope, _), item in sorted(self._context.items())
            if item_scope == scope and self._unexpired(item) and self._routed(item, scope, agent)
        ]
        return _copy(items)

    async def cleanup_expired_context_items(self) -> int:
        """See :meth:`BaseStore.cleanup_expired_context_items`."""
        expired = [k for k, item in self._context.items() if not self._unexpired(item)]
        for key in expired:
            del self._context[key]
        return len(expired)

    async def clear_context_items(self, *, user_id: str | None = None) -> int:
        """See :meth:`BaseStore.clear_context_items`."""
        scope = context_inputs.scope_of(user_id)
        keys = [k for k in self._context if k[0] == scope]
        removed = [self._context.pop(k) for k in keys]
        return sum(1 for item in removed if self._unexpired(item))

    async def save_agent_topics(
        self, agent_name: str, topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """See :meth:`BaseStore.save_agent_topics`."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        names = context_inputs.agent_names("topics", topics)
        if names:
            self._agent_topics[(scope, agent)] = names
        else:
            self._agent_topics.pop((scope, agent), None)
        return list(names)

    async def get_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> list[str]:
        """See :meth:`BaseStore.get_agent_topics`."""
        scope = context_inputs.scope_of(user_id)
        return list(self._agent_topics.get((scope, check_id("agent_name", agent_name)), []))

    async def get_all_agent_topics(self, *, user_id: str | None = None) -> dict[str, list[str]]:
        """See :meth:`BaseStore.get_all_agent_topics`."""
        return self._per_agent(self._agent_topics, context_inputs.scope_of(user_id))

    @staticmethod
    def _per_agent(lists: dict[tuple[str, str], list[str]], scope: str) -> dict[str, list[str]]:
        return {agent: list(names) for (s, agent), names in sorted(lists.items()) if s == scope}

    async def remove_agent_topics(self, agent_name: str, *, user_id: str | None = None) -> bool:
        """See :meth:`BaseStore.remove_agent_topics`."""
        scope = context_inputs.scope_of(user_id)
        key = (scope, check_id("agent_name", agent_name))
        return self._agent_topics.pop(key, None) is not None

    async def save_agent_permissions(
        self, agent_name: str, allowed_topics: Sequence[str], *, user_id: str | None = None
    ) -> list[str]:
        """See :meth:`BaseStore.save_agent_permissions`."""
        scope = context_inputs.scope_of(user_id)
        agent = check_id("agent_name", agent_name)
        names = context_inputs.agent_names("allowed_topics", allowed_topics)
        self._agent_permissions[(scope, agent)] = names
        return list(names)

    async def get_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> list[str] | None:
        """See :meth:`BaseStore.get_agent_permissions`."""
        scope = context_inputs.scope_of(user_id)
        allowed = self._agent_permissions.get((scope, check_id("agent_name", agent_name)))
        return None if allowed is None else list(allowed)

    async def get_all_agent_permissions(
        self, *, user_id: str | None = None
    ) -> dict[str, list[str]]:
        """See :meth:`BaseStore.get_all_agent_permissions`."""
        return self._per_agent(self._agent_permissions, context_inputs.scope_of(user_id))

    async def remove_agent_permissions(
        self, agent_name: str, *, user_id: str | None = None
    ) -> bool:
        """See :meth:`BaseStore.remove_agent_permissions`."""
        key = (context_inputs.scope_of(user_id), check_id("agent_name", agent_name))
        return self._agent_permissions.pop(key, None) is not None
