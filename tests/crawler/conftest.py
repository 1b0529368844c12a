"""A small real news site on loopback, and a recording of every request it received.

The crawler is tested against a real HTTP server rather than mocks because what matters is what
a site sees: which paths were requested, how far apart, with which conditional headers. Pages
are hand-written and cover the awkward cases on purpose: a listing page, a Disallowed path, a
redirect, a 404, tracking parameters in links, a print version that declares a canonical URL.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.article import Article
from crawler.extract import extract_page
from crawler.settings import CrawlSettings

# -- the pages ---------------------------------------------------------------------------------

_PROSE = {
    "alpha": (
        "Shenzhen researchers unveiled a new lithium battery separator on Monday, claiming a "
        "thirty percent gain in energy density over the designs now used in electric buses. "
        "The team, which spun out of a university laboratory two years ago, said pilot "
        "production would begin in the spring, with the first cells going to a regional bus "
        "maker. Analysts cautioned that scaling the coating process has defeated earlier "
        "attempts, but the company said its roll-to-roll line already runs at commercial speed."
    ),
    "beta": (
        "A consortium of chip designers in Hsinchu announced an open instruction-set core aimed "
        "at industrial controllers, the first such design to be certified for functional safety. "
        "Members said the licence would be free for products shipping fewer than a million "
        "units a year, and that reference boards would be available to universities within "
        "weeks. The move follows two years of negotiation over patent pools and export rules, "
        "and several members said the certification work had been the hardest part of it."
    ),
    "gamma": (
        "A Bavarian start-up has raised forty million euros to build a factory for "
        "solid-state hydrogen storage tanks, which keep the gas bound in a metal powder at low "
        "pressure. The company plans to supply forklift fleets first, where refuelling time "
        "matters more than weight, before moving to regional trains. Investors included a "
        "state development bank and two logistics groups, who said the tanks could cut the "
        "cost of depots that now rely on high-pressure compressors and trailers."
    ),
    "delta": (
        "Engineers in Bangalore demonstrated a satellite ground station built almost entirely "
        "from consumer radio parts, able to track low-orbit weather satellites for a fraction "
        "of the usual cost. The design files were published under an open licence, and three "
        "agricultural cooperatives have already ordered stations to receive crop imagery "
        "directly. The group said the hardest problem was not the radio but keeping the "
        "antenna mount accurate through the monsoon season, which took a year of redesigns."
    ),
    "epsilon": (
        "A Finnish paper mill has switched one of its lines to produce textile fibre from "
        "wood pulp, using a solvent process that recovers almost all of its chemicals. The "
        "company said the fibre is already being tested by two clothing brands, and that the "
        "converted line will reach full output next year. Forestry groups welcomed the move "
        "as a way to keep mills open as demand for printing paper keeps falling, while "
        "environmental groups asked for independent checks on the solvent recovery rate."
    ),
    "secret": (
        "This page is listed under a path that robots.txt disallows, so a polite crawler must "
        "never request it, however many links point to it from the rest of the site. It is "
        "long enough to count as an article if it were ever fetched, which makes its absence "
        "from the crawl store a real test of the robots rules rather than of the article "
        "detector. Any request for it in the server log means the crawler was not polite, "
        "and the test that looks at the log will say so in its failure message."
    ),
}

_NAV = (
    '<nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/about">About</a> '
    '<a href="mailto:desk@example.org">Contact</a></nav>'
)


def article_page(slug: str, title: str, canonical: str | None = None, extra: str = "") -> str:
    """An article page: header, navigation, three paragraphs of prose, a footer."""
    prose = _PROSE[slug]
    sentences = prose.split(". ")
    third = max(1, len(sentences) // 3)
    paragraphs = [
        ". ".join(sentences[:third]),
        ". ".join(sentences[third : 2 * third]),
        ". ".join(sentences[2 * third :]),
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Demo '
        f'Wire</title>{link}<meta property="og:type" content="article">'
        f'<meta name="date" content="2024-03-0{len(slug) % 9 + 1}"></head><body>'
        f"<header>{_NAV}</header><main><article><h1>{title}</h1>"
        f'<p class="byline">By Staff Reporter</p>{body}{extra}</article></main>'
        '<footer><a href="/about">About us</a> <a href="/">Front page</a></footer></body></html>'
    )


def listing_page(without: tuple[str, ...] = ()) -> str:
    """The front page: headlines with one-line teasers, the links a crawl discovers from
    (except those to the paths in ``without``: stories the site stopped linking)."""
    items = [
        ("/news/alpha?utm_source=home&utm_medium=web", "Battery separator gains thirty percent"),
        ("/news/beta?fbclid=abc123", "Open core certified for functional safety"),
        ("/news/gamma#comments", "Start-up raises forty million for hydrogen tanks"),
        ("/old-path", "Ground station built from consumer radio parts"),
        ("/print/beta", "Print edition: open core certified"),
        ("/private/secret", "Members only: the secret page"),
        ("/missing", "A story that was taken down"),
        ("/img/chart.png", "Chart of the week"),
        ("http://example.org/elsewhere", "Elsewhere on the web"),
    ]
    items = [(h, text) for h, text in items if re.split(r"[?#]", h)[0] not in without]
    # Teasers long enough that the listing has as much prose as a short article: the article
    # rule has to tell them apart by more than length.
    teasers = "".join(
        f'<li><h2><a href="{href}">{text}</a></h2><p>{text}: the story so far, with reactions '
        f"from the industry, analysts and the people it affects, in our report.</p></li>"
        for href, text in items
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo Wire</title>'
        '<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>'
        f"<header>{_NAV}</header><main><h1>Latest innovation news</h1><ul>{teasers}</ul>"
        "</main><footer><a href='/about'>About us</a></footer></body></html>"
    )


@dataclass
class Route:
    """One path's answer. ``etag`` makes the server answer conditional requests with 304."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True
    # When set, the body is sent in these pieces, ``pause`` seconds apart, without a
    # Content-Length (the connection's end marks the body's end): a slow or endless server.
    chunks: tuple[bytes, ...] | None = None
    pause: float = 0.0


@dataclass
class Hit:
    """One request as the server saw it."""

    at: float  # time.monotonic() when the request line was read
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0  # what the server answered
    sent: int = 0  # body bytes written before the response ended or the client hung up
    ended_at: float = 0.0  # when the response was complete or the client was found gone
    aborted: bool = False  # the client hung up before the body was complete


class Site:
    """The test site: routes by path (with query), and the log of requests received."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[Hit], Route]] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path

    def html(self, path: str, text: str, **kwargs: object) -> None:
        self.routes[path] = Route(body=text.encode("utf-8"), **kwargs)  # type: ignore[arg-type]

    def paths(self) -> list[str]:
        with self.lock:
            return [hit.path for hit in self.hits]

    def clear(self) -> None:
        with self.lock:
            self.hits.clear()


def build_news_site(site: Site, crawl_delay: float = 0.15) -> None:
    """Fills ``site`` with the demo news site the crawl tests run against."""
    base = site.base
    set_robots(site, crawl_delay)
    set_sitemap(site, ["alpha", "epsilon"])
    site.routes["/feed.xml"] = Route(
        body=(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Demo Wire</title>'
            f"<item><title>Gamma</title><link>{base}/news/gamma?utm_campaign=rss</link>"
            "<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item></channel></rss>"
        ).encode(),
        content_type="application/rss+xml",
    )
    site.html("/", listing_page())
    site.html("/news/", listing_page())
    site.html("/about", "<html><body><h1>About</h1><p>A demo news site.</p></body></html>")
    titles = {
        "alpha": "Battery separator gains thirty percent",
        "beta": "Open core certified for functional safety",
        "gamma": "Start-up raises forty million for hydrogen tanks",
        "delta": "Ground station built from consumer radio parts",
        "epsilon": "Paper mill turns to textile fibre",
    }
    for slug, title in titles.items():
        site.html(f"/news/{slug}", article_page(slug, title, canonical=f"{base}/news/{slug}"))
    site.html(
        "/print/beta",
        article_page("beta", titles["beta"] + " (print)", canonical=f"{base}/news/beta"),
    )
    site.html("/private/secret", article_page("secret", "Secret"))
    site.routes["/old-path"] = Route(status=301, headers={"Location": "/news/delta"}, etag=False)
    site.routes["/missing"] = Route(status=404, body=b"not found", etag=False)


def set_robots(site: Site, crawl_delay: float = 0.15, disallow: tuple[str, ...] = ()) -> None:
    """The site's robots.txt: ``/private/`` and ``disallow`` disallowed, and a Crawl-delay."""
    rules = "".join(f"Disallow: {path}\n" for path in ("/private/", *disallow))
    site.routes["/robots.txt"] = Route(
        body=(
            f"User-agent: *\n{rules}Crawl-delay: {crawl_delay}\nSitemap: {site.base}/sitemap.xml\n"
        ).encode(),
        content_type="text/plain",
    )


def set_sitemap(site: Site, slugs: list[str]) -> None:
    """The sitemap, listing ``/news/SLUG`` for each slug."""
    urls = "".join(
        f"<url><loc>{site.base}/news/{slug}</loc><lastmod>2024-03-0{i + 1}</lastmod></url>"
        for i, slug in enumerate(slugs)
    )
    site.routes["/sitemap.xml"] = Route(
        body=(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode(),
        content_type="application/xml",
    )


def unlink(site: Site, *paths: str) -> None:
    """The site stops linking ``paths`` from its listings, sitemap and feed."""
    without = tuple(paths)
    site.html("/", listing_page(without))
    site.html("/news/", listing_page(without))
    set_sitemap(site, [s for s in ("alpha", "epsilon") if f"/news/{s}" not in without])
    if "/news/gamma" in without:
        site.routes["/feed.xml"] = Route(
            body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>Demo Wire</title>'
            b"</channel></rss>",
            content_type="application/rss+xml",
        )


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# -- the server --------------------------------------------------------------------------------


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            hit = Hit(
                time.monotonic(), "GET", self.path, {k.lower(): v for k, v in self.headers.items()}
            )
            with site.lock:
                site.hits.append(hit)
                route = site.routes.get(self.path)
            try:
                self._answer(hit, route)
            finally:
                hit.ended_at = time.monotonic()

        def _answer(self, hit: Hit, route: Route | Callable[[Hit], Route] | None) -> None:
            if callable(route):
                route = route(hit)
            if route is None:
                route = Route(status=404, body=b"no such page", content_type="text/plain")
            tag = '"' + hashlib.sha1(route.body).hexdigest()[:12] + '"'
            if route.etag and route.status == 200 and hit.headers.get("if-none-match") == tag:
                hit.status = 304
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            hit.status = route.status
            self.send_response(route.status)
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if route.etag and route.status == 200:
                self.send_header("ETag", tag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if "Content-Length" not in route.headers and route.chunks is None:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.chunks is None:
                    self.wfile.write(route.body)
                    hit.sent = len(route.body)
                    return
                for chunk in route.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    hit.sent += len(chunk)
                    if route.pause:
                        time.sleep(route.pause)
            except (BrokenPipeError, ConnectionResetError):
                hit.aborted = True  # the client gave up, as it should have

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean; the Site records what matters

    return Handler


@contextmanager
def serving(site: Site) -> Iterator[Site]:
    """Serves ``site`` on a free loopback port (sets ``site.base``) until the block ends; the
    `site` fixture, and benchmarks that need a site of their own (bench/classify.py)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    """An empty site on a free loopback port; tests add routes or call `build_news_site`."""
    with serving(Site()) as served:
        yield served


@pytest.fixture
def news_site(site: Site) -> Site:
    build_news_site(site)
    return site


@pytest.fixture
def settings() -> CrawlSettings:
    """Settings for loopback tests: local addresses allowed, short timeouts, small delay."""
    return CrawlSettings(
        user_agent="innosearch-test/0.1 (+https://example.org/test)",
        delay=0.02,
        max_pages=50,
        max_depth=3,
        connect_timeout=2.0,
        read_timeout=2.0,
        deadline=3.0,
        retries=2,
        allow_local=True,
    )


def extract_cleanly(page: object, url: str = "") -> Article:
    """`extract`, failing the test when the extractor survived an internal error: it never
    raises (a broken page must not stop a crawl), so a test that only checks for no exception
    would pass with every extraction failing."""
    extraction = extract_page(page, url=url)  # type: ignore[arg-type]
    assert extraction.error is None, extraction.error
    return extraction.article
