"""The crawl loop: robots.txt, then sitemaps, then seeds and in-scope links, breadth-first.

``crawl(seeds, store, settings)`` is the whole public surface. What it promises:

- polite: robots.txt is read before anything else on a host, a disallowed URL is never
  requested (redirect targets included), and requests to one host are at least
  ``max(settings.delay, Crawl-delay)`` seconds apart;
- incremental: a page fetched before is asked for conditionally (ETag / Last-Modified); a 304,
  or a 200 with the same bytes, costs no re-extraction; links are then re-read from the stored
  body so the crawl still reaches new pages behind an unchanged one;
- nothing stale: a known article no link leads to any more is still asked for (conditionally)
  once its page was last fetched ``settings.revisit_days`` ago, oldest first, so a story taken
  down and unlinked leaves the index when its page answers 404 or 410. Revalidation shares
  ``max_pages`` with the links: a host with both alternates between them until revalidation
  has had half of ``max_pages`` (so a site larger than ``max_pages`` is still revisited). A
  page robots.txt now disallows is not asked for, and its article stays as last fetched
  (counted as disallowed): robots.txt says where not to crawl, not that a story is gone;
- one document per article: the article id comes from the page's canonical URL (same site
  only), so a print version or a URL with a stray parameter updates the same article; a page
  that moved (a redirect to a new URL, or a new canonical URL) takes its old document down;
- resumable: the frontier lives in the store and each page is committed with its frontier
  state in one transaction, so a crawl killed at any moment continues, when started again with
  the same seeds, from the first page not yet committed.

Concurrency: up to ``settings.workers`` hosts are crawled at once, one request in flight per
host. Worker threads fetch and extract (robots.txt included); the calling thread alone reads and
writes the store, so SQLite sees one writer and every page still commits in one transaction.
A page whose fetch was in flight when the crawl died is simply fetched again on resume.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin

from crawler.article import Article, article_id, site_of
from crawler.extract import extract_page, parse_html
from crawler.extract.classify import Verdict, classify
from crawler.feeds import looks_like_feed, parse_feed
from crawler.fetch import (
    CRAWL_TYPES,
    FEED_TYPES,
    HTML_TYPES,
    SITEMAP_TYPES,
    Fetcher,
    FetchResult,
    utc_now,
)
from crawler.robots import RobotsCache
from crawler.settings import CrawlSettings
from crawler.sitemap import decompress, parse_sitemap
from crawler.store import CrawlStore, FrontierItem, FrontierKind, PageState
from crawler.urls import Scope, host_key, looks_like_binary, normalize_seeds, normalize_url

__all__ = [
    "CrawlLoop",
    "CrawlProgress",
    "CrawlSummary",
    "FetchedPage",
    "PageInfo",
    "PageRequest",
    "crawl",
    "page_article",
    "read_page",
    "store_article",
]

_GZIP_TYPES = SITEMAP_TYPES - FEED_TYPES
# A seed may be a page, a feed or a (gzipped) sitemap: configured feeds and sitemaps are handed
# to `crawl` as seeds, and what they are is only known once fetched.
_SEED_TYPES = SITEMAP_TYPES | HTML_TYPES
# How many queued URLs the scheduler looks at when choosing a host that is ready.
_LOOKAHEAD = 64
# Outcomes of a revalidated page that found its article as stored.
_UNCHANGED = frozenset({"not-modified", "unchanged", "article-unchanged"})


@dataclass
class CrawlProgress:
    """Reported after every URL handled, for a progress line or a log."""

    url: str
    status: int
    outcome: str  # article-new, article-updated, page, not-modified, unchanged, gone, error...
    pages_fetched: int
    queued: int
    articles_new: int
    errors: int
    rate: float = 0.0  # pages fetched per second since the crawl started
    revalidated: int = 0
    articles_gone: int = 0


@dataclass
class CrawlSummary:
    """What one `crawl` call did. ``pages_fetched`` counts page requests that got an answer,
    304s included; ``not_modified`` is the part of them answered 304. ``errors`` counts page
    fetches that gave no usable page (network failure, 4xx, 5xx, too large or too slow).

    ``articles_gone`` counts articles taken down by a 404 or 410, ``articles_moved`` old
    documents replaced by their page's new URL. ``revalidated`` counts known articles asked for
    although no link led to them (part of ``pages_fetched``): ``revalidated_unchanged`` of them
    were as stored (a 304, or the same article), ``revalidated_gone`` answered 404 or 410 (part
    of ``articles_gone``). ``extraction_errors`` counts pages the extractor failed on (logged
    with the URL; `innosearch why URL` shows the error): a bug to report, not a bad page."""

    pages_fetched: int = 0
    not_modified: int = 0
    sitemaps_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_gone: int = 0
    articles_moved: int = 0
    revalidated: int = 0
    revalidated_unchanged: int = 0
    revalidated_gone: int = 0
    errors: int = 0
    extraction_errors: int = 0
    disallowed: int = 0
    seconds: float = 0.0
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failure(self) -> str | None:
        """Why this crawl counts as failed, or None: no page gave a usable answer."""
        if self.errors and self.errors >= self.pages_fetched:
            return f"no usable page: {self.errors} fetch errors, {self.pages_fetched} answers"
        if not self.pages_fetched and not self.sitemaps_fetched and not self.resumed:
            if self.disallowed:
                return (
                    f"nothing fetched: {self.disallowed} URLs refused by robots.txt "
                    "(or robots.txt itself could not be fetched: is the site up?)"
                )
            return "nothing fetched"
        return None


# -- reading a page ---------------------------------------------------------------------------


@dataclass
class PageInfo:
    """What the crawler itself needs from an HTML page (the extractor does the rest)."""

    links: list[str] = field(default_factory=list)  # absolute, un-normalised, in page order
    feeds: list[str] = field(default_factory=list)  # <link rel=alternate> RSS/Atom
    noindex: bool = False
    nofollow: bool = False


def read_page(page: bytes | str | Any, url: str, content_type: str | None = None) -> PageInfo:
    """Links, feeds and robots meta directives of an HTML page: its bytes, or the document
    `crawler.extract.parse_html` made of them (read it before the extractor cleans it)."""
    info = PageInfo()
    doc = parse_html(page, content_type) if isinstance(page, bytes | bytearray | str) else page
    if doc is None:
        return info
    base = url
    for element in doc.iter("base"):
        if element.get("href"):
            base = normalize_url(element.get("href", ""), url) or url
            break
    for meta in doc.iter("meta"):
        if (meta.get("name") or "").lower() in ("robots", "innosearch"):
            directives = (meta.get("content") or "").lower()
            info.noindex = info.noindex or "noindex" in directives or "none" in directives
            info.nofollow = info.nofollow or "nofollow" in directives or "none" in directives
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        if "alternate" in rel and kind in FEED_TYPES and link.get("href"):
            info.feeds.append(_join(base, link.get("href", "")))
        elif ("next" in rel or "prev" in rel) and link.get("href"):
            # Pagination declared in the head: page 2 of a section may be linked nowhere else.
            info.links.append(_join(base, link.get("href", "")))
    for anchor in doc.iter("a", "area"):
        href = anchor.get("href")
        if href and "nofollow" not in (anchor.get("rel") or "").lower():
            info.links.append(_join(base, href))
    return info


def _join(base: str, href: str) -> str:
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return ""


def page_article(
    body: bytes, page_url: str, headers: dict[str, str]
) -> tuple[Article | None, PageInfo, Verdict]:
    """The article an HTML page holds (None for a listing, a short or a noindex page), the
    page's own information (links, feeds) and the verdict with its reason
    (`crawler.extract.classify`).
    Pure: no store, no network, so re-extraction from the WARC archive reaches the same
    decision as the crawl did. The page is parsed once: links are read from the document
    before the extractor cleans it.

    The article's id comes from its canonical URL when that is on the same site (one document
    per article, however many URLs lead to it); ``canonical_url`` is set to that document URL,
    and a canonical URL on another site is kept as ``original_url`` (the copy's source).
    """
    content_type = headers.get("content-type") or None
    doc = parse_html(body, content_type)
    page = read_page(doc, page_url)
    noindex = page.noindex or "noindex" in headers.get("x-robots-tag", "").lower()
    extraction = extract_page(doc, url=page_url)
    if extraction.error is not None:
        return None, page, Verdict(False, f"extraction failed: {extraction.error}")
    verdict = classify(extraction, page_url, noindex=noindex)
    if not verdict.article:
        return None, page, verdict
    article = extraction.article
    canonical = normalize_url(article.canonical_url or "", page_url)
    doc_url = canonical if canonical and site_of(canonical) == site_of(page_url) else page_url
    if canonical and doc_url != canonical:
        article.original_url = canonical  # a syndicated copy naming its source
    article.url = page_url
    article.canonical_url = doc_url
    article.id = article_id(doc_url)
    return article, page, verdict


def store_article(store: CrawlStore, article: Article, *, fetched_at: str, http_status: int) -> str:
    """Writes ``article`` unless it is a duplicate; returns new, updated, unchanged or duplicate.

    The canonical page always writes; a duplicate (a print version, a URL with a stray
    parameter) only fills in until the canonical page has been fetched, so two URLs of one
    article do not overwrite each other every run.
    """
    page_url, doc_url = article.url, article.canonical_url
    source = store.article_source(article.id)
    if source is not None and not source[1] and page_url != doc_url and source[0] != page_url:
        return "duplicate"
    return store.write_article(article, fetched_at=fetched_at, http_status=http_status)


def _kind_of(content_type: str, body: bytes, frontier_kind: str) -> str:
    """'html' or 'xml' (sitemap, feed, gzip), sniffing the body when the server sent no type."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in HTML_TYPES:
        return "html"
    if media in FEED_TYPES or media in _GZIP_TYPES or frontier_kind == "sitemap":
        return "xml"
    head = body[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"\x1f\x8b", b"<urlset", b"<rss", b"<feed")):
        return "xml"
    return "html"


def _accepted(item: FrontierItem) -> frozenset[str]:
    if item.kind == "sitemap":
        return SITEMAP_TYPES
    return _SEED_TYPES if item.depth == 0 else CRAWL_TYPES


def _content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# -- the crawl --------------------------------------------------------------------------------


def crawl(
    seeds: list[str],
    store: CrawlStore,
    settings: CrawlSettings,
    progress: Callable[[CrawlProgress], None] | None = None,
    *,
    path_prefixes: tuple[str, ...] = (),
    fetcher: Fetcher | None = None,
    site: str = "",
    hosts: Sequence[str] = (),
) -> CrawlSummary:
    """Crawls from ``seeds`` into ``store`` and returns what changed.

    The scope is the seeds' hosts (``www.`` or not), optionally narrowed to ``path_prefixes``.
    Called again with the same seeds after a kill, it resumes the unfinished run; otherwise it
    starts a fresh, incremental run. ``fetcher`` lets tests pass one with short backoffs (it is
    shared by the worker threads, each with its own session). ``progress`` is called from the
    calling thread after every URL handled. Raises ValueError for a seed that is not an
    http(s) URL.

    The run goes into the store's history under ``site`` and ``hosts`` (by default the first
    seed's host and the seeds' hosts), failed when `CrawlSummary.failure` says so or when the
    crawl raised (the next crawl then starts afresh; a killed one resumes).
    """
    started = time.monotonic()
    normalized = normalize_seeds(seeds)
    scope = Scope.from_seeds(normalized, path_prefixes)
    run = store.start_run(normalized, utc_now(), site, hosts)
    summary = CrawlSummary(resumed=run.resumed)
    active = fetcher if fetcher is not None else Fetcher(settings)

    def finish(error: str | None) -> None:
        summary.seconds = round(time.monotonic() - started, 3)
        store.finish_run(run, utc_now(), summary.to_dict(), error)

    try:
        with nullcontext() if fetcher is not None else closing(active):
            CrawlLoop(store, settings, active, scope, summary, progress).run(normalized)
    except Exception as e:  # recorded, then raised; a kill or Ctrl-C leaves the run to resume
        finish(f"{type(e).__name__}: {e}")
        raise
    finish(summary.failure())
    return summary


@dataclass
class PageRequest:
    """One frontier URL handed to a worker, with what the store knew about it."""

    item: FrontierItem
    previous: PageState | None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchedPage:
    """What a worker brings back: the response and the CPU work done on it off the main thread.

    ``article``, ``page`` and ``verdict`` are only filled for a changed HTML page (digest
    differs from the stored one); ``disallowed`` means robots.txt forbade the URL and nothing
    was requested.
    """

    request: PageRequest
    result: FetchResult | None = None
    disallowed: bool = False
    digest: str = ""
    page: PageInfo | None = None
    article: Article | None = None
    verdict: Verdict | None = None
    extracted: bool = False


class CrawlLoop:
    """The state of one crawl call, and its per-URL steps.

    `crawl` drives it over the SQLite frontier. The distributed worker
    (`crawler.distributed.worker`) drives the same steps one URL at a time, `request` -> `work`
    -> `finish`, and overrides the hooks where a shared frontier differs: `enqueue` (a
    discovered URL), `fetched_via` (a redirect's final URL), `report` (one URL's outcome) and
    `queue_sitemaps` (a robots.txt's Sitemap lines).
    """

    def __init__(
        self,
        store: CrawlStore,
        settings: CrawlSettings,
        fetcher: Fetcher,
        scope: Scope,
        summary: CrawlSummary,
        progress: Callable[[CrawlProgress], None] | None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.fetcher = fetcher
        self.scope = scope
        self.summary = summary
        self.progress = progress
        self.robots = RobotsCache(fetcher, settings.user_agent)
        self.started = time.monotonic()

    # -- politeness (called from worker threads) ----------------------------------------------

    def _policy_ready(self, url: str) -> None:
        """Reads the host's robots.txt once, before anything else is fetched there."""
        if not self.settings.obey_robots or self.robots.is_cached(url):
            return
        delay = self.robots.crawl_delay(url)  # fetches robots.txt
        if delay is not None:
            self.fetcher.throttle.set_delay(host_key(url), delay)

    def _allowed(self, url: str) -> bool:
        if not self.settings.obey_robots:
            return True
        self._policy_ready(url)
        return self.robots.allowed(url)

    def _may_follow(self, target: str) -> bool:
        """Redirect targets get the same checks as links: in scope and allowed."""
        url = normalize_url(target)
        return url is not None and url in self.scope and self._allowed(url)

    # -- the loop -----------------------------------------------------------------------------

    def run(self, seeds: list[str]) -> None:
        with self.store.transaction():
            for seed in seeds:
                self.store.enqueue(seed, depth=0, host=host_key(seed))
        # Robots first per seed host, then its sitemaps: the Sitemap lines of robots.txt and the
        # conventional /sitemap.xml. Enqueueing is idempotent, so a resumed run repeats this.
        for seed in seeds:
            candidates: list[str] = []
            if self.settings.obey_robots:
                self._policy_ready(seed)
                candidates.extend(self.robots.sitemaps(seed))
            origin = seed.split("/", 3)
            candidates.append(f"{origin[0]}//{origin[2]}/sitemap.xml")
            with self.store.transaction():
                for candidate in candidates:
                    url = normalize_url(candidate)
                    if url is not None and self.scope.covers_host(url):
                        self.store.enqueue(url, depth=0, host=host_key(url), kind="sitemap")
        self._queue_revalidation()
        workers = max(1, self.settings.workers)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="innosearch-crawl")
        inflight: dict[Future[FetchedPage], PageRequest] = {}
        try:
            while True:
                self._start(pool, inflight, workers)
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    inflight.pop(future)
                    self.finish(future.result())
        finally:
            # On an interrupt, requests in flight finish (each within its deadline) but are
            # not recorded: the resumed run asks for them again.
            pool.shutdown(wait=True, cancel_futures=True)

    def _queue_revalidation(self) -> None:
        """Queues the known articles due for revalidation (`CrawlSettings.revisit_days`) on
        this crawl's hosts and paths, least recently fetched first, at most ``max_pages``."""
        days = self.settings.revisit_days
        # 0 days: every article this run has not seen; "~" sorts after every timestamp.
        before = utc_now(-days * 86400) if days > 0 else "~"
        sites = {site_of(f"http://{host}/") for host in self.scope.hosts}
        chosen: list[tuple[str, str]] = []
        for url in self.store.revalidation_due(sites, before):
            if len(chosen) >= self.settings.max_pages:
                break
            if url not in self.scope:
                continue
            if not self._allowed(url):
                self.summary.disallowed += 1
                continue
            chosen.append((url, host_key(url)))
        with self.store.transaction():
            # At the deepest level: a revalidated page's links are not followed.
            self.store.enqueue_revalidation(chosen, depth=self.settings.max_depth)

    def _start(
        self,
        pool: ThreadPoolExecutor,
        inflight: dict[Future[FetchedPage], PageRequest],
        workers: int,
    ) -> None:
        """Hands queued URLs to free workers: one per host, readiest hosts first.

        Of the page budget (max_pages), revalidation gets a fair share while it has work: a
        host with both linked pages and revalidation queued alternates between them until
        revalidation has had half of max_pages; then links go first again.
        """
        if len(inflight) >= workers:
            return
        pages_inflight = sum(1 for r in inflight.values() if r.item.kind == "page")
        requested, revalidated = self.store.budget_used()
        budget = self.settings.max_pages - requested - pages_inflight
        if budget <= 0:
            return
        revalidating = revalidated + sum(1 for r in inflight.values() if r.item.revalidate)
        linking = requested + pages_inflight - revalidating
        share = self.settings.max_pages // 2
        busy = {request.item.host for request in inflight.values()}
        candidates: dict[str, FrontierItem] = {}
        for item in self.store.queued(_LOOKAHEAD, busy):
            candidates.setdefault(item.host, item)
        revisits: dict[str, FrontierItem] = {}
        for item in self.store.queued(_LOOKAHEAD, busy, revalidation_only=True):
            revisits.setdefault(item.host, item)
            candidates.setdefault(item.host, item)  # a host beyond the links' lookahead
        throttle = self.fetcher.throttle
        for item in sorted(candidates.values(), key=lambda i: throttle.ready_at(i.host)):
            if len(inflight) >= workers or budget <= 0:
                return
            revisit = revisits.get(item.host)
            linked_page = item.kind == "page" and not item.revalidate
            if linked_page and revisit is not None and revalidating < min(linking, share):
                item = revisit
            request = self.request(item)
            inflight[pool.submit(self.work, request)] = request
            if item.kind == "page":
                budget -= 1
                revalidating += item.revalidate
                linking += not item.revalidate

    def request(self, item: FrontierItem) -> PageRequest:
        previous = self.store.page_state(item.url)
        # Conditional only when the stored body can stand in for the page: links are re-read
        # from it after a 304.
        conditional = (
            previous is not None
            and previous.content_hash is not None
            and self.store.has_raw(item.url)
        )
        return PageRequest(
            item=item,
            previous=previous,
            etag=previous.etag if conditional and previous else None,
            last_modified=previous.last_modified if conditional and previous else None,
        )

    def work(self, request: PageRequest) -> FetchedPage:
        """A worker's share: robots.txt, the fetch, and extraction of a changed HTML page."""
        item = request.item
        if not self._allowed(item.url):
            return FetchedPage(request, disallowed=True)
        result = self.fetcher.fetch(
            item.url,
            etag=request.etag,
            last_modified=request.last_modified,
            accept=_accepted(item),
            may_follow=self._may_follow,
        )
        fetched = FetchedPage(request, result=result)
        if result.error is None and 200 <= result.status < 300:
            fetched.digest = _content_hash(result.body)
            previous = request.previous
            changed = previous is None or previous.content_hash != fetched.digest
            content_type = result.headers.get("content-type", "")
            if changed and _kind_of(content_type, result.body, item.kind) == "html":
                final_url = normalize_url(result.final_url) or item.url
                fetched.article, fetched.page, fetched.verdict = page_article(
                    result.body, final_url, result.headers
                )
                fetched.extracted = True
        return fetched

    def finish(self, fetched: FetchedPage) -> None:
        url = fetched.request.item.url
        if fetched.disallowed or fetched.result is None:
            with self.store.transaction():
                self.store.mark(url, "failed", "skipped: disallowed by robots.txt")
            self.summary.disallowed += 1
            self.report(url, 0, "disallowed")
            return
        with self.store.transaction():
            outcome = self._record(fetched)
        if fetched.request.item.revalidate and fetched.result.status:
            self.summary.revalidated += 1
            self.summary.revalidated_unchanged += outcome in _UNCHANGED
            self.summary.revalidated_gone += outcome == "gone"
        self.report(url, fetched.result.status, outcome)

    def report(self, url: str, status: int, outcome: str) -> None:
        if self.progress is None:
            return
        counts = self.store.frontier_counts()
        elapsed = time.monotonic() - self.started
        self.progress(
            CrawlProgress(
                url=url,
                status=status,
                outcome=outcome,
                pages_fetched=self.summary.pages_fetched,
                queued=counts["queued"],
                articles_new=self.summary.articles_new,
                errors=self.summary.errors,
                rate=round(self.summary.pages_fetched / elapsed, 2) if elapsed > 0 else 0.0,
                revalidated=self.summary.revalidated,
                articles_gone=self.summary.articles_gone,
            )
        )

    # -- one response -------------------------------------------------------------------------

    def _record(self, fetched: FetchedPage) -> str:
        """Everything one response changes, inside the caller's transaction; returns the outcome."""
        item, previous = fetched.request.item, fetched.request.previous
        result = fetched.result
        assert result is not None
        url, store, summary = item.url, self.store, self.summary
        is_page = item.kind == "page"
        if is_page and result.status:
            summary.pages_fetched += 1
        elif result.status:
            summary.sitemaps_fetched += 1

        if result.error is not None and (result.status == 0 or 200 <= result.status < 300):
            skipped = result.error.startswith("unwanted content type")
            if not skipped and is_page:
                summary.errors += 1
            store.mark(url, "done" if skipped else "failed", result.error, requested=True)
            return "skipped" if skipped else "error"
        if result.error is not None and result.error.startswith("redirect to"):
            store.mark(url, "done", result.error, requested=True)
            return "redirect-not-followed"  # out of scope or disallowed: not the site's fault
        if result.error is not None:  # a redirect loop or a chain too long: recorded, not kept
            if is_page:
                summary.errors += 1
            self._record_state(item, previous, result, article_id=None)
            store.mark(url, "failed", result.error, requested=True)
            return "redirect-loop" if "loop" in result.error else "error"

        final_url = normalize_url(result.final_url) or url
        if final_url != url:
            self.fetched_via(final_url, item)

        if result.not_modified and previous is not None:
            summary.not_modified += 1
            raw = store.raw(url)
            if raw is None and previous.content_hash is not None:
                # The archived body is damaged or lost, so links behind this page cannot be
                # re-read: forget the validators and ask once more, in full, in this run.
                previous.content_hash = previous.etag = previous.last_modified = None
                store.record_page(previous, item.kind)
                store.mark(url, "queued", "archived body unreadable: refetching", requested=True)
                return "refetch"
            previous.status = previous.status or 200
            previous.fetched_at = result.fetched_at
            previous.etag = result.headers.get("etag", previous.etag)
            previous.last_modified = result.headers.get("last-modified", previous.last_modified)
            store.record_page(previous, item.kind)
            if raw is not None:
                body, headers = raw
                self._discover(item, final_url, body, headers.get("content-type", ""))
            store.mark(url, "done", "not modified", requested=True)
            return "not-modified"

        if not 200 <= result.status < 300:
            return self._record_failure(item, previous, result)

        state = PageState(
            url=url,
            final_url=final_url,
            status=result.status,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
            content_hash=fetched.digest,
            content_type=result.headers.get("content-type"),
            fetched_at=result.fetched_at,
            article_id=previous.article_id if previous else None,
            # Why the page is or is not an article: unchanged bytes keep the last verdict.
            note=previous.note if previous else None,
        )
        store.save_raw(
            url,
            final_url=final_url,
            fetched_at=result.fetched_at,
            status=result.status,
            headers=result.headers,
            body=result.body,
        )
        outcome = "page"
        if fetched.verdict is not None:
            state.note = fetched.verdict.reason
            if fetched.verdict.reason.startswith("extraction failed"):
                summary.extraction_errors += 1
        content_type = result.headers.get("content-type", "")
        if not fetched.extracted:
            if previous is not None and previous.content_hash == fetched.digest:
                outcome = "unchanged"  # same bytes: nothing to re-extract, links still matter
        elif fetched.article is not None:
            outcome = self._record_article(item, fetched.article, result, state)
            if self._retire_moved(item, previous, state, result) and outcome == "article-new":
                summary.articles_new -= 1
                outcome = "article-moved"
        store.record_page(state, item.kind)
        self._discover(item, final_url, result.body, content_type, fetched.page)
        store.mark(url, "done", requested=True)
        return outcome if is_page else "sitemap"

    def _record_state(
        self,
        item: FrontierItem,
        previous: PageState | None,
        result: FetchResult,
        article_id: str | None,
    ) -> None:
        """The per-URL state of an answer that gave no usable body (so no conditional next time)."""
        self.store.record_page(
            PageState(
                url=item.url,
                final_url=normalize_url(result.final_url) or item.url,
                status=result.status,
                etag=None,
                last_modified=None,
                content_hash=None,
                content_type=result.headers.get("content-type"),
                fetched_at=result.fetched_at,
                article_id=article_id,
            ),
            item.kind,
        )

    def _record_failure(
        self, item: FrontierItem, previous: PageState | None, result: FetchResult
    ) -> str:
        store, summary = self.store, self.summary
        if item.kind == "page":
            summary.errors += 1
        outcome = "error"
        if result.status in (404, 410) and previous is not None and previous.article_id:
            source = store.article_source(previous.article_id)
            # Only the page the stored version came from can take the article down; a
            # duplicate URL going away leaves the canonical page's article alone.
            from_here = source is not None and source[0] in (item.url, previous.final_url)
            if from_here and store.mark_gone(
                previous.article_id, fetched_at=result.fetched_at, http_status=result.status
            ):
                summary.articles_gone += 1
                outcome = "gone"
        self._record_state(item, previous, result, previous.article_id if previous else None)
        store.mark(item.url, "failed", f"HTTP {result.status}", requested=True)
        return outcome

    def _retire_moved(
        self, item: FrontierItem, previous: PageState | None, state: PageState, result: FetchResult
    ) -> bool:
        """Takes down the article this page used to hold when it now holds one under another id
        (it moved: a redirect to a new URL, or a new canonical URL), so that one article stays
        one document. Only the page the old version came from can retire it. True if retired."""
        old = previous.article_id if previous is not None else None
        if previous is None or not old or old == state.article_id:
            return False
        source = self.store.article_source(old)
        if source is None or source[0] not in (item.url, previous.final_url):
            return False
        if not self.store.mark_gone(old, fetched_at=result.fetched_at, http_status=result.status):
            return False
        self.summary.articles_moved += 1
        return True

    def _record_article(
        self, item: FrontierItem, article: Article, result: FetchResult, state: PageState
    ) -> str:
        doc_url = article.canonical_url or article.url
        state.article_id = article.id
        if doc_url != article.url and doc_url in self.scope:
            self.enqueue(doc_url, depth=item.depth)
        written = store_article(
            self.store, article, fetched_at=result.fetched_at, http_status=result.status
        )
        if written == "new":
            self.summary.articles_new += 1
        elif written == "updated":
            self.summary.articles_updated += 1
        return f"article-{written}"

    # -- discovery ----------------------------------------------------------------------------

    def _discover(
        self,
        item: FrontierItem,
        base: str,
        body: bytes,
        content_type: str,
        page: PageInfo | None = None,
    ) -> None:
        """Queues what a page, sitemap or feed links to (in scope, within depth)."""
        if _kind_of(content_type, body, item.kind) == "xml":
            self._discover_sitemap(item, base, body)
            return
        if item.depth >= self.settings.max_depth:
            return
        if page is None:
            page = read_page(body, base, content_type or None)
        if not page.nofollow:
            for link in page.links:
                self._enqueue_link(link, item.depth + 1)
        for feed in page.feeds:
            url = normalize_url(feed)
            if url is not None and url in self.scope:
                self.enqueue(url, depth=item.depth + 1, kind="sitemap")

    def _discover_sitemap(self, item: FrontierItem, base: str, body: bytes) -> None:
        """A sitemap, sitemap index or feed: feeds go to feedparser, sitemaps to our parser."""
        data = decompress(body, self.settings.max_bytes)
        if looks_like_feed(data):
            if item.depth + 1 > self.settings.max_depth:
                return
            for entry in parse_feed(data, base_url=base).entries:
                self._enqueue_link(entry.link, item.depth + 1, lastmod=entry.updated)
            return
        sitemap = parse_sitemap(data, base_url=base, max_bytes=self.settings.max_bytes)
        for child in sitemap.sitemaps:
            url = normalize_url(child.loc)
            # Index nesting is one level in the protocol; depth keeps a loop of indexes finite.
            if url is not None and self.scope.covers_host(url) and item.depth < 2:
                self.enqueue(url, depth=item.depth + 1, kind="sitemap")
        if item.depth + 1 > self.settings.max_depth:
            return
        for entry in sitemap.urls:
            self._enqueue_link(entry.loc, item.depth + 1, lastmod=entry.lastmod)

    def _enqueue_link(self, link: str, depth: int, lastmod: str | None = None) -> None:
        url = normalize_url(link) if link else None
        if url is None or url not in self.scope or looks_like_binary(url):
            return
        self.enqueue(url, depth=depth, lastmod=lastmod)

    # -- the frontier (overridden by the distributed worker) ---------------------------------

    def enqueue(
        self, url: str, *, depth: int, kind: FrontierKind = "page", lastmod: str | None = None
    ) -> None:
        """Queues a normalised, in-scope URL (the frontier skips one it has seen)."""
        self.store.enqueue(url, depth=depth, host=host_key(url), kind=kind, lastmod=lastmod)

    def fetched_via(self, final_url: str, item: FrontierItem) -> None:
        """A redirect target fetched on behalf of ``item``: recorded so it is not queued again."""
        self.store.enqueue(final_url, depth=item.depth, host=host_key(final_url), kind=item.kind)
        self.store.mark(final_url, "done", f"fetched via {item.url}")
