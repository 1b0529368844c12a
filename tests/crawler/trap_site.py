"""The crawler's trap site: a news site that does everything a real one can do to a crawler.

Served by the `site` fixture (a real HTTP server on loopback), so every trap is judged by what
the server saw or what the crawl store holds. Phase 1 is the first crawl; `to_phase_two` then
changes the site the way a week of news does (a story corrected, one taken down, one added,
the rest untouched). The traps, each with the path that sets it:

=====================  =========================================================================
robots.txt             ``/private/`` disallowed, ``Crawl-delay`` larger than the configured delay,
                       a ``Sitemap:`` line pointing at a sitemap index
sitemap index          ``/sitemap_index.xml`` -> ``/sitemaps/news.xml.gz`` (gzipped, lastmod),
                       which alone leads to ``/news/epsilon``
feed                   ``/feed.xml`` (RSS, linked from the front page head), alone leads to
                       ``/news/zeta``; ``/atom.xml`` (Atom, a seed of its own) to ``/news/iota``
pagination             ``/section?page=1`` declares page 2 only in ``<link rel=next>``; page 2
                       alone links ``/news/eta``
tracking parameters    links carry ``utm_*``, ``fbclid``, ``gclid``
canonical duplicate    ``/print/beta`` declares ``/news/beta`` canonical
redirect               ``/old`` -> 301 -> ``/news/gamma``
redirect loop          ``/loop-a`` -> ``/loop-b`` -> ``/loop-a``
503 + Retry-After      ``/news/delta`` answers 503 with Retry-After: 1 every other request
slow page              ``/slow`` trickles one byte at a time for far longer than the deadline
huge page              ``/huge`` streams 48 MB without a Content-Length
PDF                    ``/report.pdf`` (skipped by its name) and ``/download?id=7`` (by its type)
GBK page               ``/zh/gbk``: GBK bytes, the charset only in a ``<meta http-equiv>``
no ETag                ``/news/kappa`` has no validators: only the content hash sees it unchanged
=====================  =========================================================================
"""

from __future__ import annotations

import gzip
import threading

from .conftest import Hit, Route, Site

CRAWL_DELAY = 0.05  # robots.txt's Crawl-delay; tests set a smaller configured delay
RETRY_AFTER = 1
HUGE_CHUNK = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
HUGE_CHUNKS = 750  # about 48 MB in all
SLOW_BYTES = 400  # one byte every 0.05 s: 20 s for the whole page

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
NEW_ARTICLE = ("theta", "Seaweed film replaces plastic trays")
GBK_TITLE = "深圳发布新一代芯片产业扶持政策"
GBK_PHRASE = "集成电路设计企业"


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


_NAV = '<nav><a href="/">Home</a> <a href="/section?page=1">Section</a></nav>'


def article_html(slug: str, title: str, *, version: int = 1, canonical: str | None = None) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in prose(slug, version))
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'{link}<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head><body>'
        f"<header>{_NAV}</header><main><article><h1>{title}</h1>{paragraphs}</article></main>"
        "<footer><a href='/'>Front page</a></footer></body></html>"
    )


def _listing(title: str, links: list[tuple[str, str]], head: str = "") -> str:
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><header>{_NAV}</header><main><h1>{title}</h1><ul>{items}</ul>"
        "</main></body></html>"
    )


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
    return _listing("Trap Wire", links, head)


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
    """Builds the trap site on a `Site` and changes it for the second phase."""

    def __init__(self, site: Site, crawl_delay: float = CRAWL_DELAY) -> None:
        self.site = site
        self.base = site.base
        self._busy_lock = threading.Lock()
        self._busy_count = 0
        self._build(crawl_delay)

    # -- phase 1 ------------------------------------------------------------------------------

    def _build(self, crawl_delay: float) -> None:
        site, base = self.site, self.base
        site.routes["/robots.txt"] = Route(
            body=(
                "User-agent: *\n"
                "Disallow: /private/\n"
                f"Crawl-delay: {crawl_delay}\n"
                f"Sitemap: {base}/sitemap_index.xml\n"
            ).encode(),
            content_type="text/plain",
        )
        site.routes["/sitemap_index.xml"] = Route(
            body=(
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{base}/sitemaps/news.xml.gz</loc>"
                "<lastmod>2024-03-05</lastmod></sitemap></sitemapindex>"
            ).encode(),
            content_type="application/xml",
        )
        self.set_sitemap(["epsilon"])
        self.set_feed(["zeta"])
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
        site.html("/", front_page())
        site.html(
            "/section?page=1",
            _listing(
                "Section, page 1",
                [("/news/alpha", ARTICLES["alpha"])],
                head='<link rel="next" href="/section?page=2">',
            ),
        )
        site.html("/section?page=2", _listing("Section, page 2", [("/news/eta", ARTICLES["eta"])]))
        for slug, title in ARTICLES.items():
            if slug == "delta":
                continue
            site.html(f"/news/{slug}", article_html(slug, title, canonical=f"{base}/news/{slug}"))
        site.routes["/news/kappa"] = Route(
            body=article_html("kappa", ARTICLES["kappa"]).encode(), etag=False
        )
        site.routes["/news/delta"] = self._busy
        site.html(
            "/print/beta",
            article_html("beta", ARTICLES["beta"] + " (print)", canonical=f"{base}/news/beta"),
        )
        site.html("/private/secret", article_html("secret", "Secret"))
        site.routes["/old"] = Route(status=301, headers={"Location": "/news/gamma"}, etag=False)
        site.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"}, etag=False)
        site.routes["/loop-b"] = Route(
            status=302, headers={"Location": f"{base}/loop-a?utm_source=loop"}, etag=False
        )
        site.routes["/slow"] = Route(body=b"", chunks=(b"<",) * SLOW_BYTES, pause=0.05, etag=False)
        site.routes["/huge"] = Route(body=b"", chunks=(HUGE_CHUNK,) * HUGE_CHUNKS, etag=False)
        pdf = b"%PDF-1.4\n" + b"0" * 200_000 + b"\n%%EOF\n"
        site.routes["/download?id=7"] = Route(body=pdf, content_type="application/pdf")
        site.routes["/report.pdf"] = Route(body=pdf, content_type="application/pdf")
        site.routes["/zh/gbk"] = Route(body=gbk_page(), content_type="text/html")

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
        body = article_html("delta", ARTICLES["delta"], canonical=f"{self.base}/news/delta")
        return Route(body=body.encode())

    def set_sitemap(self, slugs: list[str]) -> None:
        urls = "".join(
            f"<url><loc>{self.base}/news/{slug}</loc><lastmod>2024-03-0{i + 1}</lastmod></url>"
            for i, slug in enumerate(slugs)
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
        self.site.routes["/sitemaps/news.xml.gz"] = Route(
            body=gzip.compress(xml.encode(), mtime=0), content_type="application/x-gzip"
        )

    def set_feed(self, slugs: list[str]) -> None:
        items = "".join(
            f"<item><title>{slug}</title><link>{self.base}/news/{slug}?utm_campaign=rss</link>"
            "<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
            for slug in slugs
        )
        self.site.routes["/feed.xml"] = Route(
            body=(
                '<?xml version="1.0"?><rss version="2.0"><channel><title>Trap Wire</title>'
                f"{items}</channel></rss>"
            ).encode(),
            content_type="application/rss+xml",
        )

    # -- phase 2 ------------------------------------------------------------------------------

    def to_phase_two(self) -> None:
        """A week later: alpha corrected, epsilon taken down, theta new (in the feed)."""
        site, base = self.site, self.base
        site.html(
            "/news/alpha",
            article_html(
                "alpha",
                ARTICLES["alpha"] + " (corrected)",
                version=2,
                canonical=f"{base}/news/alpha",
            ),
        )
        site.routes["/news/epsilon"] = Route(status=404, body=b"gone", etag=False)
        slug, title = NEW_ARTICLE
        site.html(f"/news/{slug}", article_html(slug, title, canonical=f"{base}/news/{slug}"))
        self.set_feed(["zeta", slug])

    # -- what a crawl should find -------------------------------------------------------------

    def article_urls(self, phase: int = 1) -> set[str]:
        """The documents a correct crawl stores (live ones), by their canonical URL."""
        slugs = set(ARTICLES)
        urls = {f"{self.base}/news/{slug}" for slug in slugs}
        urls.add(f"{self.base}/zh/gbk")
        if phase == 2:
            urls.discard(f"{self.base}/news/epsilon")
            urls.add(f"{self.base}/news/{NEW_ARTICLE[0]}")
        return urls
