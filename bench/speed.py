"""Benchmark: innosearch beside Datasette on the same news corpus, same queries, same run.

    .venv/bin/python bench/speed.py                          # 25,000 articles, 300 queries
    .venv/bin/python bench/speed.py --size 100000            # the 100,000-article version
    .venv/bin/python bench/speed.py --queries 200 --keep     # keep indexes for another run

Both sides get the records of `bench/corpus.py` (facets from our own enrichment, computed once):

- ours: `innosearch index --from-jsonl` (a timed subprocess), then `innosearch serve`, queried
  at `/api/search?q=...` (every answer carries the three facets' counts);
- Datasette: `sqlite-utils insert` and `sqlite-utils enable-fts` (timed), then `datasette
  serve`, queried at `/db/articles.json?_search=...&_facet=year&_facet_array=chains
  &_facet_array=countries&_size=20`.

Queries are 1-3 title words of mid document frequency, chosen with a fixed seed. A quarter of
them also select a year and a quarter a chain (`year=` / `chains__arraycontains=` on
Datasette's side), as a researcher narrowing a search does. Each side is warmed with the same
few queries first (from 2 clients, so that each of our worker processes is warm), then driven
by 1 and by 2 client threads with keep-alive connections on loopback; figures are latency
p50 / p95, queries per second, load rate, size on disk and the server's peak memory (VmHWM of
the server and its children). Ratios are ours / Datasette's.
Everything is written under the cache dir of `bench/corpus.py` (or `--work`), never the repo.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import corpus  # noqa: E402
from indexer.whoosh.write import remove_index  # noqa: E402
from tests.loopback import free_port  # noqa: E402

BIN = Path(sys.executable).parent
SEED = 8
WARMUP = 20
_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "about above after again against also among been before being below between both could "
        "does doing down during each from further have having here into itself just more most "
        "much must once only other over said same says should some such than that their them "
        "then there these they this those through under until very were what when where which "
        "while will with would your year years",
    )
)


@dataclass
class Query:
    """One search: the words, and at most one selected facet value (`year` or `chain`)."""

    words: str
    year: int | None = None
    chain: str | None = None

    def ours(self) -> str:
        params: list[tuple[str, str]] = [("q", self.words)]
        if self.year:
            params.append(("year", str(self.year)))
        if self.chain:
            params.append(("chain", self.chain))
        return "/api/search?" + urlencode(params)

    def datasette(self) -> str:
        params: list[tuple[str, str]] = [("_search", self.words)]
        if self.year:
            params.append(("year", str(self.year)))
        if self.chain:
            params.append(("chains__arraycontains", self.chain))
        params += [("_facet", "year"), ("_facet_array", "chains"), ("_facet_array", "countries")]
        params.append(("_size", "20"))
        return "/db/articles.json?" + urlencode(params)


@dataclass
class Load:
    """Latencies of one driven phase (seconds), its wall time and the totals it saw."""

    latencies: list[float]
    wall: float
    totals: list[int] = field(default_factory=list)
    errors: int = 0

    def p(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] * 1000

    @property
    def qps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def choose_queries(records: Sequence[dict[str, Any]], n: int) -> list[Query]:
    """`n` queries of 1-3 words from titles, each word in 0.05%-2% of the documents."""
    df: Counter[str] = Counter()
    for r in records:
        df.update(set(_WORD.findall(f"{r['title']} {r['text']}".lower())))
    low, high = max(3, len(records) // 2000), len(records) // 50
    rng = random.Random(SEED)
    queries: list[Query] = []
    seen: set[str] = set()
    while len(queries) < n:
        r = records[rng.randrange(len(records))]
        words = [w for w in dict.fromkeys(_WORD.findall(r["title"].lower())) if w not in _STOP]
        mid = [w for w in words if low <= df[w] <= high]
        if not mid:
            continue
        text = " ".join(rng.sample(mid, min(len(mid), rng.randint(1, 3))))
        if text in seen:
            continue
        seen.add(text)
        kind = len(queries) % 4
        year = r.get("year") if kind == 1 else None
        chain = r["chains"][0] if kind == 2 and r.get("chains") else None
        queries.append(Query(text, year, chain))
    return queries


# ---- processes ----------------------------------------------------------------------------------


def timed(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Runs a command; returns (wall seconds, peak RSS in KiB of it and its waited children)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode(errors='replace')[-2000:]}")
    return elapsed, int(usage.ru_maxrss)


class Server:
    """A server subprocess on a loopback port, stopped by its own process group id."""

    def __init__(self, name: str, cmd: Sequence[str], port: int, ready: str) -> None:
        self.name, self.port = name, port
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.proc.returncode}")
            try:
                status, _ = get(port, ready)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{name} did not answer on port {port}")

    def peak_kib(self) -> int:
        """VmHWM of the server and its children (each process's own high-water mark)."""
        return sum(_vmhwm(pid) for pid in [self.proc.pid, *_children(self.proc.pid)])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _vmhwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            found += [kid, *_children(kid)]
    return found


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("GET", path)
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        if own:
            c.close()


def drive(
    port: int, paths: Sequence[str], clients: int, total: Callable[[dict[str, Any]], int]
) -> Load:
    """Sends every path once, from `clients` threads with one keep-alive connection each."""
    latencies: list[float] = []
    totals: list[int] = [0] * len(paths)
    errors = [0]
    lock = threading.Lock()
    todo = iter(enumerate(paths))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                break
            i, path = item
            t0 = time.perf_counter()
            try:
                status, body = get(port, path, conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, body = 0, b""
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status == 200:
                    totals[i] = total(json.loads(body))
                else:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Load(latencies, time.perf_counter() - started, totals, errors[0])


# ---- the two sides ------------------------------------------------------------------------------


def load_ours(corpus_path: Path, index_dir: Path) -> tuple[float, int]:
    remove_index(index_dir)
    return timed(
        [
            str(BIN / "innosearch"),
            "index",
            "--from-jsonl",
            str(corpus_path),
            "--index",
            str(index_dir),
        ]
    )


def load_datasette(corpus_path: Path, db: Path) -> tuple[float, float, int]:
    """(insert seconds, FTS seconds, peak KiB): sqlite-utils as a researcher would run it."""
    db.unlink(missing_ok=True)
    utils = str(BIN / "sqlite-utils")
    insert, rss1 = timed(
        [utils, "insert", str(db), "articles", str(corpus_path), "--nl", "--pk", "id"]
    )
    fts, rss2 = timed(
        [
            utils,
            "enable-fts",
            str(db),
            "articles",
            "title",
            "text",
            "--fts5",
            "--tokenize",
            "porter",
        ]
    )
    return insert, fts, max(rss1, rss2)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=25000, choices=corpus.SIZES)
    parser.add_argument("--queries", type=int, default=300, help="measured queries (default 300)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the query phases")
    parser.add_argument("--work", type=Path, help="working dir (default: the corpus cache dir)")
    parser.add_argument("--skip-load", action="store_true", help="reuse the indexes of a run")
    parser.add_argument("--keep", action="store_true", help="keep the index and database")
    parser.add_argument(
        "--workers", type=int, help="our server's processes (default: serve's, one per core)"
    )
    parser.add_argument("--load-only", action="store_true", help="time the two loads, no queries")
    args = parser.parse_args()

    work = args.work or corpus.cache_dir()
    work.mkdir(parents=True, exist_ok=True)
    corpus_path = corpus.build(args.size)
    records = [json.loads(line) for line in corpus_path.open(encoding="utf-8")]
    queries = choose_queries(records, args.queries + WARMUP)
    warm, measured = queries[:WARMUP], queries[WARMUP:]
    # Datasette names a database after its file: "db", as in the URLs.
    index_dir, db = work / f"index-{args.size}", work / f"datasette-{args.size}" / "db.db"
    db.parent.mkdir(exist_ok=True)
    print(
        f"corpus {corpus_path}: {len(records)} articles; {len(measured)} queries, e.g. "
        + ", ".join(repr(q.words) for q in measured[:5]),
        flush=True,
    )
    articles = len(records)
    del records

    rows: list[tuple[str, str, str, str]] = []
    if args.skip_load and not (index_dir.exists() and db.exists()):
        sys.exit(f"--skip-load: no kept index and database in {work}; run once with --keep first")
    if args.skip_load and args.load_only:
        sys.exit("--skip-load and --load-only leave nothing to measure")
    if not args.skip_load:
        load_avg = os.getloadavg()
        ours_s, ours_kib = load_ours(corpus_path, index_dir)
        ins_s, fts_s, ds_kib = load_datasette(corpus_path, db)
        n = articles
        print(f"load average before the loads (1, 5, 15 min): {load_avg}", flush=True)
        add(
            rows,
            (
                "load, articles/s",
                f"{n / ours_s:,.0f}",
                f"{n / (ins_s + fts_s):,.0f}",
                f"{(n / ours_s) / (n / (ins_s + fts_s)):.2f}",
            ),
        )
        add(rows, ("load, seconds", f"{ours_s:.1f}", f"{ins_s:.1f} + {fts_s:.1f} FTS", ""))
        add(
            rows,
            (
                "load, peak memory MB",
                f"{ours_kib / 1024:.0f}",
                f"{ds_kib / 1024:.0f}",
                f"{ours_kib / ds_kib:.2f}",
            ),
        )
    ours_b, ds_b = dir_bytes(index_dir), db.stat().st_size
    add(
        rows,
        ("size on disk MB", f"{ours_b / 1e6:.0f}", f"{ds_b / 1e6:.0f}", f"{ours_b / ds_b:.2f}"),
    )

    if args.load_only:
        if not args.keep:
            remove_index(index_dir)
            db.unlink(missing_ok=True)
        print_table(rows)
        return 0

    ours = Server(
        "innosearch",
        [
            str(BIN / "innosearch"),
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(p1 := free_port()),
            *(["--workers", str(args.workers)] if args.workers else []),
        ],
        p1,
        "/healthz",
    )
    try:
        ds = Server(
            "datasette",
            [
                str(BIN / "datasette"),
                "serve",
                str(db),
                "--host",
                "127.0.0.1",
                "--port",
                str(p2 := free_port()),
            ],
            p2,
            "/db.json",
        )
    except BaseException:
        ours.stop()
        raise
    try:
        # From 2 clients, as measured: each of our worker processes opens its searcher and
        # reads its facet columns before the clock starts, not in the middle of a phase.
        drive(ours.port, [q.ours() for q in warm], 2, ours_total)
        drive(ds.port, [q.datasette() for q in warm], 2, ds_total)
        phases: dict[tuple[str, int], list[Load]] = {}
        timeouts = 0
        for _round in range(args.rounds):
            for clients in (1, 2):
                phases.setdefault(("ours", clients), []).append(
                    drive(ours.port, [q.ours() for q in measured], clients, ours_total)
                )
                phases.setdefault(("ds", clients), []).append(
                    drive(ds.port, [q.datasette() for q in measured], clients, ds_total)
                )
        _, body = get(ds.port, measured[0].datasette())
        timeouts = len(json.loads(body).get("facets_timed_out") or [])
        for clients in (1, 2):
            o, d = _median_load(phases[("ours", clients)]), _median_load(phases[("ds", clients)])
            add(
                rows,
                (
                    f"{clients} client{'s' if clients > 1 else ''}: p50 ms",
                    f"{o.p(0.5):.1f}",
                    f"{d.p(0.5):.1f}",
                    f"{o.p(0.5) / d.p(0.5):.2f}",
                ),
            )
            add(
                rows,
                (
                    f"{clients} client{'s' if clients > 1 else ''}: p95 ms",
                    f"{o.p(0.95):.1f}",
                    f"{d.p(0.95):.1f}",
                    f"{o.p(0.95) / d.p(0.95):.2f}",
                ),
            )
            add(
                rows,
                (
                    f"{clients} client{'s' if clients > 1 else ''}: queries/s",
                    f"{o.qps:.1f}",
                    f"{d.qps:.1f}",
                    f"{o.qps / d.qps:.2f}",
                ),
            )
        add(
            rows,
            (
                "server peak memory MB",
                f"{ours.peak_kib() / 1024:.0f}",
                f"{ds.peak_kib() / 1024:.0f}",
                f"{ours.peak_kib() / max(1, ds.peak_kib()):.2f}",
            ),
        )
        o1, d1 = phases[("ours", 1)][0], phases[("ds", 1)][0]
        agree = sum(1 for a, b in zip(o1.totals, d1.totals, strict=True) if a == b)
        errors = sum(load.errors for loads in phases.values() for load in loads)
    finally:
        ours.stop()
        ds.stop()
    if not args.keep:
        remove_index(index_dir)
        db.unlink(missing_ok=True)

    print(f"innosearch serve --workers {args.workers or 'default (one per core)'}")
    print_table(rows)
    print(
        f"\nsame total hits on {agree}/{len(measured)} queries (stemmers differ); "
        f"HTTP errors {errors}; Datasette facets timed out on the first query: {timeouts}"
    )
    return 0


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    print(f"\nload average at the end (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} cores")
    print(f"\n{'':24} {'innosearch':>12} {'Datasette':>18} {'ratio':>7}")
    for name, a, b, ratio in rows:
        print(f"{name:24} {a:>12} {b:>18} {ratio:>7}")


def add(rows: list[tuple[str, str, str, str]], row: tuple[str, str, str, str]) -> None:
    """Adds a row to the table, and shows it at once (on stderr) for long runs."""
    rows.append(row)
    print(f"  {row[0]}: ours {row[1]}, Datasette {row[2]}, ratio {row[3]}", file=sys.stderr)


def ours_total(answer: dict[str, Any]) -> int:
    return int(answer["total"])


def ds_total(answer: dict[str, Any]) -> int:
    return int(answer.get("filtered_table_rows_count") or 0)


def _median_load(loads: list[Load]) -> Load:
    """The round with the median p95 (one round: that round)."""
    return sorted(loads, key=lambda load: load.p(0.95))[len(loads) // 2]


if __name__ == "__main__":
    sys.exit(main())
