"""Every revision keeps the data: rows written at each revision are read back at head."""

from __future__ import annotations

import pytest

from tests.migrations.seeds import SEEDS
from tests.migrations.support import chain, on_connection, revision_ids
from threadstore import SQLAlchemyStore
from threadstore.migrations import downgrade, upgrade


async def _seed_every_revision(url: str) -> None:
    """Walk up one revision at a time, writing each revision's rows on its own schema."""
    for script in chain():
        await upgrade(url, script.revision)
        seed = SEEDS.get(script.revision)
        if seed is not None:
            await on_connection(url, seed.write)


async def _check(url: str, revisions: list[str]) -> None:
    store = SQLAlchemyStore(url)
    try:
        await store.initialize()  # verifies the database is at head
        for revision in revisions:
            seed = SEEDS.get(revision)
            if seed is not None:
                await seed.check(store)
    finally:
        await store.close()
    for revision in revisions:
        seed = SEEDS.get(revision)
        if seed is not None and seed.check_rows is not None:
            await on_connection(url, seed.check_rows)


@pytest.mark.parametrize("revision", revision_ids())
def test_every_revision_has_seed_data(revision: str) -> None:
    assert revision in SEEDS, (
        f"revision {revision} has no entry in tests/migrations/seeds.py: add a Seed that "
        "writes representative rows with plain SQL and reads them back through the store"
    )


async def test_rows_written_at_each_revision_are_read_at_head(empty_url: str) -> None:
    await _seed_every_revision(empty_url)
    await _check(empty_url, revision_ids())


@pytest.mark.parametrize("target", revision_ids()[:-1])
async def test_downgrade_then_upgrade_keeps_what_the_older_schema_holds(
    empty_url: str, target: str
) -> None:
    await _seed_every_revision(empty_url)
    await downgrade(empty_url, target)
    await upgrade(empty_url)
    ids = revision_ids()
    await _check(empty_url, ids[: ids.index(target) + 1])
