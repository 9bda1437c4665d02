"""threadstore inside an application's own database, next to the application's Alembic history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.migrations.support import drift, head, on_connection, revision_of, schema_snapshot
from threadstore import SQLAlchemyStore
from threadstore.migrations import VERSION_TABLE, downgrade, upgrade

APP_ENV = """
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
"""

APP_REVISION = '''"""the application's own table

Revision ID: app1
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "app1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    orders = op.create_table(
        "app_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item", sa.String(50), nullable=False),
    )
    op.bulk_insert(orders, [{"id": 1, "item": "tea"}, {"id": 2, "item": "cake"}])


def downgrade():
    op.drop_table("app_orders")
'''


def _app_config(tmp_path: Path, connection: Connection) -> Config:
    """An application's Alembic setup: its own scripts and the default ``alembic_version``."""
    scripts = tmp_path / "app_migrations"
    (scripts / "versions").mkdir(parents=True, exist_ok=True)
    (scripts / "env.py").write_text(APP_ENV, encoding="utf-8")
    (scripts / "script.py.mako").write_text("", encoding="utf-8")
    (scripts / "versions" / "app1_orders.py").write_text(APP_REVISION, encoding="utf-8")
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    return config


async def _app(url: str, tmp_path: Path, action: str, revision: str) -> None:
    def run(conn: Connection) -> None:
        getattr(command, action)(_app_config(tmp_path, conn), revision)

    await on_connection(url, run)


async def _app_state(url: str) -> dict[str, Any]:
    def read(conn: Connection) -> dict[str, Any]:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        orders = conn.execute(text("SELECT id, item FROM app_orders ORDER BY id")).all()
        return {"version": version, "orders": [tuple(row) for row in orders]}

    return await on_connection(url, read)


async def _threads(url: str) -> list[str]:
    store = SQLAlchemyStore(url)
    await store.initialize()
    try:
        return [thread["id"] for thread in await store.list_threads()]
    finally:
        await store.close()


async def test_application_history_and_threadstore_leave_each_other_alone(
    empty_url: str, tmp_path: Path
) -> None:
    await _app(empty_url, tmp_path, "upgrade", "head")
    app_state = await _app_state(empty_url)
    assert app_state == {"version": ["app1"], "orders": [(1, "tea"), (2, "cake")]}

    # our upgrade: the application's table and version row are untouched
    await upgrade(empty_url)
    assert await _app_state(empty_url) == app_state
    assert await revision_of(empty_url) == head()
    assert await drift(empty_url) == []  # the application's table is not ours to compare
    store = SQLAlchemyStore(empty_url)
    await store.initialize()
    await store.create_thread("t1", "alice", "helper")
    await store.close()
    ours = await schema_snapshot(empty_url)

    # the application's downgrade and upgrade: our tables, rows and revision are untouched
    await _app(empty_url, tmp_path, "downgrade", "base")
    assert await schema_snapshot(empty_url) == ours
    assert await revision_of(empty_url) == head()
    assert await _threads(empty_url) == ["t1"]
    await _app(empty_url, tmp_path, "upgrade", "head")
    assert await _app_state(empty_url) == app_state

    # our downgrade: only threadstore's tables go
    await downgrade(empty_url, "base")
    assert await _app_state(empty_url) == app_state
    assert await schema_snapshot(empty_url) == {}
    assert await revision_of(empty_url) is None

    def version_rows(conn: Connection) -> tuple[int, int]:
        ours = conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar_one()
        theirs = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
        return int(ours), int(theirs)

    assert await on_connection(empty_url, version_rows) == (0, 1)
