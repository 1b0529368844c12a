"""Benchmark: the crawler's own cost, on a generated local news site of 2,000 article pages.

    .venv/bin/python bench/crawl.py                 # 2,000 articles, delay 0, 4 workers
    .venv/bin/python bench/crawl.py --articles 500  # a quicker run
    .venv/bin/python bench/crawl.py --real          # the 501 real pages of ../shared/data

The site runs in a child process on loopback (a threaded HTTP server), so the CPU figures are
the crawler's alone: fetching, robots.txt, link discovery, extraction, WARC archiving and the
SQLite store. One host means one request at a time (per-host concurrency 1), so pages/s is
bounded by the round trip plus the crawler's work per page, not by the worker count; CPU per
page is the figure that says what a page costs us. Peak RSS is the process's high-water mark.
``--real`` serves the real publishers' pages of ``data/extraction/aeb`` and ``data/dates`` as the
article pages instead (larger, messier pages: parsing and extraction weigh more there).

Three crawls of one store: the first crawl; a re-crawl (every page asked for conditionally,
answered 304); and a re-crawl after the section pages stopped linking all but the first 50
articles, so the others are reached only by revalidation (`crawl.revisit_days` 0).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.crawl import CrawlSummary, crawl  # noqa: E402
from crawler.settings import CrawlSettings  # noqa: E402
from crawler.store import CrawlStore  # noqa: E402
from innosearch.sample_site import LoopbackSite  # noqa: E402
from innosearch.sample_site.wire import PER_SECTION, build_generated_site  # noqa: E402

SHARED = Path(os.environ.get("INNOSEARCH_SHARED", REPO.parent / "shared"))


def _real_pages() -> list[bytes]:
    """The HTML of every page of data/extraction/aeb and data/dates."""
    folders = (SHARED / "data" / "extraction" / "aeb" / "html", SHARED / "data" / "dates" / "html")
    return [gzip.decompress(path.read_bytes()) for f in folders for path in sorted(f.glob("*.gz"))]


def _serve(port_out: Connection, articles: int, real: bool, unlinked: Event) -> None:
    """The child process: the kit's generated site (`innosearch.sample_site.wire`), with ETags
    and persistent connections. Once ``unlinked`` is set, section pages after the first list
    no articles."""
    site = LoopbackSite(keep_alive=True)
    build_generated_site(site, articles, _real_pages() if real else None, unlinked)
    port_out.send(site.port)
    threading.Event().wait()  # serves until the parent terminates this process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="article pages on the site")
    parser.add_argument("--workers", type=int, default=4, help="crawl worker threads")
    parser.add_argument("--real", action="store_true", help="real pages as the article pages")
    args = parser.parse_args()
    if args.real:
        args.articles = len(_real_pages())

    receive, send = multiprocessing.Pipe(duplex=False)
    unlinked = multiprocessing.Event()
    server = multiprocessing.Process(
        target=_serve, args=(send, args.articles, args.real, unlinked), daemon=True
    )
    server.start()
    port = receive.recv()
    sections = (args.articles + PER_SECTION - 1) // PER_SECTION
    settings = CrawlSettings(
        delay=0.0,
        max_pages=args.articles + sections + 10,
        max_depth=2 if args.real else sections + 5,
        allow_local=True,
        workers=args.workers,
    )
    # (name, revisit_days): the re-crawl finds every article through links (and none due);
    # after the unlinking every article is due, so those no link leads to are revalidated.
    phases = [("first crawl", 1.0), ("re-crawl", 1.0), ("unlinked", 0.0)]
    results: list[tuple[str, CrawlSummary, float, float, int]] = []
    try:
        with tempfile.TemporaryDirectory() as data:
            for name, revisit_days in phases:
                if name == "unlinked":
                    unlinked.set()
                before = resource.getrusage(resource.RUSAGE_SELF)
                started = time.perf_counter()
                phase = replace(settings, revisit_days=revisit_days)
                with CrawlStore(data) as store:
                    summary = crawl([f"http://127.0.0.1:{port}/"], store, phase)
                    articles = store.count_articles()
                seconds = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                results.append((name, summary, seconds, cpu, articles))
            warc_bytes = sum(p.stat().st_size for p in (Path(data) / "warc").glob("*"))
    finally:
        server.terminate()
        server.join()

    kind = "real pages" if args.real else "articles"
    print(f"site:         {args.articles} {kind}, {sections} section pages (one host, delay 0)")
    for name, summary, seconds, cpu, articles in results:
        pages = summary.pages_fetched
        print(f"-- {name}")
        print(
            f"crawled:      {pages} pages ({summary.not_modified} answered 304), "
            f"{articles} articles stored, {summary.errors} errors"
        )
        print(
            f"revalidated:  {summary.revalidated} ({summary.revalidated_unchanged} unchanged, "
            f"{summary.revalidated_gone} gone)"
        )
        print(f"wall time:    {seconds:.1f} s")
        print(f"pages/s:      {pages / seconds:.1f}")
        print(f"CPU per page: {cpu / max(pages, 1) * 1000:.1f} ms ({cpu:.1f} s CPU in all)")
    print(f"peak RSS:     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"WARC archive: {warc_bytes / 1024 / 1024:.1f} MB")
    stored = [r[4] for r in results]
    return 0 if args.real or stored == [args.articles] * len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
