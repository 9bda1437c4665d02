"""PostgreSQL refusing the store: credentials, databases, a server that stops.

Refused logins and stopped servers run on a throwaway cluster with password
authentication (see cluster.py); unknown databases and databases closed to
connections run on the suite's dev server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import require_postgres
from tests.faults.cluster import PASSWORD, Cluster
from tests.faults.conftest import eventually, raw_connect
from threadstore import (
    AuthenticationError,
    DatabaseNotFoundError,
    PersistenceConnectionError,
    SQLAlchemyStore,
)


def _is_plain_connection_error(error: BaseException) -> bool:
    return type(error) is PersistenceConnectionError and error.retryable


@pytest.fixture
async def cluster_store(running_cluster: Cluster) -> AsyncIterator[SQLAlchemyStore]:
    """An initialized store on a fresh database of the throwaway cluster."""
    name = f"faults_{uuid.uuid4().hex[:10]}"
    admin = await raw_connect(running_cluster.url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    store = SQLAlchemyStore(running_cluster.url(database=name), auto_migrate=True)
    await store.initialize()
    yield store
    await store.close()
    if not running_cluster.is_running():
        running_cluster.start()
    admin = await raw_connect(running_cluster.url())
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


# -- credentials -------------------------------------------------------------------


async def test_wrong_password_is_an_authentication_error(running_cluster: Cluster) -> None:
    store = SQLAlchemyStore(running_cluster.url(password="not-" + PASSWORD))
    with pytest.raises(AuthenticationError) as info:
        await store.initialize()
    error = info.value
    assert isinstance(error, PersistenceConnectionError)
    assert error.retryable is False
    assert "refused the credentials" in error.message
    assert "password authentication failed" in error.message
    assert "password" in error.suggestion
    assert "will not help" in error.suggestion
    assert "running" not in error.suggestion  # not "check the server is running"
    assert "not-" + PASSWORD not in str(error)
    assert isinstance(error.__cause__, Exception)
    # a store call refuses the same way, and the health check says why
    with pytest.raises(AuthenticationError):
        await store.get_thread("t1")
    health = await store.health_check()
    assert health["status"] == "unhealthy"
    await store.close()


async def test_unknown_role_with_password_auth(running_cluster: Cluster) -> None:
    # with scram-sha-256 the server does not reveal that the role is missing (28P01)
    store = SQLAlchemyStore(running_cluster.url(user="nobody_here"))
    with pytest.raises(AuthenticationError) as info:
        await store.list_threads()
    assert "nobody_here" in info.value.message
    assert info.value.retryable is False
    assert "user name" in info.value.suggestion
    assert info.value.__cause__ is not None
    await store.close()


async def test_unknown_role_with_trust_auth() -> None:
    # the dev server trusts local TCP logins: a missing role is 28000
    url = make_url(require_postgres()).set(username="nobody_here", password=None)
    store = SQLAlchemyStore(url.render_as_string(hide_password=False))
    with pytest.raises(AuthenticationError) as info:
        await store.initialize()
    assert 'role "nobody_here" does not exist' in info.value.message
    assert info.value.retryable is False
    assert "will not help" in info.value.suggestion
    assert info.value.__cause__ is not None
    await store.close()


# -- databases ------------------------------------------------------------------------


@pytest.mark.parametrize("first_call", ["initialize", "store call"])
async def test_unknown_database_is_named(first_call: str) -> None:
    name = f"missing_{uuid.uuid4().hex[:10]}"
    url = make_url(require_postgres()).set(database=name).render_as_string(False)
    store = SQLAlchemyStore(url)
    call = store.initialize() if first_call == "initialize" else store.get_thread("t1")
    with pytest.raises(DatabaseNotFoundError) as info:
        await call
    error = info.value
    assert isinstance(error, PersistenceConnectionError)
    assert f"database '{name}' does not exist" in error.message
    assert f"createdb {name}" in error.suggestion
    assert error.retryable is False
    assert error.__cause__ is not None
    await store.close()


async def test_database_not_accepting_connections() -> None:
    dev = require_postgres()
    name = f"closed_{uuid.uuid4().hex[:10]}"
    admin = await raw_connect(dev)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    url = make_url(dev).set(database=name).render_as_string(False)
    store = SQLAlchemyStore(url, auto_migrate=True)
    try:
        with pytest.raises(PersistenceConnectionError) as info:
            await store.initialize()
        error = info.value
        assert _is_plain_connection_error(error)
        assert "not currently accepting connections" in error.message
        assert "ALLOW_CONNECTIONS" in error.suggestion
        assert name in error.suggestion
        assert error.__cause__ is not None
        with pytest.raises(PersistenceConnectionError, match="not accepting connections"):
            await store.get_thread("t1")
        # once the database accepts connections again, the same store works
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await store.initialize()
        assert (await store.get_thread("t1")) is None
    finally:
        await store.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# -- a server that stops ----------------------------------------------------------------


async def test_server_shut_down_while_open_then_back(
    running_cluster: Cluster, cluster_store: SQLAlchemyStore
) -> None:
    await cluster_store.create_thread("t1", "alice", "helper")
    running_cluster.stop("fast")
    with pytest.raises(PersistenceConnectionError) as info:
        await cluster_store.add_message("t1", "user", "lost")
    error = info.value
    assert _is_plain_connection_error(error)
    assert "cannot use the database" in error.message
    assert "running" in error.suggestion
    assert "reconnects" in error.suggestion
    assert error.__cause__ is not None
    health = await cluster_store.health_check()
    assert health["status"] == "unhealthy"

    running_cluster.start()
    await cluster_store.add_message("t1", "user", "back")
    assert [m["content"] for m in await cluster_store.get_messages("t1")] == ["back"]
    assert (await cluster_store.health_check())["status"] == "healthy"


async def test_server_shutting_down_refuses_new_connections(
    running_cluster: Cluster, cluster_store: SQLAlchemyStore
) -> None:
    await cluster_store.create_thread("t1", "alice", "helper")
    await cluster_store.engine.dispose()  # the next call must open a new connection
    session = await raw_connect(running_cluster.url())  # keeps a smart shutdown waiting
    try:
        running_cluster.stop("smart", wait=False)

        async def refusing() -> bool:
            try:
                probe = await raw_connect(running_cluster.url())
            except asyncpg.CannotConnectNowError:
                return True
            await probe.close()
            return False

        await eventually(refusing)
        with pytest.raises(PersistenceConnectionError) as info:
            await cluster_store.get_thread("t1")
        error = info.value
        assert _is_plain_connection_error(error)
        assert "shutting down" in error.message
        assert "retry in a moment" in error.suggestion
        assert "reconnects" in error.suggestion
        assert error.__cause__ is not None
    finally:
        await session.close()
    running_cluster.wait_stopped()
    running_cluster.start()
    assert (await cluster_store.get_thread("t1")) is not None


async def test_server_not_yet_accepting_connections(
    running_cluster: Cluster, cluster_store: SQLAlchemyStore
) -> None:
    await cluster_store.create_thread("t1", "alice", "helper")
    await cluster_store.engine.dispose()  # the next call must open a new connection
    running_cluster.stop("fast")
    running_cluster.start(standby=True)  # up, in recovery, refusing connections
    try:
        with pytest.raises(PersistenceConnectionError) as info:
            await cluster_store.get_thread("t1")
        error = info.value
        assert _is_plain_connection_error(error)
        assert "not accepting connections" in error.message
        assert "starting up" in error.suggestion
        assert "credentials" not in error.suggestion
        assert error.__cause__ is not None
    finally:
        running_cluster.stop("fast")
    running_cluster.start()
    assert (await cluster_store.get_thread("t1")) is not None
