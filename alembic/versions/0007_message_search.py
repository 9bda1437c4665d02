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
    with a MigrationError (``env.py`` probes for FTS5 first). A later batch ALTER that recreates
    ``threadstore_messages`` must recreate the triggers and rebuild the index.

Downgrade notes:
    Drops the index and the function (PostgreSQL) or the triggers and the
    FTS table (SQLite); no message is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS = "threadstore_messages_fts"
_MESSAGES = "threadstore_messages"
_INDEX = "ix_threadstore_messages_search"
_CONFIG = "threadstore_search_config"
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
    """The configuration env.py checked (threadstore.migrations.search_language)."""
    language = str(context.config.attributes.get("search_language") or "simple")
    if not language.replace("_", "").replace(".", "").isalnum():  # it is put into the DDL
        raise ValueError(f"not a text search configuration name: {language!r}")
    return language


def _upgrade_postgresql() -> None:
    language = _language()
    op.execute(
        f"CREATE FUNCTION {_CONFIG}() RETURNS regconfig LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT '{language}'::regconfig $$"
    )
    op.execute(
        f"CREATE INDEX {_INDEX} ON {_MESSAGES} USING gin (to_tsvector({_CONFIG}(), content))"
    )


def _upgrade_sqlite() -> None:
    op.execute(  # env.py refused a SQLite without FTS5 with a MigrationError already
        f"CREATE VIRTUAL TABLE {_FTS} USING fts5(content, content='{_MESSAGES}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
    )
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
