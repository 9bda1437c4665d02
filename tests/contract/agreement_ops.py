"""Store calls as data, for the memory-vs-SQL agreement machine.

An :class:`Op` names a public store method and its arguments, drawn from small
pools so random sequences collide often (same thread twice, a fork of a fork,
a key reused). :func:`run` makes the call on any store or view and
:func:`outcome` turns its result or error into a backend-neutral value:
message ids become ``(thread_id, seq)``, feedback ids are dropped (their order
is what the contract fixes), errors become ``(class name, message)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from threadstore import BaseStore
from threadstore.errors import PersistenceError

THREADS = ("t1", "t2", "t3", "f1", "bad id!")
USERS = ("u1", "u2")
AGENTS = ("a1", "a2")
ROLES = ("user", "assistant", "system", "robot")
KEYS = (None, "k1", "k2")
APPROVALS = ("p1", "p2")
CHECKPOINT_IDS = ("c1", "c2", "c3")
NAMESPACES = ("", "sub")
CONTEXT_KEYS = ("ctx1", "ctx2")


@dataclass(frozen=True)
class MessageRef:
    """A message named the same way on every backend: its thread and seq."""

    thread_id: str
    seq: int


@dataclass(frozen=True)
class Op:
    """One public store call: method name, positional and keyword arguments."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


class Ids:
    """One store's raw message ids, seen in results, mapped to and from MessageRef."""

    def __init__(self) -> None:
        self.to_ref: dict[int, MessageRef] = {}
        self.to_raw: dict[MessageRef, int] = {}

    def learn(self, message: dict[str, Any]) -> None:
        """Map the message's id and ref to each other, forgetting what either named before.

        SQLite reuses the rowid of a message that a rolled-back block or a
        deletion freed, so an id may name another message later.
        """
        ref = MessageRef(message["thread_id"], message["seq"])
        raw = message["id"]
        old_raw = self.to_raw.get(ref)
        if old_raw is not None and old_raw != raw:
            self.to_ref.pop(old_raw, None)
        old_ref = self.to_ref.get(raw)
        if old_ref is not None and old_ref != ref:
            self.to_raw.pop(old_ref, None)
        self.to_ref[raw] = ref
        self.to_raw[ref] = raw

    def raw(self, value: Any) -> Any:
        """The store's own id for a MessageRef argument (unknown refs name no message)."""
        if isinstance(value, MessageRef):
            return self.to_raw.get(value, 10**9)
        return value


def _is_message(value: dict[str, Any]) -> bool:
    return {"id", "thread_id", "seq", "role", "content"} <= value.keys()


def _is_feedback(value: dict[str, Any]) -> bool:
    return {"id", "rating", "feedback_type", "message_id"} <= value.keys()


def _neutral(value: Any, ids: Ids) -> Any:
    if isinstance(value, list):
        return [_neutral(item, ids) for item in value]
    if isinstance(value, tuple):
        return tuple(_neutral(item, ids) for item in value)
    if not isinstance(value, dict):
        return value
    if _is_message(value):
        ids.learn(value)
        return {**value, "id": (value["thread_id"], value["seq"])}
    if _is_feedback(value):
        ref = ids.to_ref.get(value["message_id"]) if value["message_id"] is not None else None
        return {**value, "id": None, "message_id": ref}
    if value.keys() == {"items", "next_cursor"} and any(map(_is_feedback, value["items"])):
        # a feedback cursor holds the raw id, which differs: compare only whether there is one
        return {"items": _neutral(value["items"], ids), "next_cursor": bool(value["next_cursor"])}
    return {key: _neutral(item, ids) for key, item in value.items()}


_RAW_MESSAGE_ID = re.compile(r"\bmessage \d+")


async def outcome(call: Callable[[], Any], ids: Ids) -> Any:
    """Await the call; return ("ok", neutral result) or ("error", class, message)."""
    try:
        result = await call()
    except PersistenceError as exc:
        # a raw message id in the text differs between stores (and a ref one store
        # forgot, after its ids were reused, is 10**9 there): compare the rest
        return ("error", type(exc).__name__, _RAW_MESSAGE_ID.sub("message <id>", str(exc)))
    if isinstance(result, dict) and "dialect" in result:
        result = {k: v for k, v in result.items() if k not in {"backend", "dialect"}}
    return ("ok", _neutral(result, ids))


def run(store: BaseStore, op: Op, ids: Ids) -> Callable[[], Any]:
    """The call of ``op`` on ``store``, with MessageRefs turned into its own ids."""
    method = getattr(store, op.name)
    kwargs = {key: ids.raw(value) for key, value in op.kwargs.items()}
    return lambda: method(*op.args, **kwargs)


def _op(name: str, *args: st.SearchStrategy[Any], **kwargs: st.SearchStrategy[Any]) -> Any:
    return st.builds(
        lambda a, k: Op(name, tuple(a), {key: v for key, v in k.items() if v is not _UNSET}),
        st.tuples(*args),
        st.fixed_dictionaries(kwargs),
    )


_UNSET = object()


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, st.just(_UNSET))


threads = st.sampled_from(("t1", "t2", "t1", "t2", "t3", "f1", "bad id!"))
"""Mostly the seeded threads, so most calls find their thread."""
users = st.sampled_from(USERS)
agents = st.sampled_from(AGENTS)
small_json = st.sampled_from([{}, {"k": 1}, {"k": [1, "x"]}, {"n": None}])
message_refs = st.builds(MessageRef, st.sampled_from(THREADS[:4]), st.integers(0, 3))
new_messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(ROLES), "content": st.sampled_from(["hi", "ok", ""])},
        optional={"metadata": small_json, "idempotency_key": st.sampled_from(KEYS)},
    ),
    max_size=3,
)

THREAD_OPS = (
    _op(
        "create_thread",
        threads,
        users,
        agents,
        title=_maybe(st.sampled_from([None, "T"])),
        metadata=_maybe(small_json),
    ),
    _op("get_thread", threads),
    _op(
        "list_threads",
        agent_name=_maybe(agents),
        user_id=_maybe(users),
        limit=st.sampled_from([1, 2, 50]),
        offset=st.sampled_from([0, 1]),
    ),
    _op(
        "list_threads_page",
        agent_name=_maybe(agents),
        user_id=_maybe(users),
        limit=st.sampled_from([1, 2, 50]),
        order=_maybe(st.sampled_from(["created", "updated"])),
        newest_first=_maybe(st.booleans()),
    ),
    _op(
        "update_thread",
        threads,
        title=_maybe(st.sampled_from([None, "New"])),
        metadata=_maybe(small_json),
        metadata_patch=_maybe(st.sampled_from([{"p": 2}, {"k": None}])),
        expected_version=_maybe(st.integers(0, 3)),
    ),
    _op("delete_thread", threads),
    _op(
        "fork_thread",
        threads,
        st.integers(-1, 3),
        st.sampled_from(THREADS),
        title=_maybe(st.sampled_from([None, "F"])),
    ),
    _op("get_thread_lineage", threads),
    _op("get_stats"),
)

MESSAGE_OPS = (
    _op(
        "add_message",
        threads,
        st.sampled_from(ROLES),
        st.sampled_from(["hello", "again", ""]),
        metadata=_maybe(small_json),
        idempotency_key=_maybe(st.sampled_from(KEYS)),
    ),
    _op("add_messages", threads, new_messages),
    _op(
        "get_messages",
        threads,
        limit=st.sampled_from([1, 2, 100]),
        offset=st.sampled_from([0, 1]),
        after_seq=_maybe(st.sampled_from([0, 1, None])),
        before_seq=_maybe(st.sampled_from([None, 1, 3])),
        newest_first=st.booleans(),
    ),
    _op(
        "add_feedback",
        threads,
        users,
        agents,
        rating=_maybe(st.sampled_from([None, 1, 5, 6])),
        message_id=_maybe(st.one_of(st.none(), message_refs)),
    ),
    _op(
        "get_feedback",
        agent_name=_maybe(agents),
        user_id=_maybe(users),
        thread_id=_maybe(threads),
        limit=st.sampled_from([1, 50]),
    ),
    _op(
        "get_feedback_page",
        agent_name=_maybe(agents),
        thread_id=_maybe(threads),
        limit=st.sampled_from([0, 1, 50]),
    ),
)

APPROVAL_OPS = (
    _op(
        "save_suspended_state",
        st.sampled_from(APPROVALS),
        threads,
        agents,
        st.just("node"),
        small_json,
        ttl=_maybe(st.sampled_from([None, 5.0, 60.0])),
    ),
    _op("get_suspended_state", st.sampled_from(APPROVALS)),
    _op(
        "list_suspended_states",
        thread_id=_maybe(threads),
        agent_name=_maybe(agents),
        limit=_maybe(st.sampled_from([None, 1])),
    ),
    _op("list_suspended_states_page", thread_id=_maybe(threads), limit=st.sampled_from([1, 50])),
    _op("delete_suspended_state", st.sampled_from(APPROVALS)),
    _op("cleanup_expired_states"),
    _op(
        "save_checkpoint",
        threads,
        st.sampled_from(NAMESPACES),
        st.sampled_from(CHECKPOINT_IDS),
        st.sampled_from([None, "c1"]),
        small_json,
        small_json,
    ),
    _op("get_checkpoint", threads, st.sampled_from(NAMESPACES), st.sampled_from(CHECKPOINT_IDS)),
    _op(
        "list_checkpoints",
        threads,
        st.sampled_from(NAMESPACES),
        before=_maybe(st.sampled_from([None, "c2"])),
        limit=_maybe(st.sampled_from([None, 1])),
    ),
)

CONTEXT_OPS = (
    _op(
        "save_context_item",
        st.sampled_from(CONTEXT_KEYS),
        st.sampled_from([1, "v", None, {"a": [1]}]),
        user_id=_maybe(st.one_of(st.none(), users)),
        topics=_maybe(st.sampled_from([(), ("news",)])),
        ttl=_maybe(st.sampled_from([None, 5.0])),
    ),
    _op(
        "get_context_item",
        st.sampled_from(CONTEXT_KEYS),
        user_id=_maybe(st.one_of(st.none(), users)),
        agent_name=_maybe(st.one_of(st.none(), agents)),
    ),
    _op(
        "delete_context_item",
        st.sampled_from(CONTEXT_KEYS),
        user_id=_maybe(st.one_of(st.none(), users)),
    ),
    _op(
        "get_all_context_items",
        user_id=_maybe(st.one_of(st.none(), users)),
        agent_name=_maybe(st.one_of(st.none(), agents)),
        limit=_maybe(st.sampled_from([None, 1])),
    ),
    _op(
        "get_context_items_page",
        user_id=_maybe(st.one_of(st.none(), users)),
        agent_name=_maybe(st.one_of(st.none(), agents)),
        limit=st.sampled_from([1, 50]),
    ),
    _op("cleanup_expired_context_items"),
    _op("clear_context_items", user_id=_maybe(st.one_of(st.none(), users))),
    _op("save_agent_topics", agents, st.sampled_from([(), ("news",), ("news", "ops")])),
    _op("save_agent_permissions", agents, st.sampled_from([(), ("news",)])),
    _op("get_agent_permissions", agents, user_id=_maybe(st.one_of(st.none(), users))),
    _op("get_all_agent_topics", user_id=_maybe(st.one_of(st.none(), users))),
)

ANY_OP: st.SearchStrategy[Op] = st.sampled_from(
    [*THREAD_OPS, *MESSAGE_OPS, *MESSAGE_OPS, *APPROVAL_OPS, *CONTEXT_OPS]
).flatmap(lambda op: op)
"""A method drawn evenly (message methods twice as often: they are the hot path)."""
