"""A page walk interleaved with updates, appends, creates and deletes of other threads.

The property each order promises (docs/paging.md), checked on every backend:

* ``order="created"`` (either direction, even with a clock that steps back):
  no thread is returned twice, and every thread that exists from the first
  page to the last is returned exactly once;
* ``order="updated"``, newest first: no thread is returned twice; every
  thread that exists throughout and is not updated during the walk is
  returned exactly once (an updated one jumps ahead and may be missed);
* ``order="updated"``, oldest first: every thread that exists throughout is
  returned at least once, exactly once unless it was updated during the walk.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeClock
from threadstore import BaseStore

USERS = ("u1", "u2")
_EXAMPLES = itertools.count()


@dataclass(frozen=True)
class Op:
    """A change made between two page fetches."""

    kind: str  # update | append | create | delete
    target: int  # which existing thread (modulo), or the user index for create
    step: int  # seconds the clock moves before the change


@dataclass(frozen=True)
class Walk:
    order: str
    newest_first: bool
    through_view: bool
    limit: int
    initial: list[tuple[int, int]]  # (user index, clock step) per thread created before
    gaps: list[list[Op]]  # the changes before the 2nd, 3rd, ... page


@st.composite
def walks(draw: st.DrawFn) -> Walk:
    order = draw(st.sampled_from(["created", "updated"]))
    # the updated order's promises assume a clock that never steps back; created needs none
    steps = st.sampled_from([0, 1] if order == "updated" else [-1, 0, 1])
    op = st.builds(
        Op, st.sampled_from(["update", "append", "create", "delete"]), st.integers(0, 30), steps
    )
    return Walk(
        order=order,
        newest_first=draw(st.booleans()),
        through_view=draw(st.booleans()),
        limit=draw(st.integers(1, 4)),
        initial=draw(st.lists(st.tuples(st.integers(0, 1), steps), max_size=9)),
        gaps=draw(st.lists(st.lists(op, max_size=3), max_size=10)),
    )


@dataclass
class World:
    """The example's threads as the test knows them."""

    agent: str
    clock: FakeClock
    users: dict[str, str] = field(default_factory=dict)
    alive: list[str] = field(default_factory=list)
    updated: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    created: int = 0

    async def create(self, store: BaseStore, user: str) -> str:
        thread_id = f"{self.agent}-t{self.created}"
        self.created += 1
        await store.create_thread(thread_id, user, self.agent)
        self.users[thread_id] = user
        self.alive.append(thread_id)
        return thread_id

    async def apply(self, store: BaseStore, op: Op) -> None:
        self.clock.advance(op.step)
        if op.kind == "create":
            await self.create(store, USERS[op.target % 2])
            return
        if not self.alive:
            return
        thread_id = self.alive[op.target % len(self.alive)]
        if op.kind == "delete":
            assert await store.delete_thread(thread_id) is True
            self.alive.remove(thread_id)
            self.deleted.add(thread_id)
        elif op.kind == "update":
            assert await store.update_thread(thread_id, title=f"at {self.clock.now}") is not None
            self.updated.add(thread_id)
        else:
            await store.add_message(thread_id, "user", "hello")
            self.updated.add(thread_id)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(walk=walks())
async def test_a_walk_keeps_its_promise_while_threads_change(
    store: BaseStore, clock: FakeClock, walk: Walk
) -> None:
    world = World(agent=f"walk{next(_EXAMPLES)}", clock=clock)
    for user, step in walk.initial:
        clock.advance(step)
        await world.create(store, USERS[user])
    before = set(world.alive)
    reader = store.for_user("u1") if walk.through_view else store
    returned: list[str] = []
    cursor: str | None = None
    gaps = iter(walk.gaps)
    while True:
        page = await reader.list_threads_page(
            agent_name=world.agent,
            limit=walk.limit,
            cursor=cursor,
            order=walk.order,  # type: ignore[arg-type]
            newest_first=walk.newest_first,
        )
        assert len(page["items"]) <= walk.limit
        for thread in page["items"]:
            assert thread["agent_name"] == world.agent
            assert not walk.through_view or thread["user_id"] == "u1"
        returned += [thread["id"] for thread in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == walk.limit
        for op in next(gaps, []):
            await world.apply(store, op)

    visible = {t for t in before - world.deleted if not walk.through_view or world.users[t] == "u1"}
    counts = Counter(returned)
    if walk.order == "created" or walk.newest_first:
        assert max(counts.values(), default=1) == 1, counts  # never twice
    if walk.order == "created":
        assert {t for t in visible if counts[t] != 1} == set()
    else:
        assert {t for t in visible - world.updated if counts[t] != 1} == set()
        if not walk.newest_first:
            assert {t for t in visible if counts[t] == 0} == set()
