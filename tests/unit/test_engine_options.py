"""Engine options are checked by name and type before any engine exists."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.pool import NullPool

from threadstore import MemoryStore, SQLAlchemyStore, ValidationError, create_store


@pytest.mark.parametrize(
    ("options", "named", "hint"),
    [
        ({"pool_sizee": 5}, "pool_sizee", "pool_size"),
        ({"auto_migrat": True}, "auto_migrat", "auto_migrate"),
        ({"echo": "yes"}, "echo", '"debug"'),
        ({"pool_size": "5"}, "pool_size", "int"),
        ({"pool_size": True}, "pool_size", "int"),
        ({"max_overflow": -2}, "max_overflow", "-1"),
        ({"pool_timeout": -1}, "pool_timeout", "seconds"),
        ({"connect_args": [("timeout", 1)]}, "connect_args", "dict"),
        ({"poolclass": "NullPool"}, "poolclass", "Pool subclass"),
    ],
)
@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///x.db", "postgresql+asyncpg://u@h/db"])
def test_bad_engine_options_are_named(
    url: str, options: dict[str, object], named: str, hint: str
) -> None:
    with pytest.raises(ValidationError) as info:
        SQLAlchemyStore(url, **options)  # type: ignore[arg-type]
    assert repr(named) in info.value.message
    assert hint in info.value.suggestion or hint in info.value.message
    assert not isinstance(info.value.__cause__, TypeError | KeyError)


def test_good_engine_options_are_passed_on(tmp_path: Path) -> None:
    store = SQLAlchemyStore(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        pool_size=3,
        max_overflow=0,
        pool_timeout=1.5,
        echo=False,
        connect_args={"timeout": 5},
    )
    assert store.engine.pool.size() == 3  # type: ignore[attr-defined]
    assert SQLAlchemyStore(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}", poolclass=NullPool)


def test_pool_options_on_an_in_memory_sqlite_database_are_refused() -> None:
    with pytest.raises(ValidationError, match="pool_size") as info:
        SQLAlchemyStore("sqlite+aiosqlite://", pool_size=5)
    assert "StaticPool" in info.value.suggestion
    with pytest.raises(ValidationError, match="pool_size"):
        SQLAlchemyStore("sqlite+aiosqlite:///x.db", poolclass=NullPool, pool_size=5)


def test_memory_url_ignores_engine_options_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="threadstore"):
        store = create_store("memory://", pool_size=5, echo=True, auto_migrate=True, max_threads=2)
    assert isinstance(store, MemoryStore)
    assert store.max_threads == 2
    assert "ignoring engine options echo, pool_size" in caplog.text


def test_memory_url_ignores_server_options_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="threadstore"):
        store = create_store("memory://", pgbouncer=True, read_replicas=["postgresql://h/db"])
    assert isinstance(store, MemoryStore)
    assert "ignoring pgbouncer, read_replicas" in caplog.text


def test_memory_url_refuses_misspelt_options() -> None:
    with pytest.raises(ValidationError, match="pool_sizee"):
        create_store("memory://", pool_sizee=5)
    with pytest.raises(ValidationError, match="max_threads"):
        create_store("memory://", max_threads="3")
