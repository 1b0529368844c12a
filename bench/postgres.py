"""Benchmark: the PostgreSQL index on the bench corpus: indexing rate and search latency.

    .venv/bin/python bench/postgres.py                       # 25,000 articles, 300 queries
    .venv/bin/python bench/postgres.py --size 100000
    .venv/bin/python bench/postgres.py --url postgresql://user@host/db   # an existing server

Without `--url` a throwaway cluster is started on loopback (tests/pg_server.py: durability off,
default memory settings) and removed afterwards; with `--url` the database given is emptied
first. The records are those of `bench/corpus.py`; queries are the ones `bench/speed.py` picks
(1-3 mid-frequency title words, a quarter with a year and a quarter with a chain selected).
Every search returns the three facets' counts and a page of 20 with snippets, in-process
through `PostgresIndex.search` (no HTTP), one client thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench import corpus  # noqa: E402
from bench.speed import choose_queries  # noqa: E402
from crawler.article import Article  # noqa: E402
from indexer.postgres.index import PostgresIndex  # noqa: E402
from indexer.request import SearchRequest  # noqa: E402

WARMUP = 20


@contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS documents, index_state, schema_version CASCADE")
            conn.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS innosearch")
        yield url
        return
    from tests.pg_server import running

    with running() as pg:
        yield pg.url(pg.create_database("bench"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(index: PostgresIndex, requests: list[SearchRequest]) -> list[float]:
    out = []
    for request in requests:
        started = time.perf_counter()
        index.search(request)
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    print(
        f"  {name:<34} p50 {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 95):7.1f} ms"
        f"   ({len(ms)} searches)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=25000, help="articles (default 25000)")
    parser.add_argument("--queries", type=int, default=300, help="timed searches (default 300)")
    parser.add_argument("--url", help="an existing PostgreSQL database to use (emptied first)")
    args = parser.parse_args()

    path = corpus.build(args.size)
    with path.open(encoding="utf-8") as fh:
        records: list[dict[str, Any]] = [json.loads(line) for line in fh]
    queries = choose_queries(records, args.queries + WARMUP)
    with server(args.url) as url, PostgresIndex(url, migrate_schema=True) as index:
        articles = (Article.from_dict(r) for r in records)
        summary = index.write((a, None, None, False) for a in articles)
        print(
            f"indexed {summary.added} articles in {summary.seconds:.1f} s: "
            f"{summary.rate:.0f} docs/s (enrichment, MinHash and the upsert in one transaction)"
        )
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"database size {size.fetchone()[0]}")  # type: ignore[index]

        def request(q: Any, text: str | None = None) -> SearchRequest:
            filters: dict[str, list[str]] = {}
            if q.year:
                filters["year"] = [str(q.year)]
            if q.chain:
                filters["chain"] = [q.chain]
            return SearchRequest(q=q.words if text is None else text, filters=filters)

        warm, timed_queries = queries[:WARMUP], queries[WARMUP:]
        timed(index, [request(q) for q in warm])
        print(f"search with the three facets' counts and a page of 20, at {summary.total} docs:")
        words = timed(index, [request(q) for q in timed_queries])
        report("words (1-3), some with a facet", words)
        report(
            "words, any word",
            timed(index, [SearchRequest(q=q.words, any_word=True) for q in timed_queries[:100]]),
        )
        report(
            "browse (no words), some with a facet",
            timed(index, [request(q, "") for q in timed_queries[:100]]),
        )
        report(
            "words, sorted by date",
            timed(index, [SearchRequest(q=q.words, sort="date") for q in timed_queries[:100]]),
        )
        total = sum(index.search(request(q))["total"] for q in timed_queries[:100])
        print(f"  (mean matches per word search: {total / 100:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
