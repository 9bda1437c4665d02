"""URL resolution and redaction."""

from __future__ import annotations

import pytest

from threadstore.config import (
    DEFAULT_URL,
    is_memory_url,
    redact_url,
    replica_urls,
    resolve_url,
    split_pgbouncer,
)
from threadstore.errors import ValidationError


def test_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THREADSTORE_URL", raising=False)
    assert resolve_url().render_as_string() == DEFAULT_URL
    monkeypatch.setenv("THREADSTORE_URL", "postgresql://u:pw@db/app")
    assert resolve_url().drivername == "postgresql+asyncpg"
    assert resolve_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite"),
    ],
)
def test_drivers(given: str, driver: str) -> None:
    assert resolve_url(given).drivername == driver


def test_redaction() -> None:
    rendered = redact_url("postgresql+asyncpg://user:topsecret@host:5432/db")
    assert "topsecret" not in rendered
    assert rendered == "postgresql+asyncpg://user:***@host:5432/db"
    assert redact_url("not a url ::") == "<unparseable URL>"


def test_memory_urls() -> None:
    assert is_memory_url("memory://")
    assert is_memory_url("MEMORY://")
    assert not is_memory_url("sqlite:///memory.db")
    assert not is_memory_url(None)


def test_errors_do_not_echo_the_url() -> None:
    with pytest.raises(ValidationError) as info:
        resolve_url("mysql+aiomysql://root:topsecret@h/db")
    assert "topsecret" not in str(info.value)


@pytest.mark.parametrize(
    ("query", "flag"),
    [("", None), ("?pgbouncer=true", True), ("?pgbouncer=0", False), ("?pgbouncer=ON&x=1", True)],
)
def test_pgbouncer_flag_in_the_url(query: str, flag: bool | None) -> None:
    url, found = split_pgbouncer(resolve_url(f"postgresql://u@h/db{query}"))
    assert found is flag
    assert "pgbouncer" not in url.query


def test_replicas_from_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THREADSTORE_READ_REPLICAS", raising=False)
    assert replica_urls(None) == []
    monkeypatch.setenv("THREADSTORE_READ_REPLICAS", "postgresql://a/db, ,postgres://b/db")
    assert [u.host for u in replica_urls(None)] == ["a", "b"]
    assert [u.drivername for u in replica_urls(["postgresql://c/db"])] == ["postgresql+asyncpg"]
