"""aggregate_stats in a MemoryStore: the same groups the SQL backends count, from the state."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from threadstore.clock import isoformat, parse_iso
from threadstore.store.aggregates import StatsGroups, truncate
from threadstore.store.tool_inputs import StatsQuery

if TYPE_CHECKING:
    from threadstore.store.memory.unit import MemoryUnit

__all__ = ["MemoryStats"]


class MemoryStats:
    """See :class:`~threadstore.store.ports.StatsRepository`."""

    def __init__(self, unit: MemoryUnit) -> None:
        self._unit = unit
        self._since: str | None = None
        self._until: str | None = None

    def _bucket(self, query: StatsQuery, stamp: str) -> str | None:
        """The bucket label of a stored timestamp (None without buckets)."""
        if query.bucket is None:
            return None
        return isoformat(truncate(parse_iso(stamp), query.bucket))

    def _in_range(self, stamp: str) -> bool:
        return (self._since is None or stamp >= self._since) and (
            self._until is None or stamp < self._until
        )

    def _owners(self, query: StatsQuery) -> list[str]:
        return [user for user in (query.user_id, self._unit.owner) if user is not None]

    async def groups(self, query: StatsQuery) -> StatsGroups:
        """See :meth:`StatsRepository.groups`."""
        state = self._unit.state
        self._since = None if query.since is None else isoformat(query.since)
        self._until = None if query.until is None else isoformat(query.until)
        owners = self._owners(query)
        chosen = {
            t["id"]
            for t in state.threads.values()
            if (query.agent_name is None or t["agent_name"] == query.agent_name)
            and all(t["user_id"] == user for user in owners)
        }
        owned = {t["id"] for t in state.threads.values() if all(t["user_id"] == u for u in owners)}
        found = StatsGroups()

        threads: Counter[str | None] = Counter(
            self._bucket(query, state.threads[t]["created_at"])
            for t in chosen
            if self._in_range(state.threads[t]["created_at"])
        )
        found.threads = list(threads.items())

        messages: Counter[tuple[str | None, str]] = Counter(
            (self._bucket(query, m["timestamp"]), m["role"])
            for t in chosen
            for m in state.messages.get(t, [])
            if self._in_range(m["timestamp"])
        )
        found.messages = [(label, role, n) for (label, role), n in messages.items()]

        feedback: dict[str | None, tuple[int, int, int]] = {}
        for item in state.feedback.values():
            if item["thread_id"] not in owned or not self._in_range(item["created_at"]):
                continue
            if query.agent_name is not None and item["agent_name"] != query.agent_name:
                continue
            label = self._bucket(query, item["created_at"])
            count, rated, ratings = feedback.get(label, (0, 0, 0))
            rating = item["rating"]
            feedback[label] = (
                count + 1,
                rated + (rating is not None),
                ratings + (rating or 0),
            )
        found.feedback = [(label, *sums) for label, sums in feedback.items()]

        runs: dict[tuple[str | None, str], tuple[int, int, int, float]] = {}
        for run in state.invocation_logs.values():
            if not self._mine(query, run["agent_name"], run["user_id"], run["timestamp"]):
                continue
            key = (self._bucket(query, run["timestamp"]), run["status"])
            n, tokens_in, tokens_out, cost = runs.get(key, (0, 0, 0, 0.0))
            runs[key] = (
                n + 1,
                tokens_in + (run["input_tokens"] or 0),
                tokens_out + (run["output_tokens"] or 0),
                cost + (run["cost"] or 0.0),
            )
        found.runs = [(label, status, *sums) for (label, status), sums in runs.items()]

        calls: Counter[tuple[str | None, str, bool]] = Counter(
            (self._bucket(query, call["created_at"]), call["tool_name"], call["is_error"])
            for call in state.tool_calls.values()
            if self._mine(query, call["agent_name"], call["user_id"], call["created_at"])
        )
        found.tool_calls = [(label, tool, error, n) for (label, tool, error), n in calls.items()]
        return found

    def _mine(self, query: StatsQuery, agent: str, user: str | None, stamp: str) -> bool:
        """Whether a run or tool call passes the filters by its own columns."""
        if query.agent_name is not None and agent != query.agent_name:
            return False
        if any(user != owner for owner in self._owners(query)):
            return False
        return self._in_range(stamp)
