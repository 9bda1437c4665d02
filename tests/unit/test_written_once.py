"""Every public behaviour is written once: backends supply storage, never public methods."""

from __future__ import annotations

import inspect

import pytest

from threadstore import BaseStore, MemoryStore, SQLAlchemyStore
from threadstore.store.base import LIFECYCLE_METHODS

PUBLIC_METHODS = {
    name
    for name, value in inspect.getmembers(BaseStore)
    if not name.startswith("_") and callable(value)
}
DATA_METHODS = PUBLIC_METHODS - LIFECYCLE_METHODS


def test_base_store_has_every_data_method() -> None:
    expected = {"create_thread", "add_messages", "save_checkpoint", "get_all_agent_permissions"}
    assert expected <= DATA_METHODS
    assert len(DATA_METHODS) >= 38


@pytest.mark.parametrize("backend", [MemoryStore, SQLAlchemyStore])
def test_backends_define_no_public_data_method(backend: type[BaseStore]) -> None:
    for cls in backend.__mro__:
        if cls is BaseStore or not issubclass(cls, BaseStore):
            continue
        overridden = DATA_METHODS & set(vars(cls))
        assert overridden == set(), f"{cls.__name__} overrides {sorted(overridden)}"


def test_data_methods_are_not_abstract() -> None:
    abstract = getattr(BaseStore, "__abstractmethods__", frozenset())
    assert abstract & DATA_METHODS == set()
