"""The records stores return: plain, JSON-serialisable dicts, typed for mypy.

Timestamps are ISO-8601 strings in UTC with an explicit ``+00:00`` offset and
microsecond precision, identical on every backend. Every record handed out is a
copy owned by the caller.
"""

from __future__ import annotations

from typing import Any, Generic, NotRequired, TypedDict, TypeVar

__all__ = [
    "AggregateStatsRecord",
    "CheckpointRecord",
    "ContextItemRecord",
    "FeedbackRecord",
    "HealthRecord",
    "InvocationLogRecord",
    "JSONObject",
    "LineageRecord",
    "LogAnalysisRecord",
    "MessageRecord",
    "NewMessage",
    "OptimizationRunRecord",
    "Page",
    "ReplicaHealthRecord",
    "SearchHitRecord",
    "StatsBucketRecord",
    "StatsRecord",
    "SuspendedStateRecord",
    "ThreadHitRecord",
    "ThreadRecord",
    "ToolCallRecord",
]

JSONObject = dict[str, Any]

_T = TypeVar("_T")


class ThreadRecord(TypedDict):
    """A conversation thread."""

    id: str
    user_id: str
    agent_name: str
    title: str | None
    metadata: JSONObject
    created_at: str
    updated_at: str
    message_count: int
    parent_thread_id: str | None
    fork_message_index: int | None
    version: int
    """Counts the thread's changes; ``update_thread(..., expected_version=N)`` checks it."""


class MessageRecord(TypedDict):
    """One message of a thread; ``seq`` is its 0-based, gap-free position."""

    id: int
    thread_id: str
    seq: int
    role: str
    content: str
    metadata: JSONObject
    timestamp: str


class _NewMessageRequired(TypedDict):
    role: str
    content: str


class NewMessage(_NewMessageRequired, total=False):
    """One item of an ``add_messages`` batch."""

    metadata: JSONObject | None
    idempotency_key: str | None
    """Unique per thread: a retry with the same key returns the stored message."""


class FeedbackRecord(TypedDict):
    """A user's feedback on an agent's answer."""

    id: int
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
    created_at: str


class SuspendedStateRecord(TypedDict):
    """An execution state waiting for a human's approval."""

    id: str
    thread_id: str
    agent_name: str
    node_name: str
    state_snapshot: JSONObject
    created_at: str
    expires_at: str


class CheckpointRecord(TypedDict):
    """A LangGraph checkpoint as a JSON document."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    checkpoint: JSONObject
    metadata: JSONObject
    created_at: str


class ContextItemRecord(TypedDict):
    """A shared context item (Syntha's model) as one agent or a listing sees it.

    ``user_id`` is None for the global scope. ``subscribers`` and ``topics``
    are the routing lists given when the item was saved (empty = not
    restricted that way); ``ttl`` is in seconds and ``expires_at`` is None for
    an item that never expires.
    """

    key: str
    value: Any
    subscribers: list[str]
    topics: list[str]
    ttl: float | None
    created_at: str
    expires_at: str | None
    user_id: str | None
    posted_by: str | None


class LineageRecord(TypedDict):
    """A thread's ancestors (root first) and direct children (oldest first)."""

    thread_id: str
    ancestors: list[ThreadRecord]
    descendants: list[ThreadRecord]


class StatsRecord(TypedDict):
    """Row counts per entity.

    ``backend`` names the store class (``"MemoryStore"``, ``"SQLAlchemyStore"``)
    as Agentomatic does; ``dialect`` the database (``"memory"``, ``"sqlite"``,
    ``"postgresql"``).
    """

    backend: str
    dialect: str
    threads: int
    messages: int
    feedback: int
    suspended_states: int
    checkpoints: int
    context_items: int


class ReplicaHealthRecord(TypedDict):
    """One read replica in ``health_check()``.

    ``state``: ``streaming`` (serves reads), ``lagging`` (past the bound),
    ``down`` (unreachable) or ``not_in_recovery`` (no longer a standby);
    ``lag_seconds`` None when unknown; ``caught_up``: it has replayed this
    store's newest write.
    """

    url: str
    state: str
    lag_seconds: float | None
    caught_up: bool


class HealthRecord(TypedDict):
    """The answer of ``health_check()``; it never raises.

    ``backend`` and ``dialect`` as in :class:`StatsRecord`. ``checks`` holds
    what was verified (``connected``, ``schema_at_head``; SQLite adds
    ``writable``); ``error`` is the first failure, None when healthy.
    ``replicas`` (only with read replicas) reports each one; a replica that
    is down or lagging does not make the store unhealthy (reads fall back to
    the primary).
    """

    status: str
    backend: str
    dialect: str
    schema_revision: str | None
    checks: dict[str, bool]
    latency_ms: float
    error: str | None
    replicas: NotRequired[list[ReplicaHealthRecord]]


class Page(TypedDict, Generic[_T]):
    """One page of a keyset listing (``list_threads_page`` and the other ``*_page`` methods).

    ``next_cursor`` is None on the last page; otherwise pass it as ``cursor=``
    (with the same filters and order) for the next page. It is opaque text,
    safe in a URL.
    """

    items: list[_T]
    next_cursor: str | None


class InvocationLogRecord(TypedDict):
    """One run of an agent: Agentomatic's invocation log, with tokens, cost and owner.

    ``resource_name`` repeats ``agent_name`` (Agentomatic's alias); ``timestamp``
    is when the run was logged. ``user_id`` owns the run (the thread's owner when
    the thread exists), None for a run of nobody's.
    """

    id: str
    resource_type: str
    resource_name: str
    agent_name: str
    user_id: str | None
    thread_id: str | None
    run_id: str | None
    timestamp: str
    endpoint: str
    input: JSONObject
    output: JSONObject
    metadata: JSONObject
    error: str | None
    duration_ms: float | None
    status: str
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None


class ToolCallRecord(TypedDict):
    """One tool call, of a run (``run_id``) and/or a thread.

    ``input`` and ``output`` are any JSON values; ``approval`` is None (no
    approval involved), ``"pending"``, ``"approved"`` or ``"denied"``.
    """

    id: str
    tool_name: str
    agent_name: str
    user_id: str | None
    thread_id: str | None
    run_id: str | None
    input: Any
    output: Any
    is_error: bool
    error: str | None
    approval: str | None
    duration_ms: float | None
    metadata: JSONObject
    created_at: str


class LogAnalysisRecord(TypedDict):
    """An analysis of an agent's invocation logs (Agentomatic's keys)."""

    id: str
    resource_type: str
    resource_name: str
    agent_name: str
    score: float | None
    summary: str
    status: str
    recommendations: list[str]
    metadata: JSONObject
    created_at: str


class OptimizationRunRecord(TypedDict):
    """An auditable prompt-optimization run (Agentomatic's keys)."""

    id: str
    experiment_id: str
    agent_name: str
    baseline_score: float | None
    best_score: float | None
    prompt_versions: JSONObject
    score_history: list[Any]
    learnings: list[Any]
    artefacts: JSONObject
    metadata: JSONObject
    created_at: str


class StatsBucketRecord(TypedDict):
    """What happened in one day or hour (``bucket`` is its start, ISO-8601 UTC)."""

    bucket: str
    threads: int
    messages: int
    feedback: int
    runs: int
    run_errors: int
    tool_calls: int
    tool_call_errors: int
    input_tokens: int
    output_tokens: int
    cost: float


class AggregateStatsRecord(TypedDict):
    """Totals of ``aggregate_stats`` and, with a ``bucket``, the time series.

    Each entity is counted at its creation time (threads ``created_at``,
    messages ``timestamp``, feedback ``created_at``, runs ``timestamp``, tool
    calls ``created_at``) within ``since`` (inclusive) .. ``until``
    (exclusive). ``feedback_mean_rating`` averages the rated feedback (None
    without any). ``tool_calls_by_error`` has the keys ``"error"`` and
    ``"ok"``. Tokens and cost are the runs' sums. ``series`` lists only
    buckets holding something, oldest first (``[]`` without ``bucket``).
    """

    agent_name: str | None
    user_id: str | None
    since: str | None
    until: str | None
    bucket: str | None
    threads: int
    messages: int
    messages_by_role: dict[str, int]
    feedback: int
    feedback_mean_rating: float | None
    runs: int
    runs_by_status: dict[str, int]
    tool_calls: int
    tool_calls_by_tool: dict[str, int]
    tool_calls_by_error: dict[str, int]
    input_tokens: int
    output_tokens: int
    cost: float
    series: list[StatsBucketRecord]


class SearchHitRecord(TypedDict):
    """A message found by ``search_messages``, with its relevance and a highlighted snippet.

    ``score`` is higher for a better match; it orders the hits of one search
    on one backend (its scale differs between backends). ``snippet`` is a
    piece of ``content`` around the matches, each matched word wrapped in the
    search's ``highlight`` markers (``[`` and ``]`` by default).
    """

    message_id: int
    thread_id: str
    seq: int
    role: str
    content: str
    created_at: str
    score: float
    snippet: str


class ThreadHitRecord(TypedDict):
    """A thread found by ``search_threads`` by its title; score and snippet as for messages."""

    thread_id: str
    user_id: str
    agent_name: str
    title: str
    created_at: str
    updated_at: str
    score: float
    snippet: str
