"""bench/bench_queries.py at a few hundred messages, so that it does not rot.

Nothing it times means anything at this size; it checks that the data set
loads into a migrated database as the store itself writes it (the store reads
and extends what was loaded) and that every benchmarked call returns the same
rows as its hand-written twin (``measure`` raises otherwise).
"""

from __future__ import annotations

from bench import bench_queries, query_data

from threadstore import SQLAlchemyStore


async def test_the_query_benchmark_runs_and_agrees_with_its_reference(db_url: str) -> None:
    data = query_data.generate(400)
    rows = await bench_queries.run_on(db_url, data, rounds=1)
    names = " ".join(row.operation for row in rows)
    assert len(rows) == 10
    for part in ("threads, first page", "keyset page", "metadata", "search", "aggregate_stats"):
        assert part in names
    async with SQLAlchemyStore(db_url) as store:
        longest = max(data.threads, key=lambda row: row[7])
        thread = await store.get_thread(longest[0])
        assert thread is not None
        assert thread["message_count"] == longest[7]
        [added] = await store.add_messages(longest[0], [{"role": "user", "content": "one more"}])
        assert added["seq"] == longest[7]  # the loaded seqs run 0..n-1
        assert (await store.get_stats())["messages"] == 401
        planted = [row for row in data.message_rows if query_data.RARE_WORD in row[3]]
        found = await store.search_messages(query_data.RARE_WORD)
        assert len(found["items"]) == len(planted) > 0
