"""SQLite batch ALTERs recreate tables: they must never cascade-delete child rows.

A throwaway revision on top of head (in a copy of the scripts under tmp_path)
rebuilds ``threadstore_threads``, the parent of every thread-scoped table.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.migrations.support import head, on_connection, revision_of
from threadstore import MigrationError, SQLAlchemyStore
from threadstore.migrations import alembic_config, migration_transaction, script_location

REBUILD_THREADS = '''"""rebuild threadstore_threads (test only)

Schema change:
    Adds a nullable column through a batch ALTER that recreates the table.

Downgrade notes:
    Drops the column.
"""
import sqlalchemy as sa
from alembic import op

revision = "zz_test"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("threadstore_threads", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("threadstore_threads", recreate="always") as batch:
        batch.drop_column("note")
'''

ORPHAN_MESSAGES = '''"""a broken revision (test only)

Schema change:
    Deletes every thread without touching their messages.

Downgrade notes:
    None.
"""
from alembic import op

revision = "zz_test"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM threadstore_threads")


def downgrade():
    pass
'''


def _scripts_with(tmp_path: Path, revision_source: str) -> str:
    scripts = tmp_path / "scripts"
    shutil.copytree(script_location(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "zz_test.py").write_text(
        revision_source.format(head=head()), encoding="utf-8"
    )
    return str(scripts)


def _config(scripts: str, url: str | None = None, connection: Connection | None = None) -> Config:
    config = alembic_config(connection, url=url)
    config.set_main_option("script_location", scripts)
    return config


async def _populated(url: str) -> SQLAlchemyStore:
    store = SQLAlchemyStore(url, auto_migrate=True)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.add_messages("t1", [{"role": "user", "content": f"m{i}"} for i in range(5)])
    await store.add_feedback("t1", "alice", "helper", rating=4)
    await store.save_suspended_state("a1", "t1", "helper", "node", {"x": 1})
    await store.close()
    return store


async def _counts(url: str) -> dict[str, int]:
    def count(conn: Connection) -> dict[str, int]:
        tables = ("threads", "messages", "feedback", "suspended_states")
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM threadstore_{table}")).scalar_one())
            for table in tables
        }

    return await on_connection(url, count)


EXPECTED = {"threads": 1, "messages": 5, "feedback": 1, "suspended_states": 1}


async def test_cli_path_batch_rebuild_keeps_child_rows(
    empty_sqlite_url: str, tmp_path: Path
) -> None:
    await _populated(empty_sqlite_url)
    scripts = _scripts_with(tmp_path, REBUILD_THREADS)
    # what `alembic upgrade head` / `threadstore db upgrade` do (env.py opens the connection)
    await asyncio.to_thread(command.upgrade, _config(scripts, url=empty_sqlite_url), "head")
    assert await revision_of(empty_sqlite_url) == "zz_test"
    assert await _counts(empty_sqlite_url) == EXPECTED
    await asyncio.to_thread(command.downgrade, _config(scripts, url=empty_sqlite_url), head())
    assert await _counts(empty_sqlite_url) == EXPECTED
    store = SQLAlchemyStore(empty_sqlite_url)
    await store.initialize()
    assert [m["content"] for m in await store.get_messages("t1")] == [f"m{i}" for i in range(5)]
    await store.delete_thread("t1")  # foreign keys are enforced again: the cascade works
    await store.close()
    assert await _counts(empty_sqlite_url) == dict.fromkeys(EXPECTED, 0)


async def test_code_path_batch_rebuild_keeps_child_rows(
    empty_sqlite_url: str, tmp_path: Path
) -> None:
    store = await _populated(empty_sqlite_url)
    scripts = _scripts_with(tmp_path, REBUILD_THREADS)
    async with store.engine.connect() as conn, migration_transaction(conn):
        await conn.run_sync(lambda sync: command.upgrade(_config(scripts, connection=sync), "head"))
    await store.close()
    assert await revision_of(empty_sqlite_url) == "zz_test"
    assert await _counts(empty_sqlite_url) == EXPECTED


async def test_connection_with_foreign_keys_on_is_refused(
    empty_sqlite_url: str, tmp_path: Path
) -> None:
    store = await _populated(empty_sqlite_url)
    scripts = _scripts_with(tmp_path, REBUILD_THREADS)
    with pytest.raises(MigrationError, match="foreign keys are on"):
        async with store.engine.begin() as conn:  # no migration_transaction: foreign keys on
            await conn.run_sync(
                lambda sync: command.upgrade(_config(scripts, connection=sync), "head")
            )
    await store.close()
    assert await revision_of(empty_sqlite_url) == head()
    assert await _counts(empty_sqlite_url) == EXPECTED


async def test_revision_leaving_dangling_rows_is_rolled_back(
    empty_sqlite_url: str, tmp_path: Path
) -> None:
    await _populated(empty_sqlite_url)
    scripts = _scripts_with(tmp_path, ORPHAN_MESSAGES)
    with pytest.raises(MigrationError, match="dangling references") as info:
        await asyncio.to_thread(command.upgrade, _config(scripts, url=empty_sqlite_url), "head")
    assert "threadstore_messages" in str(info.value)
    assert await revision_of(empty_sqlite_url) == head()
    assert await _counts(empty_sqlite_url) == EXPECTED
