"""full-text search over message content

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Schema change:
    PostgreSQL: the function ``threadstore_search_config()`` (IMMUTABLE,
    returns the text search configuration, ``simple`` unless configured) and
    the GIN index ``ix_threadstore_messages_search`` on
    ``to_tsvector(threadstore_search_config(), content)``. No column is added;
    building the index indexes every existing message (it blocks writes to
    messages until the migration commits: run it as a deploy step).

    The configuration is chosen when this revision runs: ``-x
    search_language=english`` on the alembic command line, else the
    ``THREADSTORE_SEARCH_LANGUAGE`` environment variable, else ``simple``
    (no stemming, no stop words: right for any language). To change it later,
    replace the function and ``REINDEX INDEX ix_threadstore_messages_search``
    in one transaction (docs/queries.md).

    SQLite: ``threadstore_messages_fts``, an FTS5 external-content table over
    ``threadstore_messages`` (tokenizer ``unicode61 remove_diacritics 0``),
    filled from the existing messages, and three triggers that keep it in sync
    with every INSERT, DELETE (cascades included) and UPDATE of ``content`` in
    the writing transaction itself. A SQLite build without FTS5 is refused
    with a MigrationError. A later batch ALTER that recreates
    ``threadstore_messages`` must recreate the triggers and rebuild the index.

Downgrade notes:
    Drops the index and the function (PostgreSQL) or the triggers and the
    FTS table (SQLite); no message is lost.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from threadstore.errors import MigrationError

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS = "threadstore_messages_fts"
_MESSAGES = "threadstore_messages"
_INDEX = "ix_threadstore_messages_search"
_CONFIG = "threadstore_search_config"
_LANGUAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_TRIGGERS = {
    f"{_FTS}_insert": f"AFTER INSERT ON {_MESSAGES} BEGIN "
    f"INSERT INTO {_FTS}(rowid, content) VALUES (new.id, new.content); END",
    f"{_FTS}_delete": f"AFTER DELETE ON {_MESSAGES} BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, content) VALUES ('delete', old.id, old.content); END",
    f"{_FTS}_update": f"AFTER UPDATE OF content ON {_MESSAGES} BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, content) VALUES ('delete', old.id, old.content); "
    f"INSERT INTO {_FTS}(rowid, content) VALUES (new.id, new.content); END",
}


def _language() -> str:
    chosen = (
        context.get_x_argument(as_dictionary=True).get("search_language")
        or os.environ.get("THREADSTORE_SEARCH_LANGUAGE")
        or "simple"
    )
    if not _LANGUAGE.match(chosen):
        raise MigrationError(
            f"search language {chosen!r} is not a text search configuration name",
            suggestion="Pass -x search_language=NAME (or THREADSTORE_SEARCH_LANGUAGE) with a "
            "name from `SELECT cfgname FROM pg_ts_config`, e.g. simple or english.",
        )
    return chosen


def _known(language: str) -> bool:
    query = sa.text("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = :name)")
    return bool(op.get_bind().execute(query, {"name": language.split(".")[-1]}).scalar())


def _upgrade_postgresql() -> None:
    language = _language()
    if not context.is_offline_mode() and not _known(language):
        raise MigrationError(
            f"PostgreSQL has no text search configuration {language!r}",
            suggestion="Pick one of `SELECT cfgname FROM pg_ts_config` (simple works for "
            "any language) with -x search_language=NAME or THREADSTORE_SEARCH_LANGUAGE.",
        )
    op.execute(
        f"CREATE FUNCTION {_CONFIG}() RETURNS regconfig LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT '{language}'::regconfig $$"
    )
    op.execute(
        f"CREATE INDEX {_INDEX} ON {_MESSAGES} USING gin (to_tsvector({_CONFIG}(), content))"
    )


def _upgrade_sqlite() -> None:
    try:
        op.execute(
            f"CREATE VIRTUAL TABLE {_FTS} USING fts5(content, content='{_MESSAGES}', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
        )
    except sa.exc.OperationalError as exc:
        if "fts5" not in str(exc):
            raise
        raise MigrationError(
            "this SQLite build has no FTS5, which threadstore's full-text search needs",
            suggestion="Use a Python whose sqlite3 is built with FTS5 (python.org and most "
            "distribution builds are), or install pysqlite3-binary; check with "
            "`python -c \"import sqlite3; sqlite3.connect(':memory:').execute("
            "'CREATE VIRTUAL TABLE t USING fts5(x)')\"`.",
        ) from exc
    for name, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {_INDEX}")
        op.execute(f"DROP FUNCTION {_CONFIG}()")
    else:
        for name in reversed(list(_TRIGGERS)):
            op.execute(f"DROP TRIGGER {name}")
        op.execute(f"DROP TABLE {_FTS}")
