"""LoopThread, the runner behind every sync entry point: SyncStore, the LangGraph saver, store."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator

import pytest

from threadstore import SyncStoreError
from threadstore.sync_loop import LoopThread


async def _where() -> threading.Thread:
    return threading.current_thread()


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


@pytest.fixture
def other_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own (an application's loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="app-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def test_no_loop_runs_on_the_private_thread_until_stopped() -> None:
    runner = LoopThread("unit-private")
    assert not runner.running
    assert runner.run(_where()).name == "threadstore-unit-private"
    assert runner.running
    runner.stop()
    runner.stop()
    assert not runner.running
    assert _threads("threadstore-unit-private") == []


def test_without_autostart_calls_fail_until_started() -> None:
    runner = LoopThread("Unit", autostart=False)
    with pytest.raises(SyncStoreError, match="not open"):
        runner.run(_where())
    runner.start()
    try:
        assert runner.run(_where()).name == "threadstore-Unit"
    finally:
        runner.stop()
    with pytest.raises(SyncStoreError, match="not open"):
        runner.run(_where())


def test_a_bound_loop_serves_calls_while_it_runs(other_loop: asyncio.AbstractEventLoop) -> None:
    runner = LoopThread("unit-bound")

    async def bind() -> None:
        runner.bind()

    asyncio.run_coroutine_threadsafe(bind(), other_loop).result(timeout=10)
    assert runner.run(_where()).name == "app-loop"
    assert not runner.running  # no private thread was needed
    other_loop.call_soon_threadsafe(other_loop.stop)
    deadline = time.monotonic() + 10
    while other_loop.is_running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.run(_where()).name == "threadstore-unit-bound"
    runner.stop()


def test_inline_runner_needs_no_thread_and_serves_a_running_loop() -> None:
    runner = LoopThread("unit-inline", inline=True)
    assert runner.run(_where()) is threading.current_thread()

    async def on_the_loop() -> threading.Thread:
        return runner.run(_where())

    assert asyncio.run(on_the_loop()) is threading.current_thread()
    assert not runner.running

    async def waits() -> None:
        await asyncio.sleep(0.01)

    async def waits_on_the_loop() -> None:
        runner.run(waits())

    with pytest.raises(SyncStoreError, match="had to wait"):
        asyncio.run(waits_on_the_loop())


def test_calls_from_a_running_loop_or_the_loop_thread_are_refused_without_deadlock() -> None:
    runner = LoopThread("unit-refuse")

    async def inside() -> None:
        with pytest.raises(SyncStoreError, match="running event loop") as raised:
            runner.run(_where())
        assert isinstance(raised.value, asyncio.InvalidStateError)

    asyncio.run(inside())

    async def nested() -> str:
        try:
            runner.run(_where())
        except SyncStoreError as exc:
            return str(exc)
        return "not refused"

    try:
        assert "its own loop thread" in runner.run(nested())
    finally:
        runner.stop()


def test_stop_while_a_call_waits_fails_the_call_instead_of_hanging() -> None:
    runner = LoopThread("unit-stop")
    started = threading.Event()
    failures: list[BaseException] = []

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    def call() -> None:
        try:
            runner.run(forever())
        except BaseException as exc:  # reported below
            failures.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert started.wait(timeout=10)
    runner.stop()
    caller.join(timeout=10)
    assert not caller.is_alive()
    assert len(failures) == 1
    assert isinstance(failures[0], SyncStoreError)
    assert "stopped before the call finished" in str(failures[0])


def test_a_forgotten_runner_stops_its_thread() -> None:
    runner = LoopThread("unit-forgotten")
    runner.run(_where())
    assert len(_threads("threadstore-unit-forgotten")) == 1
    del runner
    gc.collect()
    assert _threads("threadstore-unit-forgotten") == []
