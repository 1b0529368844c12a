"""Small hand-made news sites on a :class:`LoopbackSite`, for the crawler tests and benchmarks.

The sample news site (:mod:`~innosearch.sample_site.herald`) is a realistic site to crawl whole;
these are route tables a test can read at a glance and change in one line, each page a plain
route so a test can replace it (a 410, a redirect, a held request). Three of them:

- :func:`build_news_site`, the news wire: a front page of teasers, five stories, and the
  ordinary awkward cases: a disallowed folder, a redirect, a 404, tracking parameters in links,
  a print version that declares a canonical URL, a sitemap and a feed.
- :class:`TrapSite`, the same wire's traps, each a real fault a crawler meets (see its table),
  in two phases: the first crawl, then the site a week later.
- :func:`build_generated_site`, a site of N stories behind paged sections, for benchmarks.
"""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Sequence
from typing import Any

from innosearch.sample_site.server import Hit, LoopbackSite, Route

WIRE = "Demo Wire"
ARTICLES = {
    "alpha": "Battery separator gains thirty percent",
    "beta": "Open core certified for functional safety",
    "gamma": "Start-up raises forty million for hydrogen tanks",
    "delta": "Ground station built from consumer radio parts",
    "epsilon": "Paper mill turns to textile fibre",
    "zeta": "Charger maker doubles its output",
    "eta": "Surgical robot cleared for trials",
    "iota": "Tidal turbine blades pass a storm test",
    "kappa": "Inspection cameras find smaller flaws",
}
NEWS_STORIES = ("alpha", "beta", "gamma", "delta", "epsilon")  # the news wire's five

_CITIES = ("Shenzhen", "Hsinchu", "Munich", "Bangalore", "Oulu", "Suzhou", "Lyon", "Austin")
_THINGS = (
    "battery separator",
    "open processor core",
    "hydrogen storage tank",
    "satellite ground station",
    "wood-based textile fibre",
    "gallium nitride charger",
    "surgical robot arm",
    "seaweed packaging film",
    "sodium-ion cell",
    "tidal turbine blade",
    "wafer inspection camera",
)
# Each site's menu links only pages it has: a link to a 404 would be an error in every crawl.
NEWS_NAV = (
    '<nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/about">About</a> '
    '<a href="mailto:desk@example.org">Contact</a></nav>'
)
TRAP_NAV = '<nav><a href="/">Home</a> <a href="/section?page=1">Section</a></nav>'


def prose(slug: str, version: int = 1) -> list[str]:
    """Three paragraphs, different for every slug and version, long enough to be an article."""
    n = sum(map(ord, slug)) + version * 7
    city, thing = _CITIES[n % len(_CITIES)], _THINGS[n % len(_THINGS)]
    other = _CITIES[(n + 3) % len(_CITIES)]
    return [
        f"Researchers in {city} presented a new {thing} this week ({slug}, edition {version}), "
        f"saying it cuts production costs by {10 + n % 40} percent compared with designs in use "
        "today. The team spun out of a university laboratory and has been testing pilot units "
        "with two regional manufacturers for most of the past year.",
        f"Analysts cautioned that scaling the process has defeated earlier attempts in {other}, "
        "where a similar line was closed after its yields stayed below target. The company said "
        f"its line already runs at commercial speed and that it expects {n % 9 + 2} customers "
        "to sign supply agreements before the end of the year.",
        "Local officials welcomed the investment, which they said would bring several hundred "
        "skilled jobs to the science park, and promised faster permits for the second phase. "
        "Environmental groups asked for independent checks on water use at the new plant.",
    ]


def article_page(
    slug: str,
    title: str,
    canonical: str | None = None,
    extra: str = "",
    *,
    version: int = 1,
    paragraphs: Sequence[str] | None = None,
    nav: str = NEWS_NAV,
) -> str:
    """A story page: a header with ``nav``, the headline, a byline, the paragraphs (``prose``
    by default), ``extra`` markup after them, and a footer."""
    body = "".join(f"<p>{p}</p>" for p in (paragraphs or prose(slug, version)))
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | {WIRE}'
        f'</title>{link}<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head><body>'
        f"<header>{nav}</header><main><article><h1>{title}</h1>"
        f'<p class="byline">By Staff Reporter</p>{body}{extra}</article></main>'
        '<footer><a href="/">Front page</a></footer></body></html>'
    )


def listing_page(
    title: str,
    links: Sequence[tuple[str, str]],
    head: str = "",
    *,
    teasers: bool = True,
    nav: str = NEWS_NAV,
) -> str:
    """A listing: a headline link (and, with ``teasers``, a one-line teaser) per story."""
    # Teasers long enough that the listing has as much prose as a short article: the article
    # rule has to tell them apart by more than length.
    items = "".join(
        f'<li><h2><a href="{href}">{text}</a></h2><p>{text}: the story so far, with reactions '
        f"from the industry, analysts and the people it affects, in our report.</p></li>"
        if teasers
        else f'<li><a href="{href}">{text}</a></li>'
        for href, text in links
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><header>{nav}</header><main><h1>{title}</h1><ul>{items}</ul>"
        '</main><footer><a href="/">Front page</a></footer></body></html>'
    )


def front_page(without: tuple[str, ...] = ()) -> str:
    """The news wire's front page: the links a crawl discovers from (except those to the paths
    in ``without``: stories the site stopped linking)."""
    links = [
        ("/news/alpha?utm_source=home&utm_medium=web", ARTICLES["alpha"]),
        ("/news/beta?fbclid=abc123", ARTICLES["beta"]),
        ("/news/gamma#comments", ARTICLES["gamma"]),
        ("/old-path", ARTICLES["delta"]),
        ("/print/beta", "Print edition: open core certified"),
        ("/private/secret", "Members only: the secret page"),
        ("/missing", "A story that was taken down"),
        ("/img/chart.png", "Chart of the week"),
        ("http://example.org/elsewhere", "Elsewhere on the web"),
    ]
    links = [(h, text) for h, text in links if re.split(r"[?#]", h)[0] not in without]
    head = '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
    return listing_page("Latest innovation news", links, head)


def set_robots(
    site: LoopbackSite,
    crawl_delay: float = 0.15,
    disallow: tuple[str, ...] = (),
    sitemap: str = "/sitemap.xml",
) -> None:
    """robots.txt: ``/private/`` and ``disallow`` disallowed, a Crawl-delay, a Sitemap line."""
    rules = "".join(f"Disallow: {path}\n" for path in ("/private/", *disallow))
    site.routes["/robots.txt"] = Route(
        body=(
            f"User-agent: *\n{rules}Crawl-delay: {crawl_delay}\nSitemap: {site.url(sitemap)}\n"
        ).encode(),
        content_type="text/plain",
    )


def sitemap(site: LoopbackSite, slugs: Sequence[str]) -> bytes:
    """A sitemap listing ``/news/SLUG`` for each slug, with a lastmod."""
    urls = "".join(
        f"<url><loc>{site.url(f'/news/{slug}')}</loc><lastmod>2024-03-0{i + 1}</lastmod></url>"
        for i, slug in enumerate(slugs)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def set_feed(site: LoopbackSite, slugs: Sequence[str]) -> None:
    """``/feed.xml``: an RSS item for each ``/news/SLUG``, linked with a tracking parameter."""
    items = "".join(
        f"<item><title>{slug}</title><link>{site.url(f'/news/{slug}')}?utm_campaign=rss</link>"
        "<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
        for slug in slugs
    )
    site.routes["/feed.xml"] = Route(
        body=(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{WIRE}</title>'
            f"{items}</channel></rss>"
        ).encode(),
        content_type="application/rss+xml",
    )


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# -- the news wire ------------------------------------------------------------------------------


def build_news_site(site: LoopbackSite, crawl_delay: float = 0.15) -> None:
    """Fills ``site`` with the news wire the crawl tests run against."""
    set_robots(site, crawl_delay)
    site.routes["/sitemap.xml"] = Route(
        body=sitemap(site, ["alpha", "epsilon"]), content_type="application/xml"
    )
    set_feed(site, ["gamma"])
    site.html("/", front_page())
    site.html("/news/", front_page())
    site.html("/about", "<html><body><h1>About</h1><p>A demo news site.</p></body></html>")
    for slug in NEWS_STORIES:
        site.html(f"/news/{slug}", article_page(slug, ARTICLES[slug], site.url(f"/news/{slug}")))
    print_title = ARTICLES["beta"] + " (print)"
    site.html("/print/beta", article_page("beta", print_title, site.url("/news/beta")))
    site.html("/private/secret", article_page("secret", "Secret"))
    site.routes["/old-path"] = Route(status=301, headers={"Location": "/news/delta"}, etag=False)
    site.routes["/missing"] = Route(status=404, body=b"not found", etag=False)


def unlink(site: LoopbackSite, *paths: str) -> None:
    """The news wire stops linking ``paths`` from its listings, sitemap and feed."""
    site.html("/", front_page(paths))
    site.html("/news/", front_page(paths))
    kept = [s for s in ("alpha", "epsilon") if f"/news/{s}" not in paths]
    site.routes["/sitemap.xml"] = Route(body=sitemap(site, kept), content_type="application/xml")
    if "/news/gamma" in paths:
        set_feed(site, [])


def move(site: LoopbackSite, slug: str, new_path: str) -> str:
    """The story ``/news/SLUG`` moves: its old URL answers 301 to ``new_path``, which declares
    itself canonical. Returns the new URL."""
    new = site.url(new_path)
    site.routes[f"/news/{slug}"] = Route(status=301, headers={"Location": new}, etag=False)
    site.html(new_path, article_page(slug, ARTICLES[slug], canonical=new))
    return new


# -- the traps ----------------------------------------------------------------------------------

TRAP_CRAWL_DELAY = 0.05  # robots.txt's Crawl-delay; tests set a smaller configured delay
RETRY_AFTER = 1
HUGE_CHUNK = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
HUGE_CHUNKS = 750  # about 48 MB in all
SLOW_BYTES = 400  # one byte every 0.05 s: 20 s for the whole page
NEW_ARTICLE = ("theta", "Seaweed film replaces plastic trays")
GBK_TITLE = "深圳发布新一代芯片产业扶持政策"
GBK_PHRASE = "集成电路设计企业"


def gbk_page() -> bytes:
    paragraph = (
        "深圳市政府本周发布新一代芯片产业扶持政策，重点支持集成电路设计企业、先进封装测试以及"
        "关键材料研发。政策提出，对首次流片的设计企业给予最高一千万元的补贴，并在南山科技园"
        "建设公共测试平台，降低中小企业的研发成本。"
    )
    more = (
        "业内人士表示，新政策将吸引更多海外人才回流，同时推动本地供应链完善。多家集成电路设计"
        "企业负责人认为，公共测试平台可以把产品验证周期缩短三分之一，对初创公司尤其重要。"
        "市工业和信息化局称，配套细则将于下月公布，首批项目申报将在年内启动。"
    )
    third = (
        "分析人士指出，深圳在芯片设计领域已有较好基础，但在制造和封装环节仍依赖外地产能。"
        "新政策鼓励企业与高校共建联合实验室，并对引进高端装备给予贴息支持，以期形成完整的产业链。"
    )
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
        f"<title>{GBK_TITLE}</title></head><body><div class='article'><h1>{GBK_TITLE}</h1>"
        f"<p>{paragraph}</p><p>{more}</p><p>{third}</p></div></body></html>"
    )
    return html.encode("gbk")


class TrapSite:
    """The news wire with everything a real site can do to a crawler, on a `LoopbackSite`.

    Phase 1 is the first crawl; :meth:`to_phase_two` then changes the site the way a week of
    news does (a story corrected, one taken down, one added, the rest untouched). The traps,
    each with the path that sets it:

    =====================  ====================================================================
    robots.txt             ``/private/`` disallowed, ``Crawl-delay`` larger than the configured
                           delay, a ``Sitemap:`` line pointing at a sitemap index
    sitemap index          ``/sitemap_index.xml`` -> ``/sitemaps/news.xml.gz`` (gzipped,
                           lastmod), which alone leads to ``/news/epsilon``
    feed                   ``/feed.xml`` (RSS, linked from the front page head), alone leads to
                           ``/news/zeta``; ``/atom.xml`` (Atom, a seed of its own) to
                           ``/news/iota``
    pagination             ``/section?page=1`` declares page 2 only in ``<link rel=next>``;
                           page 2 alone links ``/news/eta``
    tracking parameters    links carry ``utm_*``, ``fbclid``, ``gclid``
    canonical duplicate    ``/print/beta`` declares ``/news/beta`` canonical
    redirect               ``/old`` -> 301 -> ``/news/gamma``
    redirect loop          ``/loop-a`` -> ``/loop-b`` -> ``/loop-a``
    503 + Retry-After      ``/news/delta`` answers 503 with Retry-After: 1 every other request
    slow page              ``/slow`` trickles one byte at a time for far longer than the deadline
    huge page              ``/huge`` streams 48 MB without a Content-Length
    PDF                    ``/report.pdf`` (skipped by its name) and ``/download?id=7`` (by its
                           type)
    GBK page               ``/zh/gbk``: GBK bytes, the charset only in a ``<meta http-equiv>``
    no ETag                ``/news/kappa`` has no validators: only the content hash sees it
                           unchanged
    =====================  ====================================================================
    """

    def __init__(self, site: LoopbackSite, crawl_delay: float = TRAP_CRAWL_DELAY) -> None:
        self.site = site
        self.base = site.base
        self._busy_lock = threading.Lock()
        self._busy_count = 0
        self._build(crawl_delay)

    # -- phase 1 ------------------------------------------------------------------------------

    def _build(self, crawl_delay: float) -> None:
        site = self.site
        set_robots(site, crawl_delay, sitemap="/sitemap_index.xml")
        site.routes["/sitemap_index.xml"] = Route(
            body=(
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{site.url('/sitemaps/news.xml.gz')}</loc>"
                "<lastmod>2024-03-05</lastmod></sitemap></sitemapindex>"
            ).encode(),
            content_type="application/xml",
        )
        site.routes["/sitemaps/news.xml.gz"] = Route(
            body=gzipped(sitemap(site, ["epsilon"])), content_type="application/x-gzip"
        )
        set_feed(site, ["zeta"])
        site.routes["/atom.xml"] = Route(
            body=(
                b'<?xml version="1.0" encoding="utf-8"?>'
                b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Trap Wire</title>'
                b"<entry><title>Turbine</title>"
                b'<link rel="enclosure" href="/media/turbine.mp3"/>'
                b'<link rel="alternate" href="/news/iota?utm_source=atom"/>'
                b"<updated>2024-03-04T09:00:00Z</updated></entry></feed>"
            ),
            content_type="application/atom+xml",
        )
        site.html("/", self.front_page())
        next_page = '<link rel="next" href="/section?page=2">'
        alpha, eta = [("/news/alpha", ARTICLES["alpha"])], [("/news/eta", ARTICLES["eta"])]
        site.html(
            "/section?page=1",
            listing_page("Section, page 1", alpha, next_page, teasers=False, nav=TRAP_NAV),
        )
        site.html(
            "/section?page=2", listing_page("Section, page 2", eta, teasers=False, nav=TRAP_NAV)
        )
        for slug, title in ARTICLES.items():
            site.html(f"/news/{slug}", self._story(slug, title, site.url(f"/news/{slug}")))
        site.routes["/news/kappa"] = Route(
            body=self._story("kappa", ARTICLES["kappa"]).encode(), etag=False
        )
        site.routes["/news/delta"] = self._busy
        print_title = ARTICLES["beta"] + " (print)"
        site.html("/print/beta", self._story("beta", print_title, site.url("/news/beta")))
        site.html("/private/secret", self._story("secret", "Secret"))
        site.routes["/old"] = Route(status=301, headers={"Location": "/news/gamma"}, etag=False)
        site.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"}, etag=False)
        site.routes["/loop-b"] = Route(
            status=302, headers={"Location": site.url("/loop-a?utm_source=loop")}, etag=False
        )
        site.routes["/slow"] = Route(body=b"", chunks=(b"<",) * SLOW_BYTES, pause=0.05, etag=False)
        site.routes["/huge"] = Route(body=b"", chunks=(HUGE_CHUNK,) * HUGE_CHUNKS, etag=False)
        pdf = b"%PDF-1.4\n" + b"0" * 200_000 + b"\n%%EOF\n"
        site.routes["/download?id=7"] = Route(body=pdf, content_type="application/pdf")
        site.routes["/report.pdf"] = Route(body=pdf, content_type="application/pdf")
        site.routes["/zh/gbk"] = Route(body=gbk_page(), content_type="text/html")

    @staticmethod
    def _story(slug: str, title: str, canonical: str | None = None, *, version: int = 1) -> str:
        return article_page(slug, title, canonical, version=version, nav=TRAP_NAV)

    @staticmethod
    def front_page() -> str:
        links = [
            ("/news/alpha?utm_source=home&utm_medium=web", ARTICLES["alpha"]),
            ("/news/beta?fbclid=abc123", ARTICLES["beta"]),
            ("/print/beta?gclid=xyz", ARTICLES["beta"] + " (print)"),
            ("/old#top", ARTICLES["gamma"]),
            ("/news/delta", ARTICLES["delta"]),
            ("/news/kappa", ARTICLES["kappa"]),
            ("/loop-a", "A story that goes round in circles"),
            ("/slow", "A page that takes forever"),
            ("/huge", "A page that never ends"),
            ("/report.pdf", "The annual report (PDF)"),
            ("/download?id=7", "The annual report (download)"),
            ("/zh/gbk", GBK_TITLE),
            ("/private/secret", "Members only"),
            ("/section?page=1", "More news"),
            ("https://elsewhere.example/story", "Elsewhere on the web"),
        ]
        head = '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        return listing_page("Trap Wire", links, head, teasers=False, nav=TRAP_NAV)

    def _busy(self, hit: Hit) -> Route:
        """503 with Retry-After on every other request, the article otherwise."""
        with self._busy_lock:
            self._busy_count += 1
            busy = self._busy_count % 2 == 1
        if busy:
            return Route(
                status=503,
                body=b"busy",
                content_type="text/plain",
                headers={"Retry-After": str(RETRY_AFTER)},
                etag=False,
            )
        delta = self._story("delta", ARTICLES["delta"], self.site.url("/news/delta"))
        return Route(body=delta.encode())

    # -- phase 2 ------------------------------------------------------------------------------

    def to_phase_two(self) -> None:
        """A week later: alpha corrected, epsilon taken down, theta new (in the feed)."""
        site = self.site
        corrected = ARTICLES["alpha"] + " (corrected)"
        site.html(
            "/news/alpha", self._story("alpha", corrected, site.url("/news/alpha"), version=2)
        )
        site.routes["/news/epsilon"] = Route(status=404, body=b"gone", etag=False)
        slug, title = NEW_ARTICLE
        site.html(f"/news/{slug}", self._story(slug, title, site.url(f"/news/{slug}")))
        set_feed(site, ["zeta", slug])

    # -- what a crawl should find -------------------------------------------------------------

    def article_urls(self, phase: int = 1) -> set[str]:
        """The documents a correct crawl stores (live ones), by their canonical URL."""
        urls = {self.site.url(f"/news/{slug}") for slug in ARTICLES}
        urls.add(self.site.url("/zh/gbk"))
        if phase == 2:
            urls.discard(self.site.url("/news/epsilon"))
            urls.add(self.site.url(f"/news/{NEW_ARTICLE[0]}"))
        return urls


# -- a generated site, for benchmarks -----------------------------------------------------------

PER_SECTION = 50  # story links per section page


def story_page(n: int) -> bytes:
    """Story number ``n``: nine paragraphs of prose (three editions), its own title and date."""
    slug = f"story-{n}"
    paragraphs = [p for version in (1, 2, 3) for p in prose(slug, version)]
    title = f"Story {n}: {_THINGS[n % len(_THINGS)]} in {_CITIES[n % len(_CITIES)]}"
    nav = (
        "<nav>"
        + "".join(f'<a href="/section/{s}">Section {s}</a> ' for s in range(1, 6))
        + "</nav>"
    )
    return article_page(slug, title, f"/news/{n}", paragraphs=paragraphs, nav=nav).encode()


def build_generated_site(
    site: LoopbackSite,
    stories: int,
    bodies: Sequence[bytes] | None = None,
    unlinked: Any = None,
) -> None:
    """``stories`` story pages at ``/news/N``, linked from section pages of :data:`PER_SECTION`
    (``/section/S``, paged with rel=next) behind a front page.

    ``bodies`` replaces the generated stories (real pages; the front page then links every
    section, since real pages link to their own site's paths, 404 here). Once ``unlinked`` (an
    Event, of threading or multiprocessing) is set, section pages after the first list no
    stories, so those are reached only by revalidation."""
    sections = (stories + PER_SECTION - 1) // PER_SECTION
    site.routes["/robots.txt"] = Route(body=b"User-agent: *\nAllow: /\n", content_type="text/plain")
    front = [(f"/section/{s}", f"Section {s}") for s in range(1, (sections if bodies else 2) + 1)]
    site.html("/", listing_page("Generated Wire", front, teasers=False, nav=""))

    def section(s: int, count: int) -> str:
        first = (s - 1) * PER_SECTION
        links = [
            (f"/news/{n}?utm_source=section", f"Story {n}")
            for n in range(first, min(first + PER_SECTION, count))
        ]
        following = (
            f'<link rel="next" href="/section/{s + 1}">' if first + PER_SECTION < count else ""
        )
        return listing_page(f"Section {s}", links, following, teasers=False, nav="")

    for s in range(1, sections + 1):
        full, bare = Route(body=section(s, stories).encode()), Route(body=section(s, 0).encode())
        if s == 1 or unlinked is None:
            site.routes[f"/section/{s}"] = full
        else:
            site.routes[f"/section/{s}"] = lambda hit, full=full, bare=bare: (
                bare if unlinked.is_set() else full
            )
    for n in range(stories):
        site.routes[f"/news/{n}"] = Route(body=bodies[n] if bodies else story_page(n))
