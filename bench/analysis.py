"""Benchmark: how fast the analysis views answer (issue 17): trends by chain and by country, a
comparison of three queries, who works with whom and a citation, and the plain timeline beside
them, over real HTTP (the JSON views: `speed.drive` reads each answer as JSON).

    .venv/bin/python bench/analysis.py                     # 25,000 articles, 100 queries each
    .venv/bin/python bench/analysis.py --index postgresql://...   # an index already loaded
    .venv/bin/python bench/analysis.py --postgresql        # loaded into a throwaway cluster
    .venv/bin/python bench/analysis.py --queries 200 --size 100000

The corpus is `bench/corpus.py`'s; the index is built once with `innosearch index --from-jsonl`
into the cache dir (`analysis-index-SIZE`, reused while it is there; `--rebuild` redoes it), unless
`--index` names one; `--postgresql` loads it into a throwaway PostgreSQL cluster on loopback
(tests/pg_server.py, as bench/backends.py does) and measures that backend. The queries are
`bench/speed.py`'s (1-3 title words of mid document frequency, a quarter with a year and a quarter
with a chain selected, fixed seed): a researcher's typical query. One waitress server in this
process (`web.server.make_server`, no crawl store: the coverage part reads nothing), driven by one
client with a keep-alive connection after a warm-up of 10 requests per endpoint; it prints latency
p50 / p95 per endpoint and the load. Each citation is recorded in the index's citation store,
as a reader citing would; "co-occurrence, all" asks for every story (no words: the largest set).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import corpus  # noqa: E402
from bench.speed import BIN, Query, choose_queries, drive, load_ours, timed  # noqa: E402
from tests.loopback import running  # noqa: E402
from web.server import make_server  # noqa: E402

WARMUP = 10
EVERYTHING = 20  # requests for the co-occurrence of every story (each reads all)
BUDGET_MS = 1000  # issue 17: trends by chain, co-occurrence: a typical query under 1 s p95


def selection(query: Query) -> list[tuple[str, str]]:
    params = [("q", query.words)]
    if query.year:
        params.append(("year", str(query.year)))
    if query.chain:
        params.append(("chain", query.chain))
    return params


def endpoints(queries: list[Query]) -> dict[str, list[str]]:
    """The paths each endpoint is measured with, one per query."""
    out: dict[str, list[str]] = {"timeline": [], "trends by chain": [], "trends by country": []}
    out["compare (3 queries)"] = []
    for n, query in enumerate(queries):
        params = selection(query)
        out["timeline"].append("/api/timeline?" + urlencode(params))
        out["trends by chain"].append("/api/trends?" + urlencode([*params, ("by", "chain")]))
        out["trends by country"].append("/api/trends?" + urlencode([*params, ("by", "country")]))
        three = [queries[(n + k) % len(queries)].words for k in range(3)]
        out["compare (3 queries)"].append("/api/compare?" + urlencode([("q", q) for q in three]))
        out.setdefault("co-occurrence", []).append("/api/cooccurrence?" + urlencode(params))
        if n < EVERYTHING:
            out.setdefault("co-occurrence, all", []).append("/api/cooccurrence")
        out.setdefault("cite", []).append("/api/cite?" + urlencode(params))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=25000, choices=corpus.SIZES)
    parser.add_argument("--queries", type=int, default=100, help="per endpoint (default 100)")
    parser.add_argument("--index", help="an index already loaded (directory or postgresql://)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached index")
    parser.add_argument(
        "--postgresql", action="store_true", help="load a throwaway PostgreSQL index and measure it"
    )
    args = parser.parse_args()
    if args.postgresql:
        from tests.pg_server import running as cluster

        with cluster() as pg:
            url = pg.url(pg.create_database("analysis"))
            corpus_path = corpus.build(args.size)
            seconds, _peak = timed(
                [str(BIN / "innosearch"), "index", "--from-jsonl", str(corpus_path), "--index", url]
            )
            print(f"loaded {args.size} articles into PostgreSQL in {seconds:.0f} s")
            return run(args, url)
    return run(args, args.index)


def run(args: argparse.Namespace, given: str | None) -> int:
    """Builds the cached Whoosh index unless an index is `given`, then measures."""
    corpus_path = corpus.build(args.size)
    records = [json.loads(line) for line in corpus_path.open(encoding="utf-8")]
    index = given or str(corpus.cache_dir() / f"analysis-index-{args.size}")
    if not given and (args.rebuild or not Path(index).exists()):
        seconds, _peak = load_ours(corpus_path, Path(index))
        print(f"indexed {len(records)} articles into {index} in {seconds:.0f} s")
    queries = choose_queries(records, args.queries)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load
    server = make_server(index, port=0, threads=4, config={"RATE_LIMIT_PER_SECOND": 0})
    port = server.effective_port
    with running(server):  # stopped from its own loop, then closed
        print(f"{len(records)} articles, {args.queries} queries per endpoint, index {index}")
        print(f"{'endpoint':<22} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
        failed = False
        for name, paths in endpoints(queries).items():
            drive(port, paths[:WARMUP], 1, lambda body: 0)
            load = drive(port, paths, 1, lambda body: 0)
            print(f"{name:<22} {load.p(0.5):>8.0f} {load.p(0.95):>8.0f} {load.errors:>7}")
            failed |= load.errors > 0
            if name in ("trends by chain", "co-occurrence"):
                verdict = "meets" if load.p(0.95) < BUDGET_MS else "misses"
                print(f"{'':<22} ({verdict} issue 17's {BUDGET_MS} ms at p95)")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
