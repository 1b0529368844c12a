"""Benchmark: the two index backends side by side, through our own API, in one run.

    .venv/bin/python bench/backends.py                  # 25,000 articles
    .venv/bin/python bench/backends.py --size 100000

The same corpus (bench/corpus.py) is indexed with `innosearch index --from-jsonl` into a Whoosh
directory and into a PostgreSQL database (a throwaway cluster on loopback, tests/pg_server.py,
durability off), each is served with `innosearch serve`, and the same queries (bench/speed.py's:
1-3 mid-frequency title words, a quarter with a year and a quarter with a chain selected, all
with the three facets) are sent with 1 and 2 clients. Printed: indexing articles/s, p50 / p95
latency, queries per second, server peak memory. The figures in docs/scaling.md come from here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import corpus  # noqa: E402
from bench.speed import BIN, WARMUP, Server, choose_queries, drive, free_port, ours_total, timed  # noqa: E402


def measure(
    name: str, target: str, corpus_path: Path, size: int, queries: list, warm: list
) -> dict:
    seconds, _kib = timed(
        [str(BIN / "innosearch"), "index", "--from-jsonl", str(corpus_path), "--index", target]
    )
    port = free_port()
    server = Server(
        name,
        [str(BIN / "innosearch"), "serve", "--index", target, "--port", str(port)],
        port,
        "/healthz",
    )
    try:
        drive(port, [q.ours() for q in warm], 1, ours_total)
        loads = {c: drive(port, [q.ours() for q in queries], c, ours_total) for c in (1, 2)}
        peak = server.peak_kib()
    finally:
        server.stop()
    return {
        "rate": size / seconds,
        "loads": loads,
        "peak_mb": peak / 1024,
        "errors": sum(load.errors for load in loads.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=25000, choices=corpus.SIZES)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    corpus_path = corpus.build(args.size)
    records = [json.loads(line) for line in corpus_path.open(encoding="utf-8")]
    chosen = choose_queries(records, args.queries + WARMUP)
    warm, measured = chosen[:WARMUP], chosen[WARMUP:]
    del records

    from tests.pg_server import running

    results = {}
    with tempfile.TemporaryDirectory(prefix="innosearch-backends-") as work, running() as pg:
        results["whoosh"] = measure(
            "whoosh", str(Path(work) / "index"), corpus_path, args.size, measured, warm
        )
        results["postgresql"] = measure(
            "postgresql",
            pg.url(pg.create_database("bench")),
            corpus_path,
            args.size,
            measured,
            warm,
        )
    print(f"{args.size} articles, {len(measured)} queries with three facets, through /api/search")
    print(f"{'':<26}{'whoosh':>14}{'postgresql':>14}")
    w, p = results["whoosh"], results["postgresql"]
    print(f"{'indexing, articles/s':<26}{w['rate']:>14,.0f}{p['rate']:>14,.0f}")
    for clients in (1, 2):
        for label, value in (("p50 ms", 0.5), ("p95 ms", 0.95)):
            row = f"{clients} client{'s' if clients > 1 else ''}, {label}"
            print(
                f"{row:<26}{w['loads'][clients].p(value):>14.1f}{p['loads'][clients].p(value):>14.1f}"
            )
        row = f"{clients} client{'s' if clients > 1 else ''}, queries/s"
        print(f"{row:<26}{w['loads'][clients].qps:>14.1f}{p['loads'][clients].qps:>14.1f}")
    print(f"{'server peak memory MB':<26}{w['peak_mb']:>14.0f}{p['peak_mb']:>14.0f}")
    print(f"{'errors':<26}{w['errors']:>14}{p['errors']:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
