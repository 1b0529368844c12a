"""The crawl loop: robots.txt, then sitemaps, then seeds and in-scope links, breadth-first.

``crawl(seeds, store, settings)`` is the whole public surface. What it promises:

- polite: robots.txt is read before anything else on a host, a disallowed URL is never
  requested (redirect targets included), and requests to one host are at least
  ``max(settings.delay, Crawl-delay)`` seconds apart;
- incremental: a page fetched before is asked for conditionally (ETag / Last-Modified); a 304,
  or a 200 with the same bytes, costs no re-extraction; links are then re-read from the stored
  body so the crawl still reaches new pages behind an unchanged one;
- one document per article: the article id comes from the page's canonical URL (same site
  only), so a print version or a URL with a stray parameter updates the same article;
- resumable: the frontier lives in the store and each page is committed with its frontier
  state in one transaction, so a crawl killed at any moment continues, when started again with
  the same seeds, from the first page not yet committed.

Pages are handled one at a time; per-host concurrency is a later issue. Until then the loop
picks, among the next queued URLs, one whose host is ready, so one slow host does not stall the
others more than it must.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin

from lxml import html as lxml_html
from lxml.etree import ParserError

from crawler.article import Article, article_id, site_of
from crawler.encoding import decode_html
from crawler.extract import extract
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
from crawler.sitemap import parse_sitemap
from crawler.store import CrawlStore, FrontierItem, PageState, Run
from crawler.urls import Scope, host_key, looks_like_binary, normalize_url

__all__ = [
    "MAX_CONTENT_LINK_DENSITY",
    "MIN_ARTICLE_CHARS",
    "CrawlProgress",
    "CrawlSummary",
    "PageInfo",
    "crawl",
    "is_article",
    "read_page",
]

# -- when is a page an article ----------------------------------------------------------------
# Kept small on purpose (tune the numbers, not the logic). An article has at least
# MIN_ARTICLE_CHARS of extracted text, and its page is not a listing. A listing (front page,
# section page, tag page) can carry as much prose as an article in its teasers, so length alone
# cannot tell them apart; what gives it away is the links in the content area (the body without
# nav, header, footer and aside): they carry a large share of its text, or there are many
# headline links (anchor text of HEADLINE_CHARS or more) for the amount of text extracted.
MIN_ARTICLE_CHARS = 300
MAX_CONTENT_LINK_DENSITY = 0.2
HEADLINE_CHARS = 25
CHARS_PER_HEADLINE_LINK = 250

_FURNITURE_TAGS = ("nav", "header", "footer", "aside", "script", "style", "noscript", "template")
_GZIP_TYPES = SITEMAP_TYPES - FEED_TYPES
_WS = re.compile(r"\s+")
_UTF8_PARSER = lxml_html.HTMLParser(encoding="utf-8")
# How many queued URLs the scheduler looks at when choosing a host that is ready.
_LOOKAHEAD = 64


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


@dataclass
class CrawlSummary:
    """What one `crawl` call did. ``pages_fetched`` counts page requests that got an answer,
    304s included; ``not_modified`` is the part of them answered 304. ``errors`` counts page
    fetches that gave no usable page (network failure, 4xx, 5xx, too large or too slow)."""

    pages_fetched: int = 0
    not_modified: int = 0
    sitemaps_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_gone: int = 0
    errors: int = 0
    disallowed: int = 0
    seconds: float = 0.0
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading a page ---------------------------------------------------------------------------


@dataclass
class PageInfo:
    """What the crawler itself needs from an HTML page (the extractor does the rest)."""

    links: list[str] = field(default_factory=list)  # absolute, un-normalised, in page order
    feeds: list[str] = field(default_factory=list)  # <link rel=alternate> RSS/Atom
    noindex: bool = False
    nofollow: bool = False
    content_link_density: float = 0.0
    headline_links: int = 0


def _text_len(text: str | None) -> int:
    return len(_WS.sub("", text or ""))


def read_page(body: bytes, url: str, content_type: str | None = None) -> PageInfo:
    """Links, feeds, robots meta directives and listing signals of an HTML page."""
    info = PageInfo()
    text = decode_html(body, content_type)
    if not text.strip():
        return info
    try:
        # Decoded once by the page's own rules (crawler.encoding), then handed to lxml as UTF-8
        # with the encoding fixed: left to itself lxml would obey a <meta charset> that no
        # longer describes these bytes.
        doc = lxml_html.document_fromstring(text.encode("utf-8"), parser=_UTF8_PARSER, base_url=url)
    except (ParserError, ValueError):
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
    for anchor in doc.iter("a", "area"):
        href = anchor.get("href")
        if href and "nofollow" not in (anchor.get("rel") or "").lower():
            info.links.append(_join(base, href))

    body_el = doc.find("body")
    if body_el is not None:
        for element in list(body_el.iter(*_FURNITURE_TAGS)):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
        total = _text_len(body_el.text_content())
        linked = 0
        for anchor in body_el.iter("a"):
            length = _text_len(anchor.text_content())
            linked += length
            if length >= HEADLINE_CHARS:
                info.headline_links += 1
        info.content_link_density = linked / total if total else 0.0
    return info


def _join(base: str, href: str) -> str:
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return ""


def is_article(article: Article, page: PageInfo) -> bool:
    """Whether a page holds one article rather than a list of them (see the constants above)."""
    length = len(article.text.strip())
    if length < MIN_ARTICLE_CHARS:
        return False
    if page.content_link_density > MAX_CONTENT_LINK_DENSITY:
        return False
    return page.headline_links * CHARS_PER_HEADLINE_LINK <= length


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


def _content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# -- the crawl --------------------------------------------------------------------------------


def _normalize_seeds(seeds: list[str]) -> list[str]:
    normalized: list[str] = []
    for seed in seeds:
        url = normalize_url(seed)
        if url is None:
            raise ValueError(f"not an http(s) URL: {seed!r}")
        if url not in normalized:
            normalized.append(url)
    if not normalized:
        raise ValueError("no seed URLs given")
    return normalized


def crawl(
    seeds: list[str],
    store: CrawlStore,
    settings: CrawlSettings,
    progress: Callable[[CrawlProgress], None] | None = None,
    *,
    path_prefixes: tuple[str, ...] = (),
    fetcher: Fetcher | None = None,
) -> CrawlSummary:
    """Crawls from ``seeds`` into ``store`` and returns what changed.

    The scope is the seeds' hosts (``www.`` or not), optionally narrowed to ``path_prefixes``.
    Called again with the same seeds after a kill, it resumes the unfinished run; otherwise it
    starts a fresh, incremental run. ``fetcher`` lets tests pass one with short backoffs.
    Raises ValueError for a seed that is not an http(s) URL.
    """
    started = time.monotonic()
    normalized = _normalize_seeds(seeds)
    scope = Scope.from_seeds(normalized, path_prefixes)
    run = store.start_run(normalized, utc_now())
    summary = CrawlSummary(resumed=run.resumed)
    own_fetcher = fetcher is None
    active = fetcher if fetcher is not None else Fetcher(settings)
    try:
        _Crawl(store, settings, active, scope, run, summary, progress).run(normalized)
    finally:
        if own_fetcher:
            active.close()
    summary.seconds = round(time.monotonic() - started, 3)
    store.finish_run(run, utc_now(), summary.to_dict())
    return summary


class _Crawl:
    """The state of one crawl call; `crawl` is its only user."""

    def __init__(
        self,
        store: CrawlStore,
        settings: CrawlSettings,
        fetcher: Fetcher,
        scope: Scope,
        run: Run,
        summary: CrawlSummary,
        progress: Callable[[CrawlProgress], None] | None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.fetcher = fetcher
        self.scope = scope
        self.current_run = run
        self.summary = summary
        self.progress = progress
        self.robots = RobotsCache(fetcher, settings.user_agent)

    # -- politeness ---------------------------------------------------------------------------

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
        while self._pages_used() < self.settings.max_pages:
            item = self._next()
            if item is None:
                break
            self._handle(item)

    def _pages_used(self) -> int:
        return self.store.pages_requested()

    def _next(self) -> FrontierItem | None:
        items = self.store.queued(_LOOKAHEAD)
        if not items:
            return None
        throttle = self.fetcher.throttle
        now = time.monotonic()
        for item in items:
            if throttle.ready_at(item.host) <= now:
                return item
        return min(items, key=lambda item: throttle.ready_at(item.host))

    def _report(self, url: str, status: int, outcome: str) -> None:
        if self.progress is None:
            return
        counts = self.store.frontier_counts()
        self.progress(
            CrawlProgress(
                url=url,
                status=status,
                outcome=outcome,
                pages_fetched=self.summary.pages_fetched,
                queued=counts["queued"],
                articles_new=self.summary.articles_new,
                errors=self.summary.errors,
            )
        )

    def _handle(self, item: FrontierItem) -> None:
        url = item.url
        if not self._allowed(url):
            with self.store.transaction():
                self.store.mark(url, "failed", "skipped: disallowed by robots.txt")
            self.summary.disallowed += 1
            self._report(url, 0, "disallowed")
            return
        previous = self.store.page_state(url)
        conditional = previous is not None and previous.content_hash is not None
        result = self.fetcher.fetch(
            url,
            etag=previous.etag if conditional and previous else None,
            last_modified=previous.last_modified if conditional and previous else None,
            accept=SITEMAP_TYPES if item.kind == "sitemap" else CRAWL_TYPES,
            may_follow=self._may_follow,
        )
        with self.store.transaction():
            outcome = self._record(item, previous, result)
        self._report(url, result.status, outcome)

    # -- one response -------------------------------------------------------------------------

    def _record(self, item: FrontierItem, previous: PageState | None, result: FetchResult) -> str:
        """Everything one response changes, inside the caller's transaction; returns the outcome."""
        url, store, summary = item.url, self.store, self.summary
        site = site_of(url)
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
            store.record_site(
                site,
                self.current_run,
                success=skipped or result.status != 0,
                fetched_at=result.fetched_at or utc_now(),
            )
            return "skipped" if skipped else "error"
        if result.error is not None and result.error.startswith("redirect to"):
            store.mark(url, "done", result.error, requested=True)
            return "redirect-not-followed"  # out of scope or disallowed: not the site's fault
        if result.error is not None:  # a redirect loop or chain too long
            if is_page:
                summary.errors += 1
            store.mark(url, "failed", result.error, requested=True)
            return "error"

        final_url = normalize_url(result.final_url) or url
        if final_url != url:
            # The redirect target has been fetched now; do not queue it again.
            store.enqueue(final_url, depth=item.depth, host=host_key(final_url), kind=item.kind)
            store.mark(final_url, "done", f"fetched via {url}")

        if result.not_modified and previous is not None:
            summary.not_modified += 1
            previous.status = previous.status or 200
            previous.fetched_at = result.fetched_at
            previous.etag = result.headers.get("etag", previous.etag)
            previous.last_modified = result.headers.get("last-modified", previous.last_modified)
            store.record_page(previous, item.kind)
            store.record_site(site, self.current_run, success=True, fetched_at=result.fetched_at)
            raw = store.raw(url)
            if raw is not None:
                body, headers = raw
                self._discover(item, final_url, body, headers.get("content-type", ""))
            store.mark(url, "done", "not modified", requested=True)
            return "not-modified"

        if not 200 <= result.status < 300:
            return self._record_failure(item, previous, result, site)

        digest = _content_hash(result.body)
        state = PageState(
            url=url,
            final_url=final_url,
            status=result.status,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
            content_hash=digest,
            content_type=result.headers.get("content-type"),
            fetched_at=result.fetched_at,
            article_id=previous.article_id if previous else None,
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
        content_type = result.headers.get("content-type", "")
        page: PageInfo | None = None
        if previous is not None and previous.content_hash == digest:
            outcome = "unchanged"  # same bytes: nothing to re-extract, links still matter
        elif _kind_of(content_type, result.body, item.kind) == "html":
            page = read_page(result.body, final_url, content_type or None)
            outcome = self._record_article(item, final_url, result, state, page)
        store.record_page(state, item.kind)
        store.record_site(
            site,
            self.current_run,
            success=True,
            fetched_at=result.fetched_at,
            new_articles=1 if outcome == "article-new" else 0,
        )
        self._discover(item, final_url, result.body, content_type, page)
        store.mark(url, "done", requested=True)
        return outcome if is_page else "sitemap"

    def _record_failure(
        self, item: FrontierItem, previous: PageState | None, result: FetchResult, site: str
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
        store.record_page(
            PageState(
                url=item.url,
                final_url=normalize_url(result.final_url) or item.url,
                status=result.status,
                etag=None,
                last_modified=None,
                content_hash=None,
                content_type=result.headers.get("content-type"),
                fetched_at=result.fetched_at,
                article_id=previous.article_id if previous else None,
            ),
            item.kind,
        )
        # A site that answers 4xx is up; 5xx and 429 (after retries) count against its health.
        healthy = result.status < 500 and result.status != 429
        store.record_site(site, self.current_run, success=healthy, fetched_at=result.fetched_at)
        store.mark(item.url, "failed", f"HTTP {result.status}", requested=True)
        return outcome

    def _record_article(
        self,
        item: FrontierItem,
        page_url: str,
        result: FetchResult,
        state: PageState,
        page: PageInfo,
    ) -> str:
        article = extract(
            result.body, url=page_url, content_type=result.headers.get("content-type")
        )
        noindex = page.noindex or "noindex" in result.headers.get("x-robots-tag", "").lower()
        if noindex or not is_article(article, page):
            return "page"
        canonical = normalize_url(article.canonical_url or "", page_url)
        doc_url = canonical if canonical and site_of(canonical) == site_of(page_url) else page_url
        article.url = page_url
        article.canonical_url = doc_url
        article.id = article_id(doc_url)
        state.article_id = article.id
        if doc_url != page_url and doc_url in self.scope:
            self.store.enqueue(doc_url, depth=item.depth, host=host_key(doc_url))
        source = self.store.article_source(article.id)
        # The canonical page always writes; a duplicate only fills in until the canonical page
        # has been fetched, so two URLs of one article do not overwrite each other every run.
        if source is not None and not source[1] and page_url != doc_url and source[0] != page_url:
            return "duplicate"
        written = self.store.write_article(
            article, fetched_at=result.fetched_at, http_status=result.status
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
                self.store.enqueue(url, depth=item.depth + 1, host=host_key(url), kind="sitemap")

    def _discover_sitemap(self, item: FrontierItem, base: str, body: bytes) -> None:
        sitemap = parse_sitemap(body, base_url=base, max_bytes=self.settings.max_bytes)
        for child in sitemap.sitemaps:
            url = normalize_url(child.loc)
            # Index nesting is one level in the protocol; depth keeps a loop of indexes finite.
            if url is not None and self.scope.covers_host(url) and item.depth < 2:
                self.store.enqueue(url, depth=item.depth + 1, host=host_key(url), kind="sitemap")
        if item.depth + 1 > self.settings.max_depth:
            return
        for entry in sitemap.urls:
            self._enqueue_link(entry.loc, item.depth + 1, lastmod=entry.lastmod)

    def _enqueue_link(self, link: str, depth: int, lastmod: str | None = None) -> None:
        url = normalize_url(link) if link else None
        if url is None or url not in self.scope or looks_like_binary(url):
            return
        self.store.enqueue(url, depth=depth, host=host_key(url), lastmod=lastmod)
