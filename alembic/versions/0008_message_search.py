"""full-text search over message content and thread titles

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Schema change:
    PostgreSQL: the function ``threadstore_search_config()`` (IMMUTABLE,
    returns the text search configuration, ``simple`` unless configured) and
    the GIN indexes ``ix_threadstore_messages_search`` on
    ``to_tsvector(threadstore_search_config(), content)`` and
    ``ix_threadstore_threads_search`` on ``... title``. No column is added;
    building the indexes indexes every existing row (it blocks writes to the
    two tables until the migration commits: run it as a deploy step).

    The configuration is chosen when this revision runs: ``-x
    search_language=english`` on the alembic command line, else the
    ``THREADSTORE_SEARCH_LANGUAGE`` environment variable, else ``simple``
    (no stemming, no stop words: right for any language); ``env.py`` checks
    it (threadstore.migrations.search_language). To change it later, replace
    the function and REINDEX both indexes in one transaction (docs/queries.md).

    SQLite (``env.py`` refuses a build without FTS5 with a MigrationError):
    ``threadstore_search_messages``, an FTS5 external-content table over
    ``threadstore_messages`` (its ``id`` is the rowid), and
    ``threadstore_search_threads``, an FTS5 table of thread titles whose rowid
    is ``threadstore_search_thread_rows.id`` (a thread's own rowid is not
    stable: VACUUM may renumber it). Tokenizer ``unicode61 remove_diacritics
    0``. Both are filled from the existing rows, and triggers keep them in
    sync with every INSERT, DELETE (cascades included) and UPDATE of
    ``content``/``title`` inside the writing transaction. A later batch ALTER
    that recreates ``threadstore_messages`` or ``threadstore_threads`` drops
    their triggers: such a revision must recreate them and rebuild the index.

Downgrade notes:
    Drops the indexes and the function (PostgreSQL) or the triggers, the FTS
    tables and the row map (SQLite); no message or thread is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGES = "threadstore_messages"
_THREADS = "threadstore_threads"
_FTS = "threadstore_search_messages"
_TITLES = "threadstore_search_threads"
_ROWS = "threadstore_search_thread_rows"
_CONFIG = "threadstore_search_config"
_PG_INDEXES = {
    "ix_threadstore_messages_search": (_MESSAGES, "content"),
    "ix_threadstore_threads_search": (_THREADS, "title"),
}
_TOKENIZE = "tokenize='unicode61 remove_diacritics 0'"
_ROW_OF = f"(SELECT id FROM {_ROWS} WHERE thread_id = old.id)"
_ADD_TITLE = (
    f"INSERT INTO {_ROWS}(thread_id) SELECT new.id WHERE new.title IS NOT NULL; "
    f"INSERT INTO {_TITLES}(rowid, title) SELECT id, new.title FROM {_ROWS} "
    "WHERE thread_id = new.id AND new.title IS NOT NULL;"
)
_DROP_TITLE = (
    f"DELETE FROM {_TITLES} WHERE rowid = {_ROW_OF}; DELETE FROM {_ROWS} WHERE thread_id = old.id;"
)
_TRIGGERS = {
    f"{_FTS}_insert": f"AFTER INSERT ON {_MESSAGES} BEGIN "
    f"INSERT INTO {_FTS}(rowid, content) VALUES (new.id, new.content); END",
    f"{_FTS}_delete": f"AFTER DELETE ON {_MESSAGES} BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, content) VALUES ('delete', old.id, old.content); END",
    f"{_FTS}_update": f"AFTER UPDATE OF content ON {_MESSAGES} BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, content) VALUES ('delete', old.id, old.content); "
    f"INSERT INTO {_FTS}(rowid, content) VALUES (new.id, new.content); END",
    f"{_TITLES}_insert": f"AFTER INSERT ON {_THREADS} BEGIN {_ADD_TITLE} END",
    f"{_TITLES}_delete": f"AFTER DELETE ON {_THREADS} BEGIN {_DROP_TITLE} END",
    f"{_TITLES}_update": f"AFTER UPDATE OF title ON {_THREADS} BEGIN "
    f"{_DROP_TITLE} {_ADD_TITLE} END",
}


def _language() -> str:
    """The configuration env.py checked (threadstore.migrations.search_language)."""
    language = str(context.config.attributes.get("search_language") or "simple")
    if not language.replace("_", "").replace(".", "").isalnum():  # it is put into the DDL
        raise ValueError(f"not a text search configuration name: {language!r}")
    return language


def _upgrade_postgresql() -> None:
    op.execute(
        f"CREATE FUNCTION {_CONFIG}() RETURNS regconfig LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT '{_language()}'::regconfig $$"
    )
    for name, (table, column) in _PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (to_tsvector({_CONFIG}(), {column}))")


def _upgrade_sqlite() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE {_FTS} USING fts5(content, content='{_MESSAGES}', "
        f"content_rowid='id', {_TOKENIZE})"
    )
    op.execute(f"CREATE VIRTUAL TABLE {_TITLES} USING fts5(title, {_TOKENIZE})")
    op.execute(
        f"CREATE TABLE {_ROWS} (id INTEGER NOT NULL PRIMARY KEY, "
        "thread_id VARCHAR(255) NOT NULL UNIQUE)"
    )
    for name, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')")
    op.execute(f"INSERT INTO {_ROWS}(thread_id) SELECT id FROM {_THREADS} WHERE title IS NOT NULL")
    op.execute(
        f"INSERT INTO {_TITLES}(rowid, title) SELECT r.id, t.title FROM {_ROWS} AS r "
        f"JOIN {_THREADS} AS t ON t.id = r.thread_id"
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name in reversed(list(_PG_INDEXES)):
            op.execute(f"DROP INDEX {name}")
        op.execute(f"DROP FUNCTION {_CONFIG}()")
    else:
        for name in reversed(list(_TRIGGERS)):
            op.execute(f"DROP TRIGGER {name}")
        for table in (_ROWS, _TITLES, _FTS):
            op.execute(f"DROP TABLE {table}")
