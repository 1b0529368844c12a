"""The bundled sample news site, "The Innovation Herald", rendered from ``articles.json``.

`innosearch demo` and the crawler tests need a realistic site that lives on loopback, so nothing
depends on the network: this module renders the articles through the Jinja2 templates of
``templates/`` as a small news site (home page, paged sections, article pages, robots.txt,
sitemap, RSS feed), served by the kit's :class:`~innosearch.sample_site.server.LoopbackSite`.

The pages deliberately carry what real news pages carry and a good crawler and extractor must cope
with: a cookie banner, navigation, breadcrumbs, a share bar, "related stories", an inline "Read
more" link inside some article bodies, a footer, three different ways of marking up the
publication date (rotated over the articles) and, on some pages, an "Updated:" date that is later
than the publication date (sometimes in the next year). ``/admin/`` is disallowed in robots.txt but
answers 200, so a crawler that ignores robots.txt shows up in :attr:`SampleSite.requests`.

:class:`NewsSite` turns a request into a :class:`Route` without any sockets (easy to test);
:class:`SampleSite` puts it behind a real HTTP server that logs every request.
"""

from __future__ import annotations

import copy
import email.utils
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jinja2
from markupsafe import Markup

from innosearch.sample_site.server import HTML_TYPE, TEXT_TYPE, Hit, LoopbackSite, Route

SITE_NAME = "The Innovation Herald"
# Section id -> display name, in menu order.
SECTIONS: dict[str, str] = {
    "industry": "Industry",
    "science": "Science",
    "policy": "Policy",
    "world": "World",
    "business": "Business",
}
PER_PAGE = 8
HOME_LATEST = 12
FEED_SIZE = 20
# How an article page marks up its publication date, rotated over the articles in file order so
# each style covers every year: JSON-LD NewsArticle only, Open Graph <meta> only, or <time> only.
DATE_STYLES = ("json-ld", "meta", "time")
# The newsroom's local time; times of day stay between 09:00 and 19:59, so the UTC date is the same
# calendar date and no year facet depends on a time-zone conversion.
NEWSROOM_TZ = timezone(timedelta(hours=8))
# Slugs are also file names on the URL path, so keep them to a safe alphabet.
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ARTICLE_PATH_RE = re.compile(r"/(\d{4})/(\d{2})/([a-z0-9-]+)\.html")
_SECTION_PATH_RE = re.compile(r"/([a-z]+)/(?:page/(\d+)/)?")
_SECTION_NO_SLASH_RE = re.compile(r"/([a-z]+)(?:/page/(\d+))?")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_REQUIRED_KEYS = (
    "slug",
    "section",
    "title",
    "published",
    "author",
    "summary",
    "paragraphs",
    "chains",
    "countries",
)

XML_TYPE = "application/xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"


# --------------------------------------------------------------------------------------------
# Loading the articles


def load_articles() -> list[dict[str, Any]]:
    """Loads and checks the bundled ``articles.json``.

    A malformed record fails loudly here rather than rendering a half-broken page that a crawler
    test would then misread as an extractor bug.
    """
    text = resources.files(__package__).joinpath("articles.json").read_text(encoding="utf-8")
    records = json.loads(text)
    validate_articles(records)
    return records


def validate_articles(records: Sequence[Mapping[str, Any]]) -> None:
    """Raises ValueError naming the first record that the site could not serve correctly."""
    seen: set[str] = set()
    for i, rec in enumerate(records):
        where = f"article #{i} ({rec.get('slug', '?')})"
        missing = [k for k in _REQUIRED_KEYS if k not in rec]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        if not isinstance(rec["slug"], str) or not _SLUG_RE.fullmatch(rec["slug"]):
            raise ValueError(f"{where}: slug must be lowercase words joined by hyphens")
        if rec["slug"] in seen:
            raise ValueError(f"{where}: duplicate slug")
        seen.add(rec["slug"])
        if rec["section"] not in SECTIONS:
            raise ValueError(f"{where}: unknown section {rec['section']!r}")
        for key in ("published", "updated"):
            if key in rec:
                if not isinstance(rec[key], str) or not _ISO_DATE_RE.fullmatch(rec[key]):
                    raise ValueError(f"{where}: {key} must be YYYY-MM-DD")
                date.fromisoformat(rec[key])
        if "updated" in rec and rec["updated"] <= rec["published"]:
            raise ValueError(f"{where}: updated must be later than published")
        paragraphs = rec["paragraphs"]
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            raise ValueError(f"{where}: paragraphs must be a list of strings")


def article_path(rec: Mapping[str, Any]) -> str:
    """The site path of an article: ``/YEAR/MM/slug.html``, from its publication date."""
    year, month, _ = rec["published"].split("-")
    return f"/{year}/{month}/{rec['slug']}.html"


def _slug_hash(slug: str) -> int:
    return int(hashlib.sha1(slug.encode("utf-8")).hexdigest()[:8], 16)


def published_at(rec: Mapping[str, Any]) -> datetime:
    """The publication instant: the record's date at a time of day derived from the slug.

    Real pages carry times, and deriving them from the slug keeps every page byte-stable between
    runs, which the conditional-request (ETag) tests rely on.
    """
    h = _slug_hash(rec["slug"])
    day = date.fromisoformat(rec["published"])
    return datetime(day.year, day.month, day.day, 9 + h % 11, (h >> 8) % 60, tzinfo=NEWSROOM_TZ)


def updated_at(rec: Mapping[str, Any]) -> datetime | None:
    """The "Updated:" instant, or None for an article that was never updated."""
    if not rec.get("updated"):
        return None
    h = _slug_hash(rec["slug"])
    day = date.fromisoformat(rec["updated"])
    return datetime(
        day.year, day.month, day.day, 9 + (h >> 16) % 11, (h >> 20) % 60, tzinfo=NEWSROOM_TZ
    )


def last_modified(rec: Mapping[str, Any]) -> datetime:
    """When the page last changed: the update if any, else the publication."""
    return updated_at(rec) or published_at(rec)


def etag(rec: Mapping[str, Any]) -> str:
    """A strong ETag over the whole record, so any edit (or :meth:`SampleSite.touch`) changes it."""
    digest = hashlib.sha1(json.dumps(rec, sort_keys=True).encode("utf-8")).hexdigest()
    return f'"{digest[:20]}"'


def _long_date(d: datetime) -> str:  # "14 March 2019"
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _us_date(d: datetime) -> str:  # "March 14, 2019"
    return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"


def _short_date(d: datetime) -> str:  # "Mar 14, 2019, 10:35"
    return f"{_MONTHS[d.month - 1][:3]} {d.day}, {d.year}, {d:%H:%M}"


def _http_date(d: datetime) -> str:
    return email.utils.format_datetime(d.astimezone(UTC), usegmt=True)


# --------------------------------------------------------------------------------------------
# Rendering and routing, without sockets

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("innosearch.sample_site", "templates"),
    autoescape=jinja2.select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters.update(
    article_path=article_path,
    published_at=published_at,
    long_date=_long_date,
    us_date=_us_date,
    short_date=_short_date,
    rfc822=email.utils.format_datetime,
    quote_all=lambda text: quote(text, safe=""),
)
_TEMPLATES.globals.update(
    site_name=SITE_NAME,
    sections=SECTIONS,
    css=Markup(resources.files(__package__).joinpath("templates/herald.css").read_text().strip()),
)
# The static pages: heading and text, by path.
_STATIC_PAGES: dict[str, tuple[str, str]] = {
    "/about/": (
        "About us",
        f"{SITE_NAME} is the sample news site bundled with innosearch. It covers innovation "
        "weeks, science parks, unicorn firms, industrial chains and international science "
        "cooperation. Every story, firm and person quoted on it is invented.",
    ),
    "/contact/": ("Contact", "Story tips and corrections: newsroom@herald.invalid."),
    "/privacy/": (
        "Privacy and cookies",
        "This sample site sets no cookies; the cookie banner is there because real news sites "
        "have one and extractors must ignore it.",
    ),
}


class NewsSite:
    """Renders the sample site for one base URL and answers requests for it.

    Pure apart from :meth:`touch`: the same request always gets the same bytes, so the crawler's
    conditional requests can be tested exactly.
    """

    def __init__(self, base_url: str, articles: Sequence[Mapping[str, Any]]) -> None:
        validate_articles(articles)
        self.base_url = base_url.rstrip("/") + "/"
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = [copy.deepcopy(dict(a)) for a in articles]
        # Style by position in the file, fixed at start so touch() never changes a page's markup.
        self._styles = {
            rec["slug"]: DATE_STYLES[i % len(DATE_STYLES)] for i, rec in enumerate(self._records)
        }
        # "Read more" asides inside the body on every fourth article, after the second paragraph.
        self._inline_more = {rec["slug"] for i, rec in enumerate(self._records) if i % 4 == 3}

    # -- the records -------------------------------------------------------------------------

    @property
    def articles(self) -> list[dict[str, Any]]:
        """A copy of the current records, in file order."""
        with self._lock:
            return copy.deepcopy(self._records)

    def date_style(self, slug: str) -> str:
        """Which of :data:`DATE_STYLES` the article's page uses."""
        return self._styles[slug]

    def touch(self, slug: str, updated: str) -> None:
        """Marks an article as updated on ``updated`` (YYYY-MM-DD): new ETag, Last-Modified,
        sitemap lastmod and an "Updated:" line, as a newsroom correction would."""
        with self._lock:
            for i, rec in enumerate(self._records):
                if rec["slug"] == slug:
                    new = {**rec, "updated": updated}
                    validate_articles([new])
                    self._records[i] = new
                    return
        raise KeyError(slug)

    def _snapshot(self) -> list[dict[str, Any]]:
        # Records are replaced, never mutated, so a shallow copy of the list is a consistent view.
        with self._lock:
            return list(self._records)

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    # -- routing -----------------------------------------------------------------------------

    def __call__(self, hit: Hit) -> Route:
        """Answers one request (the kit's ``app``): GET or HEAD, else 405.

        The query string is ignored, as on most news sites (``?utm_source=rss`` serves the same
        page); the canonical link tells crawlers which URL is the real one.
        """
        if hit.method not in ("GET", "HEAD"):
            return Route(405, b"405\n", TEXT_TYPE, {"Allow": "GET, HEAD"}, etag=False)
        path = unquote(urlsplit(hit.path).path) or "/"
        records = self._snapshot()

        if path in ("/", "/index.html"):
            return _html(self.render_home(records))
        if path == "/robots.txt":
            return Route(200, self._render("robots.txt").encode(), TEXT_TYPE, etag=False)
        if path == "/sitemap.xml":
            return Route(200, self.render_sitemap(records).encode(), XML_TYPE, etag=False)
        if path == "/feed.xml":
            return Route(200, self.render_feed(records).encode(), RSS_TYPE, etag=False)
        if path == "/admin":
            return self._redirect("/admin/")
        if path.startswith("/admin/"):
            # The newsroom back office: disallowed in robots.txt, yet answering 200 with links,
            # so a crawler that ignores robots.txt is caught by the request log, not by a 404.
            return _html(self._render("admin.html", path=path))
        if path in _STATIC_PAGES:
            heading, text = _STATIC_PAGES[path]
            crumbs = [("Home", "/"), (heading, None)]
            return _html(self._page("static.html", path, crumbs, heading=heading, text=text))

        if m := _ARTICLE_PATH_RE.fullmatch(path):
            rec = next((r for r in records if r["slug"] == m.group(3)), None)
            if rec is not None and article_path(rec) == path:
                return self._article_response(rec, records, hit.headers)
            return self._not_found()

        if m := _SECTION_PATH_RE.fullmatch(path):
            section, page_text = m.group(1), m.group(2)
            if section not in SECTIONS:
                return self._not_found()
            if page_text is not None and int(page_text) == 1:
                return self._redirect(f"/{section}/")
            page = int(page_text) if page_text else 1
            body = self.render_section(section, page, records)
            return _html(body) if body is not None else self._not_found()

        if (m := _SECTION_NO_SLASH_RE.fullmatch(path)) and m.group(1) in SECTIONS:
            return self._redirect(path + "/")
        return self._not_found()

    def _redirect(self, path: str) -> Route:
        return Route(301, b"", TEXT_TYPE, {"Location": self.url(path)}, etag=False)

    def _not_found(self) -> Route:
        return _html(self._page("not_found.html", None, []), status=404)

    def _article_response(
        self,
        rec: Mapping[str, Any],
        records: Sequence[Mapping[str, Any]],
        request_headers: Mapping[str, str],
    ) -> Route:
        tag, modified = etag(rec), last_modified(rec)
        headers = {
            "ETag": tag,
            "Last-Modified": _http_date(modified),
            "Cache-Control": "public, max-age=300",
        }
        if _not_modified(request_headers, tag, modified):
            return Route(304, b"", "", headers, etag=False)
        body = self.render_article(rec, records).encode("utf-8")
        return Route(200, body, HTML_TYPE, headers, etag=False)

    # -- pages -------------------------------------------------------------------------------

    def _render(self, template: str, **context: Any) -> str:
        return _TEMPLATES.get_template(template).render(url=self.url, **context)

    def _page(
        self,
        template: str,
        canonical_path: str | None,
        breadcrumbs: Sequence[tuple[str, str | None]],
        **context: Any,
    ) -> str:
        """A page in the site's layout (templates/layout.html)."""
        return self._render(
            template, canonical_path=canonical_path, breadcrumbs=breadcrumbs, **context
        )

    def render_home(self, records: Sequence[Mapping[str, Any]]) -> str:
        return self._page("home.html", "/", [], latest=_newest_first(records)[:HOME_LATEST])

    def section_pages(
        self, section: str, records: Sequence[Mapping[str, Any]] | None = None
    ) -> int:
        """How many listing pages the section has (at least one, even when empty)."""
        source = records if records is not None else self._snapshot()
        items = [r for r in source if r["section"] == section]
        return max(1, -(-len(items) // PER_PAGE))

    def render_section(
        self, section: str, page: int, records: Sequence[Mapping[str, Any]]
    ) -> str | None:
        """One listing page of a section, newest first; None for a page past the end."""
        items = _newest_first(r for r in records if r["section"] == section)
        pages = self.section_pages(section, records)
        if not 1 <= page <= pages:
            return None

        def page_path(n: int) -> str:
            return f"/{section}/" if n == 1 else f"/{section}/page/{n}/"

        name = SECTIONS[section]
        return self._page(
            "section.html",
            page_path(page),
            [("Home", "/"), (name, None)],
            section=section,
            name=name,
            page=page,
            pages=pages,
            page_path=page_path,
            shown=items[(page - 1) * PER_PAGE : page * PER_PAGE],
        )

    def render_article(self, rec: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
        style = self._styles[rec["slug"]]
        path = article_path(rec)
        url = self.url(path)
        pub, upd = published_at(rec), updated_at(rec)
        section_name = SECTIONS[rec["section"]]
        json_ld = None
        if style == "json-ld":
            data: dict[str, Any] = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": rec["title"],
                "description": rec["summary"],
                "datePublished": pub.isoformat(),
                "author": [
                    {"@type": "Person", "name": name}
                    for name in re.split(r"\s+and\s+", rec["author"])
                ],
                "publisher": {"@type": "Organization", "name": SITE_NAME},
                "mainEntityOfPage": url,
                "articleSection": section_name,
                "inLanguage": "en",
            }
            if upd is not None:
                data["dateModified"] = upd.isoformat()
            # Safe inside <script>: "</" cannot end the element early.
            json_ld = Markup(json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/"))
        related = self._related(rec, records)
        read_more = related[0] if rec["slug"] in self._inline_more and related else None
        crumbs = [("Home", "/"), (section_name, f"/{rec['section']}/"), (rec["title"], None)]
        return self._page(
            "article.html",
            path,
            crumbs,
            rec=rec,
            style=style,
            page_url=url,
            pub=pub,
            upd=upd,
            section_name=section_name,
            json_ld=json_ld,
            related=related,
            read_more=read_more,
        )

    def _related(
        self, rec: Mapping[str, Any], records: Sequence[Mapping[str, Any]], n: int = 3
    ) -> list[Mapping[str, Any]]:
        """The ``n`` stories of the same section nearest in date, then others nearest in date."""
        day = date.fromisoformat(rec["published"])

        def distance(r: Mapping[str, Any]) -> tuple[int, int, str]:
            gap = abs((date.fromisoformat(r["published"]) - day).days)
            return (r["section"] != rec["section"], gap, r["slug"])

        others = [r for r in records if r["slug"] != rec["slug"]]
        return sorted(others, key=distance)[:n]

    def render_sitemap(self, records: Sequence[Mapping[str, Any]]) -> str:
        newest = _newest_first(records)
        entries: list[tuple[str, str, str | None]] = []
        if newest:
            top = max(last_modified(r) for r in newest).date().isoformat()
            entries.append((self.url("/"), top, "daily"))
        for sid in SECTIONS:
            items = [r for r in newest if r["section"] == sid]
            if items:
                latest = max(last_modified(r) for r in items).date().isoformat()
                entries.append((self.url(f"/{sid}/"), latest, "daily"))
        for rec in newest:
            modified = last_modified(rec).date().isoformat()
            entries.append((self.url(article_path(rec)), modified, None))
        return self._render("sitemap.xml", entries=entries)

    def render_feed(self, records: Sequence[Mapping[str, Any]]) -> str:
        return self._render("feed.xml", latest=_newest_first(records)[:FEED_SIZE])


def _html(body: str, status: int = 200) -> Route:
    return Route(status, body.encode("utf-8"), HTML_TYPE, etag=False)


def _newest_first(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(records, key=lambda r: (published_at(r), r["slug"]), reverse=True)


def _not_modified(headers: Mapping[str, str], tag: str, modified: datetime) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; If-Modified-Since only when it is absent."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == tag for t in tags)
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified.replace(microsecond=0) <= since
    return False


# --------------------------------------------------------------------------------------------
# Serving


class SampleSite(LoopbackSite):
    """The sample news site running on a loopback port: a :class:`LoopbackSite` whose app is
    the :class:`NewsSite`, so tests can still add routes or hold requests in front of it.

    Use :func:`serve` to start one; close it with :meth:`close` or a ``with`` block. Every request
    is logged in :attr:`requests` so tests can check what a crawler fetched (robots.txt first,
    never ``/admin/``, conditional requests on a re-crawl, delays between requests...).
    """

    server_version = "InnoHerald/1.0"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        articles: Sequence[Mapping[str, Any]] | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(host, port, verbose=verbose)
        self.news = NewsSite(self.url(), articles if articles is not None else load_articles())
        self.app = self.news

    @property
    def articles(self) -> list[dict[str, Any]]:
        """The records being served (a copy), in file order."""
        return self.news.articles

    def article_url(self, article: Mapping[str, Any] | str) -> str:
        """The absolute URL of an article, given its record or its slug."""
        if isinstance(article, str):
            article = next(a for a in self.news.articles if a["slug"] == article)
        return self.url(article_path(article))

    def date_style(self, slug: str) -> str:
        """How the article's page marks up its publication date: one of :data:`DATE_STYLES`."""
        return self.news.date_style(slug)

    def touch(self, slug: str, updated: str) -> None:
        """Marks an article as updated on ``updated`` (YYYY-MM-DD), changing its ETag and
        Last-Modified, so a re-crawl test can check that only changed pages are re-fetched."""
        self.news.touch(slug, updated)


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    articles: Sequence[Mapping[str, Any]] | None = None,
    verbose: bool = False,
) -> SampleSite:
    """Starts the sample site on ``host:port`` (port 0 picks a free one) and returns it running.

    ``articles`` replaces the bundled records (same JSON shape), for tests that need a custom
    site; ``verbose`` logs each request to stderr like ``http.server`` does.
    """
    return SampleSite(host, port, articles=articles, verbose=verbose)
