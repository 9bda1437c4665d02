"""A tour of threadstore on the embedded SQLite default: ``python -m threadstore.demo``.

Creates (or reuses) ``threadstore.db`` in the working directory, migrating it on
first use, and prints what each call stores and returns.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

from threadstore import ThreadNotFoundError, create_store


def _show(label: str, value: Any) -> None:
    print(f"\n== {label}")
    print(json.dumps(value, indent=2, ensure_ascii=False))


async def run(url: str | None = None) -> None:
    """Run the tour against ``url`` (default: THREADSTORE_URL or the embedded SQLite file)."""
    run_id = uuid.uuid4().hex[:8]
    thread_id = f"demo-{run_id}"
    async with create_store(url, auto_migrate=True) as store:
        _show("health_check()", await store.health_check())

        thread = await store.create_thread(
            thread_id, "user-1", "travel-agent", title="Trip to Lisbon", metadata={"lang": "en"}
        )
        _show("create_thread()", thread)

        await store.add_message(thread_id, "system", "You plan trips.")
        await store.add_messages(
            thread_id,
            [
                {"role": "user", "content": "Find me a hotel in Lisbon."},
                {"role": "assistant", "content": "Alfama or Baixa?", "metadata": {"tokens": 7}},
                {"role": "user", "content": "Alfama, please."},
            ],
        )
        page = await store.get_messages(thread_id, limit=2, newest_first=True)
        _show("get_messages(limit=2, newest_first=True)", page)

        fork = await store.fork_thread(thread_id, 1, f"{thread_id}-fork")
        _show("fork_thread(index=1): a second branch of the conversation", fork)
        await store.add_message(f"{thread_id}-fork", "user", "Baixa, actually.")
        _show("get_thread_lineage(fork)", await store.get_thread_lineage(f"{thread_id}-fork"))

        feedback = await store.add_feedback(
            thread_id, "user-1", "travel-agent", rating=5, comment="Great suggestions"
        )
        _show("add_feedback()", feedback)

        approval = await store.save_suspended_state(
            f"approve-{run_id}",
            thread_id,
            "travel-agent",
            "book_hotel",
            {"hotel": "Alfama Inn", "price_eur": 120},
            ttl=3600,
        )
        _show("save_suspended_state(): waiting for a human", approval)

        await store.save_context_item(
            "traveller-profile",
            {"diet": "vegetarian", "budget_eur": 900},
            user_id="user-1",
            topics=["bookings"],
            ttl=86_400,
        )
        await store.save_agent_topics("hotel-agent", ["bookings"], user_id="user-1")
        shared = await store.get_all_context_items(user_id="user-1", agent_name="hotel-agent")
        _show("shared context routed to hotel-agent by topic", shared)

        try:
            await store.add_message("no-such-thread", "user", "hello?")
        except ThreadNotFoundError as exc:
            _show("a clear error for a missing thread", {"error": str(exc)})

        _show("get_stats()", await store.get_stats())


def main() -> None:
    """Entry point of ``python -m threadstore.demo [URL]``."""
    asyncio.run(run(sys.argv[1] if len(sys.argv) > 1 else None))


if __name__ == "__main__":
    main()
