"""Benchmark: the two index backends side by side, through our own API, in one run.

    .venv/bin/python bench/backends.py                  # 25,000 articles
    .venv/bin/python bench/backends.py --size 100000
    .venv/bin/python bench/backends.py --size 1000000 --only postgresql \\
        --pg postgresql://postgres@127.0.0.1:5432/million --skip-load   # an index built before
    .venv/bin/python bench/backends.py --size 1000000 --only whoosh --whoosh DIR --browses 30

The same corpus (bench/corpus.py) is indexed with `innosearch index --from-jsonl` into a Whoosh
directory and into a PostgreSQL database (a throwaway cluster on loopback, tests/pg_server.py,
durability off; or the database `--pg` names), each is served with `innosearch serve`, and the
same queries (bench/speed.py's: 1-3 mid-frequency title words, a quarter with a year and a
quarter with a chain selected, all with the three facets) are sent with 1 and 2 clients; then
browsing: the first 100 of them without their words (facets only, newest first, some with
the year or chain selected; `--browses` takes fewer, where each takes seconds). Printed: the
build's wall time, rate and peak memory (the largest process of `innosearch index`;
PostgreSQL's own processes not counted; also printed as soon as the build ends), size on disk,
p50 / p95 latency and queries per second of both kinds, the first browse after opening (what a
cache of the unfiltered counts costs once per index generation), server peak memory, errors
(answers other than 200, a search past its time budget included), the load average.
The figures in docs/scaling.md come from here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench import corpus  # noqa: E402
from bench.speed import (  # noqa: E402
    BIN,
    WARMUP,
    Load,
    Query,
    Server,
    choose_queries,
    dir_bytes,
    drive,
    free_port,
    get,
    ours_total,
    timed,
)

BROWSE = 100  # browsing queries per phase, unless --browses says
QUERY_SAMPLE = 100_000  # articles the queries are chosen from


def measure(
    name: str,
    target: str,
    corpus_path: Path,
    size: int,
    queries: list,
    warm: list,
    load: bool,
    browses: int = BROWSE,
) -> dict:
    result: dict = {}
    if load:
        seconds, kib = timed(
            [str(BIN / "innosearch"), "index", "--from-jsonl", str(corpus_path), "--index", target]
        )
        result |= {"seconds": seconds, "rate": size / seconds, "build_mb": kib / 1024}
        print(
            f"  {name}: built in {seconds:,.0f} s ({size / seconds:,.0f}/s), peak "
            f"{kib / 1024:,.0f} MB, load {os.getloadavg()}",
            file=sys.stderr,
        )
    result["disk_mb"] = disk_bytes(target) / 1e6
    port = free_port()
    server = Server(
        name,
        [str(BIN / "innosearch"), "serve", "--index", target, "--port", str(port)],
        port,
        "/healthz",
    )
    browse = [Query("", q.year, q.chain).ours() for q in queries[:browses]]
    try:
        started = time.perf_counter()
        get(port, Query("").ours())
        result["first_browse_ms"] = (time.perf_counter() - started) * 1000
        drive(port, [q.ours() for q in warm], 1, ours_total)
        loads: dict[tuple[str, int], Load] = {}
        for clients in (1, 2):
            loads["words", clients] = drive(port, [q.ours() for q in queries], clients, ours_total)
            loads["browse", clients] = drive(port, browse, clients, ours_total)
            print(f"  {name}, {clients} client(s): done, load {os.getloadavg()}", file=sys.stderr)
        result["peak_mb"] = server.peak_kib() / 1024
    finally:
        server.stop()
    result["loads"] = loads
    result["errors"] = sum(load.errors for load in loads.values())
    return result


def disk_bytes(target: str) -> int:
    """A Whoosh directory's files, or a PostgreSQL database's size (tables and indexes)."""
    if "://" not in target:
        return dir_bytes(Path(target))
    with psycopg.connect(target) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=25000, choices=corpus.SIZES)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--only", choices=("whoosh", "postgresql"), help="one backend")
    parser.add_argument("--whoosh", help="the Whoosh index directory to build and keep")
    parser.add_argument(
        "--pg", help="a PostgreSQL database URL to use instead of a throwaway cluster"
    )
    parser.add_argument("--skip-load", action="store_true", help="search the indexes as they are")
    parser.add_argument("--browses", type=int, default=BROWSE, help="browsing queries per phase")
    args = parser.parse_args()
    backends = [b for b in ("whoosh", "postgresql") if args.only in (None, b)]
    if args.skip_load and (
        ("whoosh" in backends and not args.whoosh) or ("postgresql" in backends and not args.pg)
    ):
        sys.exit("--skip-load searches built indexes: give --whoosh DIR and --pg URL (or --only)")
    corpus_path = corpus.build(args.size)
    # Queries from the first 100,000 articles at most: the bigger corpora repeat the base set,
    # so a word's share of documents is the same, and counting a million articles' words would
    # take longer than the run (the same queries at 100,000, 250,000 and 1,000,000).
    with corpus_path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line, _ in zip(lines, range(QUERY_SAMPLE), strict=False)]
    chosen = choose_queries(records, args.queries + WARMUP)
    warm, measured = chosen[:WARMUP], chosen[WARMUP:]
    del records

    def run(name: str, target: str) -> dict:
        load = not args.skip_load
        return measure(name, target, corpus_path, args.size, measured, warm, load, args.browses)

    results = {}
    with ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="innosearch-backends-"))
        if "whoosh" in backends:
            results["whoosh"] = run("whoosh", args.whoosh or str(Path(work) / "index"))
        if "postgresql" in backends:
            url = args.pg
            if not url:
                from tests.pg_server import running

                pg = stack.enter_context(running())
                url = pg.url(pg.create_database("bench"))
            results["postgresql"] = run("postgresql", url)
    report(args.size, len(measured), args.browses, results)
    return 0


def report(size: int, queries: int, browses: int, results: dict[str, dict]) -> None:
    names = list(results)
    print(f"\n{size:,} articles; {queries} word searches and {browses} browses (no words), all")
    print(f"with the three facets, through /api/search; load average {os.getloadavg()}")
    print(f"on {os.cpu_count()} cores\n{'':<30}" + "".join(f"{n:>14}" for n in names))

    def row(label: str, cell: Callable[[dict], str]) -> None:
        cells = []
        for n in names:
            try:
                cells.append(cell(results[n]))
            except KeyError:
                cells.append("-")
        print(f"{label:<30}" + "".join(f"{c:>14}" for c in cells))

    row("build, seconds", lambda r: f"{r['seconds']:,.0f}")
    row("build, articles/s", lambda r: f"{r['rate']:,.0f}")
    row("build, peak memory MB", lambda r: f"{r['build_mb']:,.0f}")
    row("size on disk MB", lambda r: f"{r['disk_mb']:,.0f}")
    for kind in ("words", "browse"):
        for clients in (1, 2):
            prefix = f"{kind}, {clients} client{'s' if clients > 1 else ''}"
            row(f"{prefix}, p50 ms", lambda r, k=(kind, clients): f"{r['loads'][k].p(0.5):.1f}")
            row(f"{prefix}, p95 ms", lambda r, k=(kind, clients): f"{r['loads'][k].p(0.95):.1f}")
            row(f"{prefix}, queries/s", lambda r, k=(kind, clients): f"{r['loads'][k].qps:.1f}")
    row("first browse, ms", lambda r: f"{r['first_browse_ms']:,.0f}")
    row("server peak memory MB", lambda r: f"{r['peak_mb']:,.0f}")
    row("errors", lambda r: str(r["errors"]))


if __name__ == "__main__":
    sys.exit(main())
