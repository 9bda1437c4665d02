"""SyncStore has a synchronous twin of every public coroutine method of BaseStore."""

from __future__ import annotations

import inspect

from threadstore import BaseStore, SyncStore
from threadstore.sync_store import SYNC_METHODS

ASYNC_METHODS = {
    name
    for name, value in inspect.getmembers(BaseStore)
    if not name.startswith("_") and inspect.iscoroutinefunction(value)
}


def test_every_async_method_has_a_sync_twin_with_its_signature() -> None:
    assert set(SYNC_METHODS) == ASYNC_METHODS
    assert {"add_message", "pop_message", "save_checkpoint", "erase_user"} <= ASYNC_METHODS
    for name in sorted(ASYNC_METHODS):
        twin = getattr(SyncStore, name)
        assert not inspect.iscoroutinefunction(twin), name
        assert inspect.signature(twin) == inspect.signature(getattr(BaseStore, name)), name
        assert twin.__doc__ == getattr(BaseStore, name).__doc__ or name == "close", name


def test_blocks_and_views_are_sync_too() -> None:
    for name in ("transaction", "for_user", "open", "close"):
        assert not inspect.iscoroutinefunction(getattr(SyncStore, name))
