"""A crawl worker of the distributed crawl: takes URLs from the shared Redis frontier, fetches,
extracts, keeps the raw page locally and hands articles to the index.

``innosearch worker --queue redis://... --index TARGET [--data DIR] [--burst]`` runs
`run_worker`; any number of them may run on any number of machines. A worker does for one URL
exactly what the single-process crawl does (`crawler.crawl`): it drives the same `CrawlLoop`
methods (robots.txt, fetch, extraction, the record in the crawl store), with three things
swapped for their shared versions:

- the frontier: discovered links go to `crawler.distributed.frontier.Frontier` instead of the local
  SQLite frontier (the subclass overrides `enqueue` and `fetched_via`);
- politeness: the `Fetcher` gets a `SharedThrottle`, so every request (robots.txt, redirect
  hops and retries included) claims the host's next allowed time in Redis first;
- robots.txt: a `SharedRobotsCache`, fetched by one worker and read by all.

The raw response stays in this worker's own crawl store (``--data``, SQLite and WARC files):
re-extraction and ``innosearch stats`` work on it as on any crawl store. Articles go to the
``sink`` in batches: the lead wires the sink to the Whoosh or PostgreSQL index writer.

A URL's lease is completed only after its article has reached the sink, so a worker killed
at any moment loses nothing: its leases expire and another worker fetches those URLs again.
Delivery to the index is therefore at-least-once; index writes are keyed by article id, so a
repeat is harmless.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crawler.article import Article
from crawler.crawl import CrawlLoop, CrawlSummary
from crawler.distributed.frontier import (
    DEFAULT_PREFIX,
    Entry,
    Frontier,
    SharedRobotsCache,
    SharedThrottle,
    entry_for,
)
from crawler.fetch import Fetcher, utc_now
from crawler.robots import RobotsPolicy
from crawler.settings import CrawlSettings
from crawler.store import CrawlStore, FrontierItem, FrontierKind, Run
from crawler.urls import normalize_url

__all__ = ["SinkItem", "WorkerOptions", "WorkerSummary", "run_worker"]

log = logging.getLogger("innosearch.worker")

# What the sink receives, the item shape of `indexer.document.Item`: the article, when it was
# fetched, the HTTP status, and whether it is gone (a 404/410 took it down: delete it from the
# index).
SinkItem = tuple[Article, str | None, int | None, bool]
Sink = Callable[[list[SinkItem]], None]


@dataclass
class WorkerOptions:
    """How a worker paces itself; the defaults suit a real crawl, tests shorten them.

    ``lease``: seconds a claimed URL stays ours without a heartbeat (renewed every third of
    it), so a killed worker's URLs go back to the queue that long after it died.
    ``batch_size`` / ``batch_seconds``: articles are handed to the sink in batches of this many
    or this old, whichever comes first (one index commit per batch), and whenever the
    frontier has nothing for this worker. ``poll``: the longest sleep while waiting for work.
    ``refresh``: seconds between re-reads of the crawl's scope and limits (a later seed may
    widen them). ``max_urls``: stop after this many URLs (None: no limit).
    """

    prefix: str = DEFAULT_PREFIX
    lease: float = 120.0
    batch_size: int = 50
    batch_seconds: float = 10.0
    poll: float = 1.0
    refresh: float = 10.0
    max_urls: int | None = None
    worker_id: str = ""


@dataclass
class WorkerSummary:
    """What one worker did. ``articles`` counts articles handed to the sink (repeats after a
    lease was lost included); ``lost_leases`` counts URLs whose lease had expired before this
    worker completed them (another worker may have fetched them too)."""

    worker_id: str = ""
    urls: int = 0
    articles: int = 0
    gone: int = 0
    batches: int = 0
    lost_leases: int = 0
    crawl: CrawlSummary = field(default_factory=CrawlSummary)
    seconds: float = 0.0
    stopped: str = ""  # "done" (burst, frontier finished), "max_urls" or "stopped"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_worker(
    queue_url: str,
    settings: CrawlSettings,
    data_dir: str | Path,
    sink: Sink,
    burst: bool = False,
    *,
    options: WorkerOptions | None = None,
    stop: threading.Event | None = None,
    fetcher: Fetcher | None = None,
) -> WorkerSummary:
    """Crawls from the frontier at ``queue_url`` until ``stop`` is set, or with ``burst`` until
    the crawl is done (nothing queued and nothing in flight anywhere).

    ``settings`` are this machine's (user agent, timeouts, allow_local); the crawl's
    ``max_pages``, ``max_depth`` and ``delay`` come from the frontier (`seed` wrote them), the
    delay only ever raised. ``fetcher`` lets tests pass one with short backoffs; it must use a
    `SharedThrottle` of this frontier. Raises ValueError for a bad queue URL and
    redis.ConnectionError when Redis cannot be reached; an exception from ``sink`` ends the
    worker with its batch's leases not completed (they expire and are crawled again).
    """
    opts = options or WorkerOptions()
    worker_id = opts.worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    stop = stop or threading.Event()
    started = time.monotonic()
    frontier = Frontier.from_url(queue_url, opts.prefix)
    try:
        limits = frontier.limits(settings)
        seeds = frontier.seeds()
        store = CrawlStore(data_dir)
    except BaseException:
        frontier.redis.close()
        raise
    own_fetcher = fetcher is None
    if fetcher is None:
        hold = settings.connect_timeout + settings.read_timeout + settings.deadline
        fetcher = Fetcher(limits, throttle=SharedThrottle(frontier, limits.delay, hold=hold))
    run = store.start_run(seeds, utc_now()) if seeds else Run(id=0, resumed=False)
    summary = WorkerSummary(worker_id=worker_id)
    summary.crawl.resumed = run.resumed
    crawl = _WorkerCrawl(store, limits, fetcher, frontier, summary.crawl)
    leases = _Leases(frontier, opts.lease)
    batch = _Batch(sink, frontier, leases, summary)
    log.info(
        "worker %s started on %s",
        worker_id,
        frontier.prefix,
        extra={"event": "worker-start", "worker": worker_id},
    )
    next_refresh = time.monotonic() + opts.refresh
    try:
        while not stop.is_set():
            if opts.max_urls is not None and summary.urls >= opts.max_urls:
                summary.stopped = "max_urls"
                break
            if time.monotonic() >= next_refresh:
                crawl.refresh()
                next_refresh = time.monotonic() + opts.refresh
            claim = frontier.claim(worker_id, opts.lease)
            if claim.status == "url" and claim.entry is not None:
                leases.hold(claim.lease)
                batch.add(claim.lease, crawl.handle(claim.entry))
                summary.urls += 1
                if batch.due(opts.batch_size, opts.batch_seconds):
                    batch.flush()
                continue
            if batch.pending:
                batch.flush()  # our own leases count as in flight: complete them first
                continue
            if burst and claim.done:
                summary.stopped = "done"
                break
            pause = claim.wait if claim.status == "wait" else opts.poll
            stop.wait(min(opts.poll, max(0.01, pause)))
        else:
            summary.stopped = "stopped"
        batch.flush()
    finally:
        leases.close()
        if own_fetcher:
            fetcher.close()
        summary.seconds = round(time.monotonic() - started, 3)
        summary.crawl.seconds = summary.seconds
        if run.id:
            store.finish_run(run, utc_now(), summary.crawl.to_dict())
        store.close()
        frontier.redis.close()
    log.info(
        "worker %s stopped (%s): %d URLs, %d articles",
        worker_id,
        summary.stopped,
        summary.urls,
        summary.articles,
        extra={"event": "worker-stop", **summary.to_dict()},
    )
    return summary


class _WorkerCrawl(CrawlLoop):
    """The single-process crawl's per-URL work, with the frontier, throttle and robots.txt
    cache shared through Redis (see the module docstring)."""

    def __init__(
        self,
        store: CrawlStore,
        settings: CrawlSettings,
        fetcher: Fetcher,
        frontier: Frontier,
        summary: CrawlSummary,
    ) -> None:
        super().__init__(store, settings, fetcher, frontier.scope(), summary, None)
        self.frontier = frontier
        self.robots = SharedRobotsCache(
            fetcher, settings.user_agent, frontier, on_fetched=self.queue_sitemaps
        )
        self._discovered: list[Entry] = []
        self._outcome = ""

    def refresh(self) -> None:
        """Picks up a scope widened by a later seed, and the crawl's current limits."""
        self.scope = self.frontier.scope()
        limits = self.frontier.limits(self.settings)
        self.settings.max_depth = limits.max_depth
        self.settings.max_pages = limits.max_pages

    def handle(self, entry: Entry) -> list[SinkItem]:
        """Fetches and records one URL, queues what it links to, and returns what the index
        must learn from it (an article, or an article gone)."""
        kind: FrontierKind = "sitemap" if entry.kind == "sitemap" else "page"
        item = FrontierItem(entry.url, kind, entry.depth, entry.host, entry.lastmod)
        self._discovered = []
        self._outcome = ""
        moved = self.summary.articles_moved
        fetched = self.work(self.request(item))
        self.finish(fetched)  # records in the local store; the outcome arrives in _report
        if self._discovered:
            self.frontier.push(self._discovered)
        result, previous = fetched.result, fetched.request.previous
        if result is None:
            return []
        items: list[SinkItem] = []
        # The page's old article, taken down in the store: gone (404/410) or moved to a new id.
        retired = self._outcome == "gone" or self.summary.articles_moved > moved
        if retired and previous is not None and previous.article_id:
            gone = Article(url=entry.url, id=previous.article_id)
            items.append((gone, result.fetched_at, result.status, True))
        article = fetched.article
        if article is None or not self._outcome.startswith("article-"):
            return items
        if self._outcome == "article-duplicate":
            return items
        if article.url == article.canonical_url:
            self.frontier.claim_canonical(article.id)
        elif self.frontier.has_canonical(article.id):
            return items  # another worker already sent the canonical page's version
        return [*items, (article, result.fetched_at, result.status, False)]

    # -- the hooks of CrawlLoop ------------------------------------------------------------------

    def enqueue(
        self, url: str, *, depth: int, kind: FrontierKind = "page", lastmod: str | None = None
    ) -> None:
        self._discovered.append(entry_for(url, depth, kind, lastmod))

    def fetched_via(self, final_url: str, item: FrontierItem) -> None:
        self.frontier.mark_seen(final_url)

    def report(self, url: str, status: int, outcome: str) -> None:
        self._outcome = outcome
        counts = {"fetched": 1 if status else 0, "articles": int(outcome.startswith("article-"))}
        counts["disallowed"] = int(outcome == "disallowed")
        self.frontier.count(**counts)

    def queue_sitemaps(self, policy: RobotsPolicy) -> None:
        """The Sitemap lines of a robots.txt this worker fetched, queued once for the crawl."""
        entries = []
        for line in policy.sitemaps:
            url = normalize_url(line)
            if url is not None and self.scope.covers_host(url):
                entries.append(entry_for(url, 0, "sitemap"))
        if entries:
            self.frontier.push(entries)


class _Leases:
    """The leases this worker holds, renewed by a daemon thread every third of the lease."""

    def __init__(self, frontier: Frontier, lease: float) -> None:
        self.frontier = frontier
        self.lease = lease
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="innosearch-lease", daemon=True)
        self._thread.start()

    def hold(self, lease: str) -> None:
        with self._lock:
            self._held.add(lease)

    def complete(self, leases: Iterable[str]) -> int:
        """Completes the leases; returns how many had expired (lost) before."""
        done = list(leases)
        held = self.frontier.complete(done)
        with self._lock:
            self._held.difference_update(done)
        return len(done) - held

    def _beat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            with self._lock:
                held = list(self._held)
            try:
                self.frontier.renew(held, self.lease)
            except Exception:  # a missed beat must not kill the worker
                log.warning("could not renew leases", exc_info=True)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class _Batch:
    """Articles waiting for the sink, with the leases they complete once delivered."""

    def __init__(
        self, sink: Sink, frontier: Frontier, leases: _Leases, summary: WorkerSummary
    ) -> None:
        self.sink = sink
        self.frontier = frontier
        self.leases = leases
        self.summary = summary
        self.items: list[SinkItem] = []
        self.held: list[str] = []
        self.since = 0.0

    @property
    def pending(self) -> bool:
        return bool(self.held)

    def add(self, lease: str, items: list[SinkItem]) -> None:
        if not self.held:
            self.since = time.monotonic()
        self.held.append(lease)
        self.items.extend(items)

    def due(self, size: int, seconds: float) -> bool:
        return len(self.items) >= size or time.monotonic() - self.since >= seconds

    def flush(self) -> None:
        if not self.held:
            return
        if self.items:
            self.sink(list(self.items))
            self.summary.batches += 1
            self.summary.articles += sum(1 for item in self.items if not item[3])
            self.summary.gone += sum(1 for item in self.items if item[3])
        self.summary.lost_leases += self.leases.complete(self.held)
        self.items, self.held = [], []
