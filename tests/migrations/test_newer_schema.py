"""A database migrated by a newer threadstore: refused everywhere, with an error that says so."""

from __future__ import annotations

import asyncio

import pytest
from alembic.util import CommandError
from sqlalchemy import text

from tests.migrations.support import head, on_connection, revision_of, table_names
from threadstore import SchemaOutOfDateError, SchemaTooNewError, SQLAlchemyStore
from threadstore.__about__ import __version__
from threadstore.cli import main
from threadstore.migrations import VERSION_TABLE, downgrade, upgrade

NEWER = "9f3c1e7d2b4a"
"""A revision id no release of this code ships, as a newer threadstore would write it."""


@pytest.fixture
async def newer_url(empty_url: str) -> str:
    """A database at head whose version table then names a revision unknown to this code."""
    await upgrade(empty_url)
    await on_connection(
        empty_url,
        lambda conn: conn.execute(
            text(f"UPDATE {VERSION_TABLE} SET version_num = :v"), {"v": NEWER}
        ),
    )
    assert await revision_of(empty_url) == NEWER
    return empty_url


def _assert_too_new(error: BaseException) -> None:
    assert isinstance(error, SchemaTooNewError)
    assert isinstance(error, SchemaOutOfDateError)  # callers catching the parent still catch it
    message = str(error)
    assert repr(NEWER) in message
    assert "this code is older than the schema" in message
    assert f"threadstore {__version__} (newest revision {head()})" in message
    assert "Upgrade threadstore" in error.suggestion
    chain: BaseException | None = error
    while chain is not None:
        assert not isinstance(chain, CommandError)
        chain = chain.__cause__


@pytest.mark.parametrize("auto_migrate", [None, True, False])
async def test_initialize_refuses_a_newer_schema(newer_url: str, auto_migrate: bool | None) -> None:
    tables = await table_names(newer_url)
    store = SQLAlchemyStore(newer_url, auto_migrate=auto_migrate)
    with pytest.raises(SchemaOutOfDateError) as info:
        await store.initialize()
    await store.close()
    _assert_too_new(info.value)
    assert await revision_of(newer_url) == NEWER
    assert await table_names(newer_url) == tables


async def test_upgrade_and_downgrade_functions_refuse_a_newer_schema(newer_url: str) -> None:
    with pytest.raises(SchemaTooNewError) as info:
        await upgrade(newer_url)
    _assert_too_new(info.value)
    with pytest.raises(SchemaTooNewError):
        await downgrade(newer_url, "base")
    assert await revision_of(newer_url) == NEWER
    assert "threadstore_threads" in await table_names(newer_url)


def test_cli_current_names_the_unknown_revision(
    newer_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["db", "current", "--url", newer_url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == (
        f"{NEWER} (unknown to threadstore {__version__}, whose newest revision is {head()}: "
        "a newer threadstore migrated this database)"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["upgrade"],
        ["upgrade", "head"],
        ["downgrade", "base", "--yes"],
        ["downgrade", "-1"],
        ["check"],
    ],
    ids=lambda argv: "-".join(argv),
)
def test_cli_refuses_to_migrate_or_check_a_newer_schema(
    newer_url: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code = main(["db", *argv, "--url", newer_url])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert [text for text in err.splitlines() if "error" in text] == [line]
    assert line.startswith("threadstore: error: the database is at threadstore revision")
    assert "this code is older than the schema" in line
    assert "Can't locate revision" not in err
    assert asyncio.run(revision_of(newer_url)) == NEWER
