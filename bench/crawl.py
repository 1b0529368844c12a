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
import hashlib
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.synchronize import Event
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.crawl import CrawlSummary, crawl  # noqa: E402
from crawler.settings import CrawlSettings  # noqa: E402
from crawler.store import CrawlStore  # noqa: E402

SHARED = Path(os.environ.get("INNOSEARCH_SHARED", REPO.parent / "shared"))
PER_SECTION = 50  # article links per section page
_CITIES = ("Shenzhen", "Hsinchu", "Munich", "Bangalore", "Oulu", "Suzhou", "Lyon", "Austin")
_THINGS = (
    "battery separator",
    "open processor core",
    "hydrogen storage tank",
    "satellite ground station",
    "wood-based textile fibre",
    "gallium nitride charger",
    "surgical robot arm",
    "sodium-ion cell",
)


def _article(n: int) -> bytes:
    city, thing = _CITIES[n % len(_CITIES)], _THINGS[(n // 8) % len(_THINGS)]
    paragraphs = [
        f"Researchers in {city} presented a new {thing} this week, report number {n}, saying it "
        f"cuts production costs by {10 + n % 40} percent compared with designs in use today. "
        "The team spun out of a university laboratory and has tested pilot units for a year.",
        f"Analysts cautioned that scaling the process has defeated earlier attempts, but the "
        f"company said its line already runs at commercial speed and that {n % 9 + 2} customers "
        "are expected to sign supply agreements before the end of the year.",
        "Local officials welcomed the investment, which they said would bring several hundred "
        "skilled jobs to the science park, and promised faster permits for the second phase.",
    ] * 3
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    nav = "".join(f'<a href="/section/{s}">Section {s}</a> ' for s in range(1, 6))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Story {n}: {thing} '
        f'in {city}</title><link rel="canonical" href="/news/{n}">'
        f'<meta property="article:published_time" content="2024-03-{n % 28 + 1:02d}T10:00:00Z">'
        f"</head><body><header><nav>{nav}</nav></header><main><article><h1>Story {n}: {thing} "
        f"in {city}</h1>{body}</article></main><footer><a href='/'>Home</a></footer></body></html>"
    ).encode()


def _section(s: int, articles: int) -> bytes:
    first = (s - 1) * PER_SECTION
    links = "".join(
        f'<li><a href="/news/{n}?utm_source=section">Story {n}</a></li>'
        for n in range(first, min(first + PER_SECTION, articles))
    )
    following = (
        f'<a rel="next" href="/section/{s + 1}">Next</a>' if first + PER_SECTION < articles else ""
    )
    return (
        f"<!doctype html><html><head><title>Section {s}</title></head><body><ul>{links}</ul>"
        f"{following}</body></html>"
    ).encode()


def _real_pages() -> list[bytes]:
    """The HTML of every page of data/extraction/aeb and data/dates."""
    folders = (SHARED / "data" / "extraction" / "aeb" / "html", SHARED / "data" / "dates" / "html")
    return [gzip.decompress(path.read_bytes()) for f in folders for path in sorted(f.glob("*.gz"))]


def _serve(
    port_out: multiprocessing.connection.Connection, articles: int, real: bool, unlinked: Event
) -> None:
    """The child process: the generated site, answered from memory, with ETags. Once
    ``unlinked`` is set, section pages after the first list no articles."""
    bodies = _real_pages() if real else []
    sections = (articles + PER_SECTION - 1) // PER_SECTION
    pages: dict[str, bytes] = {
        "/robots.txt": b"User-agent: *\nAllow: /\n",
        "/": b"<html><body>"
        + b"".join(
            f'<a href="/section/{s}">Section {s}</a>'.encode()
            # Real pages link to their own site's paths (404 here): every section is linked
            # from the front page so that depth 2 reaches every page without following those.
            for s in range(1, (sections if real else 2) + 1)
        )
        + b"</body></html>",
    }
    for s in range(1, sections + 1):
        pages[f"/section/{s}"] = _section(s, articles)
    for n in range(articles):
        pages[f"/news/{n}"] = bodies[n] if real else _article(n)
    etags = {path: f'"{hashlib.sha1(body).hexdigest()[:16]}"' for path, body in pages.items()}
    bare = {f"/section/{s}": _section(s, 0) for s in range(2, sections + 1)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls

        def do_GET(self) -> None:
            body = pages.get(self.path)
            tag = etags.get(self.path)
            if unlinked.is_set() and self.path in bare:
                body, tag = bare[self.path], None
            if tag is not None and self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            kind = "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if tag is not None:
                self.send_header("ETag", tag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the crawler closing its keep-alive connections at the end is not news

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


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
