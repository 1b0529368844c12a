"""The bundled sample news site, "The Innovation Herald", rendered from ``articles.json``.

`innosearch demo` and the crawler tests need a realistic site that lives on loopback, so nothing
depends on the network: this module renders the articles as a small news site (home page, paged
sections, article pages, robots.txt, sitemap, RSS feed) and serves it from a
``ThreadingHTTPServer`` in a daemon thread.

The pages deliberately carry what real news pages carry and a good crawler and extractor must cope
with: a cookie banner, navigation, breadcrumbs, a share bar, "related stories", an inline "Read
more" link inside some article bodies, a footer, three different ways of marking up the
publication date (rotated over the articles) and, on some pages, an "Updated:" date that is later
than the publication date (sometimes in the next year). ``/admin/`` is disallowed in robots.txt but
answers 200, so a crawler that ignores robots.txt shows up in :attr:`SampleSite.requests`.

:class:`NewsSite` turns a request into a :class:`Response` without any sockets (easy to test);
:class:`SampleSite` puts it behind a real HTTP server and records every request.
"""

from __future__ import annotations

import copy
import email.utils
import hashlib
import html
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

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

HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
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


@dataclass
class Response:
    """What the server sends: status, headers (without Content-Length) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


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

    def has_inline_more(self, slug: str) -> bool:
        """Whether the article body holds a "Read more" aside: boilerplate inside <article>."""
        return slug in self._inline_more

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

    def respond(
        self, method: str, target: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Answers one GET or HEAD request for ``target`` (a path with optional query string).

        The query string is ignored, as on most news sites (``?utm_source=rss`` serves the same
        page); the canonical link tells crawlers which URL is the real one.
        """
        request_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if method not in ("GET", "HEAD"):
            return Response(405, [("Allow", "GET, HEAD"), ("Content-Type", TEXT_TYPE)], b"405\n")
        path = unquote(urlsplit(target).path) or "/"
        records = self._snapshot()

        if path in ("/", "/index.html"):
            return self._html(200, self.render_home(records))
        if path == "/robots.txt":
            return Response(200, [("Content-Type", TEXT_TYPE)], self.render_robots().encode())
        if path == "/sitemap.xml":
            return Response(
                200, [("Content-Type", XML_TYPE)], self.render_sitemap(records).encode()
            )
        if path == "/feed.xml":
            return Response(200, [("Content-Type", RSS_TYPE)], self.render_feed(records).encode())
        if path == "/admin":
            return self._redirect("/admin/")
        if path.startswith("/admin/"):
            return self._html(200, self.render_admin(path))
        if path in _STATIC_PAGES:
            return self._html(200, self.render_static(path))

        if m := _ARTICLE_PATH_RE.fullmatch(path):
            rec = next((r for r in records if r["slug"] == m.group(3)), None)
            if rec is not None and article_path(rec) == path:
                return self._article_response(rec, records, request_headers)
            return self._not_found()

        if m := _SECTION_PATH_RE.fullmatch(path):
            section, page_text = m.group(1), m.group(2)
            if section not in SECTIONS:
                return self._not_found()
            if page_text is not None and int(page_text) == 1:
                return self._redirect(f"/{section}/")
            page = int(page_text) if page_text else 1
            body = self.render_section(section, page, records)
            return self._html(200, body) if body is not None else self._not_found()

        if (m := _SECTION_NO_SLASH_RE.fullmatch(path)) and m.group(1) in SECTIONS:
            return self._redirect(path + "/")
        return self._not_found()

    def _html(self, status: int, body: str) -> Response:
        return Response(status, [("Content-Type", HTML_TYPE)], body.encode("utf-8"))

    def _redirect(self, path: str) -> Response:
        return Response(301, [("Location", self.url(path)), ("Content-Type", TEXT_TYPE)], b"")

    def _not_found(self) -> Response:
        return self._html(404, self.render_not_found())

    def _article_response(
        self,
        rec: Mapping[str, Any],
        records: Sequence[Mapping[str, Any]],
        request_headers: Mapping[str, str],
    ) -> Response:
        tag, modified = etag(rec), last_modified(rec)
        headers = [
            ("ETag", tag),
            ("Last-Modified", _http_date(modified)),
            ("Cache-Control", "public, max-age=300"),
        ]
        if _not_modified(request_headers, tag, modified):
            return Response(304, headers)
        body = self.render_article(rec, records).encode("utf-8")
        return Response(200, [("Content-Type", HTML_TYPE), *headers], body)

    # -- page parts --------------------------------------------------------------------------

    def _layout(
        self,
        *,
        title: str,
        description: str,
        canonical_path: str | None,
        main: str,
        head_extra: str = "",
        body_class: str = "",
        breadcrumbs: Sequence[tuple[str, str | None]] = (),
    ) -> str:
        canonical = (
            f'<link rel="canonical" href="{_esc(self.url(canonical_path))}">\n'
            if canonical_path is not None
            else ""
        )
        crumbs = ""
        if breadcrumbs:
            items = []
            for label, href in breadcrumbs:
                if href is None:
                    items.append(f'<li aria-current="page">{_esc(label)}</li>')
                else:
                    items.append(f'<li><a href="{_esc(href)}">{_esc(label)}</a></li>')
            crumbs = (
                '<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>'
                + "".join(items)
                + "</ol></nav>\n"
            )
        menu = "".join(
            f'<li><a href="/{sid}/">{_esc(name)}</a></li>' for sid, name in SECTIONS.items()
        )
        footer_sections = " · ".join(
            f'<a href="/{sid}/">{_esc(name)}</a>' for sid, name in SECTIONS.items()
        )
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title>
<meta name="description" content="{_esc(description)}">
{canonical}<link rel="alternate" type="application/rss+xml" title="{_esc(SITE_NAME)}"
 href="/feed.xml">
{head_extra}<style>{_CSS}</style>
</head>
<body class="{_esc(body_class)}">
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>We use cookies to understand how our stories are read and to remember your preferences.
By continuing to browse you agree to our use of cookies. <a href="/privacy/">Privacy policy</a></p>
<button type="button">Accept all</button> <button type="button">Reject non-essential</button>
</div>
<header class="site-header">
<a class="logo" href="/">{_esc(SITE_NAME)}</a>
<p class="tagline">Science parks, chips, clean energy and the people building them</p>
<nav class="main-nav" aria-label="Sections"><ul><li><a href="/">Home</a></li>{menu}
<li><a href="/feed.xml">RSS</a></li></ul></nav>
<form class="search" action="/" method="get" role="search">
<input type="search" name="s" placeholder="Search stories"><button type="submit">Go</button>
</form>
</header>
{crumbs}<main id="content" class="layout">
{main}
</main>
<footer class="site-footer">
<nav class="footer-links" aria-label="Site"><a href="/about/">About us</a>
<a href="/contact/">Contact</a> <a href="/privacy/">Privacy &amp; cookies</a>
<a href="/feed.xml">RSS feed</a> <a href="/sitemap.xml">Sitemap</a></nav>
<p class="footer-sections">{footer_sections}</p>
<p class="copyright">&copy; 2019&ndash;2025 {_esc(SITE_NAME)}. All rights reserved.
A sample site bundled with innosearch: every story, firm and person quoted here is invented.</p>
</footer>
</body>
</html>
"""

    def _teaser(self, rec: Mapping[str, Any], *, with_section: bool) -> str:
        kicker = (
            f'<a class="kicker" href="/{rec["section"]}/">{_esc(SECTIONS[rec["section"]])}</a> '
            if with_section
            else ""
        )
        d = published_at(rec)
        return (
            f'<li class="teaser">{kicker}<h3><a href="{_esc(article_path(rec))}">'
            f"{_esc(rec['title'])}</a></h3>"
            f'<p class="meta">{_esc(rec["author"])} &middot; {_esc(_long_date(d))}</p>'
            f'<p class="summary">{_esc(rec["summary"])}</p></li>'
        )

    # -- pages -------------------------------------------------------------------------------

    def render_home(self, records: Sequence[Mapping[str, Any]]) -> str:
        latest = _newest_first(records)[:HOME_LATEST]
        teasers = "\n".join(self._teaser(r, with_section=True) for r in latest)
        sections = "".join(
            f'<li><a href="/{sid}/">More in {_esc(name)} &raquo;</a></li>'
            for sid, name in SECTIONS.items()
        )
        main = f"""<section class="latest">
<h2>Latest stories</h2>
<ul class="teasers">
{teasers}
</ul>
</section>
<aside class="section-links"><h2>Sections</h2><ul>{sections}</ul>
<p><a href="/feed.xml">Subscribe with RSS</a></p></aside>"""
        return self._layout(
            title=f"{SITE_NAME} - innovation news",
            description="News on innovation weeks, science parks, unicorn firms, industrial "
            "chains and international science cooperation.",
            canonical_path="/",
            main=main,
            body_class="home",
        )

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
        shown = items[(page - 1) * PER_PAGE : page * PER_PAGE]
        name = SECTIONS[section]

        def page_path(n: int) -> str:
            return f"/{section}/" if n == 1 else f"/{section}/page/{n}/"

        head_extra = ""
        links = []
        if page > 1:
            head_extra += f'<link rel="prev" href="{_esc(self.url(page_path(page - 1)))}">\n'
            links.append(f'<a rel="prev" href="{page_path(page - 1)}">&larr; Newer stories</a>')
        for n in range(1, pages + 1):
            if n == page:
                links.append(f'<span class="current" aria-current="page">{n}</span>')
            else:
                links.append(f'<a href="{page_path(n)}">{n}</a>')
        if page < pages:
            head_extra += f'<link rel="next" href="{_esc(self.url(page_path(page + 1)))}">\n'
            links.append(f'<a rel="next" href="{page_path(page + 1)}">Older stories &rarr;</a>')
        teasers = "\n".join(self._teaser(r, with_section=False) for r in shown)
        main = f"""<section class="section-listing">
<h1>{_esc(name)}</h1>
<p class="page-count">Page {page} of {pages}</p>
<ul class="teasers">
{teasers}
</ul>
<nav class="pagination" aria-label="Pages">{" ".join(links)}</nav>
</section>"""
        title = f"{name} | {SITE_NAME}" if page == 1 else f"{name} - page {page} | {SITE_NAME}"
        crumbs: list[tuple[str, str | None]] = [("Home", "/"), (name, None)]
        return self._layout(
            title=title,
            description=f"{name} news from {SITE_NAME}, page {page}.",
            canonical_path=page_path(page),
            main=main,
            head_extra=head_extra,
            body_class=f"section section-{section}",
            breadcrumbs=crumbs,
        )

    def render_article(self, rec: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
        style = self._styles[rec["slug"]]
        path = article_path(rec)
        url = self.url(path)
        pub, upd = published_at(rec), updated_at(rec)
        section_name = SECTIONS[rec["section"]]

        head = [
            '<meta property="og:type" content="article">',
            f'<meta property="og:title" content="{_esc(rec["title"])}">',
            f'<meta property="og:description" content="{_esc(rec["summary"])}">',
            f'<meta property="og:url" content="{_esc(url)}">',
            f'<meta property="og:site_name" content="{_esc(SITE_NAME)}">',
            '<meta name="twitter:card" content="summary">',
            f'<meta name="author" content="{_esc(rec["author"])}">',
        ]
        if style == "meta":
            head.append(f'<meta property="article:published_time" content="{pub.isoformat()}">')
            if upd is not None:
                head.append(f'<meta property="article:modified_time" content="{upd.isoformat()}">')
            head.append(f'<meta property="article:section" content="{_esc(section_name)}">')
        elif style == "json-ld":
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
            payload = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
            head.append(f'<script type="application/ld+json">\n{payload}\n</script>')

        # The visible dates: machine-readable only in the "time" style.
        if style == "time":
            date_html = (
                f'<time class="published" datetime="{pub.isoformat()}">{_us_date(pub)}</time>'
            )
        elif style == "meta":
            date_html = f'<span class="date">{_esc(_short_date(pub))}</span>'
        else:
            date_html = f'<span class="date">{_esc(_long_date(pub))}</span>'
        updated_html = ""
        if upd is not None:
            if style == "time":
                shown = f'<time datetime="{upd.isoformat()}">{_us_date(upd)}</time>'
            elif style == "meta":
                shown = _esc(_short_date(upd))
            else:
                shown = _esc(_long_date(upd))
            updated_html = f'<p class="updated">Updated: {shown}</p>\n'

        paragraphs = [f"<p>{_esc(p)}</p>" for p in rec["paragraphs"]]
        related = self._related(rec, records)
        if rec["slug"] in self._inline_more and related and len(paragraphs) > 2:
            more = related[0]
            paragraphs.insert(
                2,
                '<aside class="read-more">Read more: '
                f'<a href="{_esc(article_path(more))}">{_esc(more["title"])}</a></aside>',
            )
        share_url = quote(url, safe="")
        share_title = quote(rec["title"], safe="")
        related_items = "".join(
            f'<li><a href="{_esc(self.url(article_path(r)))}">{_esc(r["title"])}</a></li>'
            for r in related
        )
        main = f"""<article class="story">
<header class="story-header">
<p class="kicker"><a href="/{rec["section"]}/">{_esc(section_name)}</a></p>
<h1 class="headline">{_esc(rec["title"])}</h1>
<p class="standfirst">{_esc(rec["summary"])}</p>
<p class="byline">By <span class="author">{_esc(rec["author"])}</span>
<span class="sep">|</span> {date_html}</p>
{updated_html}</header>
<div class="share-bar" aria-label="Share this story">Share:
<a href="https://twitter.com/intent/tweet?url={share_url}&amp;text={share_title}"
 rel="nofollow noopener">X</a>
<a href="https://www.facebook.com/sharer/sharer.php?u={share_url}"
 rel="nofollow noopener">Facebook</a>
<a href="https://www.linkedin.com/sharing/share-offsite/?url={share_url}"
 rel="nofollow noopener">LinkedIn</a>
<a href="mailto:?subject={share_title}&amp;body={share_url}">Email</a>
</div>
<div class="story-body">
{chr(10).join(paragraphs)}
</div>
</article>
<aside class="related"><h2>Related stories</h2><ul>{related_items}</ul></aside>
<aside class="newsletter"><h2>The weekly briefing</h2>
<p>Get the week's innovation news in your inbox every Friday. Free, and you can unsubscribe
at any time.</p>
<form action="/newsletter/" method="post"><input type="email" name="email"
 placeholder="you@example.com"><button type="submit">Sign up</button></form></aside>"""
        return self._layout(
            title=f"{rec['title']} | {SITE_NAME}",
            description=rec["summary"],
            canonical_path=path,
            main=main,
            head_extra="\n".join(head) + "\n",
            body_class=f"article-page section-{rec['section']}",
            breadcrumbs=[
                ("Home", "/"),
                (section_name, f"/{rec['section']}/"),
                (rec["title"], None),
            ],
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

    def render_robots(self) -> str:
        return f"""# robots.txt for {SITE_NAME}
User-agent: *
Disallow: /admin/

Sitemap: {self.url("/sitemap.xml")}
"""

    def render_sitemap(self, records: Sequence[Mapping[str, Any]]) -> str:
        newest = _newest_first(records)
        entries = []
        if newest:
            top = max(last_modified(r) for r in newest).date().isoformat()
            entries.append(_sitemap_url(self.url("/"), top, "daily"))
        for sid in SECTIONS:
            items = [r for r in newest if r["section"] == sid]
            if items:
                latest = max(last_modified(r) for r in items).date().isoformat()
                entries.append(_sitemap_url(self.url(f"/{sid}/"), latest, "daily"))
        for rec in newest:
            entries.append(
                _sitemap_url(self.url(article_path(rec)), last_modified(rec).date().isoformat())
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "".join(entries)
            + "</urlset>\n"
        )

    def render_feed(self, records: Sequence[Mapping[str, Any]]) -> str:
        latest = _newest_first(records)[:FEED_SIZE]
        items = []
        for rec in latest:
            link = xml_escape(self.url(article_path(rec)))
            items.append(
                "<item>\n"
                f"<title>{xml_escape(rec['title'])}</title>\n"
                f"<link>{link}</link>\n"
                f'<guid isPermaLink="true">{link}</guid>\n'
                f"<pubDate>{email.utils.format_datetime(published_at(rec))}</pubDate>\n"
                f"<dc:creator>{xml_escape(rec['author'])}</dc:creator>\n"
                f"<category>{xml_escape(SECTIONS[rec['section']])}</category>\n"
                f"<description>{xml_escape(rec['summary'])}</description>\n"
                "</item>\n"
            )
        built = email.utils.format_datetime(published_at(latest[0])) if latest else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"<title>{xml_escape(SITE_NAME)}</title>\n"
            f"<link>{xml_escape(self.base_url)}</link>\n"
            "<description>Innovation press coverage: science parks, chips, clean energy and "
            "international science cooperation.</description>\n"
            "<language>en</language>\n"
            f"<lastBuildDate>{built}</lastBuildDate>\n"
            f'<atom:link href="{xml_escape(self.url("/feed.xml"))}" rel="self" '
            'type="application/rss+xml"/>\n' + "".join(items) + "</channel>\n</rss>\n"
        )

    def render_admin(self, path: str) -> str:
        """The newsroom back office: disallowed in robots.txt, yet answering 200 with links, so a
        crawler that ignores robots.txt is caught by the request log instead of by a 404."""
        links = "".join(
            f'<li><a href="{href}">{_esc(label)}</a></li>'
            for href, label in (
                ("/admin/drafts/", "Drafts"),
                ("/admin/drafts/embargoed-fab-announcement.html", "Embargoed: fab announcement"),
                ("/admin/users/", "Users"),
                ("/admin/settings/", "Settings"),
            )
        )
        return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">
<title>Newsroom CMS | {_esc(SITE_NAME)}</title></head>
<body class="admin"><h1>Newsroom CMS</h1><p>Signed in as editor. Path: {_esc(path)}</p>
<ul>{links}</ul></body>
</html>
"""

    def render_static(self, path: str) -> str:
        heading, text = _STATIC_PAGES[path]
        return self._layout(
            title=f"{heading} | {SITE_NAME}",
            description=text,
            canonical_path=path,
            main=f'<section class="static"><h1>{_esc(heading)}</h1><p>{_esc(text)}</p></section>',
            body_class="static",
            breadcrumbs=[("Home", "/"), (heading, None)],
        )

    def render_not_found(self) -> str:
        return self._layout(
            title=f"Page not found | {SITE_NAME}",
            description="The page you asked for does not exist.",
            canonical_path=None,
            main='<section class="not-found"><h1>Page not found</h1>'
            "<p>Sorry, we could not find that page. "
            'Try the <a href="/">home page</a>.</p></section>',
            body_class="not-found",
        )


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

_CSS = (
    "body{font-family:Georgia,serif;max-width:60rem;margin:0 auto;padding:0 1rem;color:#222}"
    ".cookie-banner{background:#f3f0e6;padding:.5rem;font-size:.85rem}"
    ".site-header .logo{font-size:1.8rem;font-weight:bold;color:#7a1f1f;text-decoration:none}"
    ".main-nav ul,.breadcrumbs ol{list-style:none;padding:0;display:flex;gap:1rem}"
    ".breadcrumbs li+li:before{content:'\\203A  '}"
    ".teasers{list-style:none;padding:0}.teaser h3{margin:.2rem 0}"
    ".meta,.byline,.updated,.page-count{color:#666;font-size:.9rem}"
    ".share-bar{font-size:.85rem;margin:.5rem 0}.read-more{font-style:italic;margin:1rem 0}"
    ".related,.newsletter,.section-links{border-top:1px solid #ddd;margin-top:1.5rem}"
    ".site-footer{border-top:2px solid #7a1f1f;margin-top:2rem;font-size:.85rem;color:#555}"
)


def _newest_first(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(records, key=lambda r: (published_at(r), r["slug"]), reverse=True)


def _sitemap_url(loc: str, lastmod: str, changefreq: str | None = None) -> str:
    freq = f"<changefreq>{changefreq}</changefreq>" if changefreq else ""
    return f"<url><loc>{xml_escape(loc)}</loc><lastmod>{lastmod}</lastmod>{freq}</url>\n"


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


@dataclass(frozen=True)
class RequestRecord:
    """One request the sample server answered, for tests to assert what a crawler fetched.

    ``at`` is ``time.monotonic()`` when the request arrived (differences measure crawl delays);
    ``timestamp`` is the wall-clock ``time.time()`` at the same moment. ``headers`` holds the
    request headers with lowercase names (``if-none-match``, ``user-agent``...).
    """

    method: str
    path: str
    status: int
    at: float
    timestamp: float
    user_agent: str
    headers: Mapping[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Rebinding a port right after a test closed it must not fail with "address in use".
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: SampleSite) -> None:
        self.owner = owner
        if ":" in address[0]:  # an IPv6 literal such as "::1"
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "InnoHerald/1.0"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_POST(self) -> None:
        # The newsletter form posts here; a crawler never should. Answered 405 and logged.
        self._answer(send_body=True)

    def _answer(self, *, send_body: bool) -> None:
        at, timestamp = time.monotonic(), time.time()
        owner = self.server.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = owner.news.respond(self.command, self.path, headers)
        owner._record(
            RequestRecord(
                method=self.command,
                path=self.path,
                status=response.status,
                at=at,
                timestamp=timestamp,
                user_agent=headers.get("user-agent", ""),
                headers=headers,
            )
        )
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            if response.status != 304:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if send_body and response.status != 304:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # A crawler that gives up mid-response (timeout, size cap) is normal, not an error.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


class SampleSite:
    """The sample news site running on a loopback port in a daemon thread.

    Use :func:`serve` to start one; close it with :meth:`close` or a ``with`` block. Every request
    is recorded in :attr:`requests` so tests can check what a crawler fetched (robots.txt first,
    never ``/admin/``, conditional requests on a re-crawl, delays between requests...).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        articles: Sequence[Mapping[str, Any]] | None = None,
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._server = _Server((host, port), self)
        self.host = host
        self.port: int = self._server.server_address[1]
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        if ":" in url_host:
            url_host = f"[{url_host}]"
        self.url = f"http://{url_host}:{self.port}/"
        self.news = NewsSite(self.url, articles if articles is not None else load_articles())
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sample-site-{self.port}",
            daemon=True,
        )
        self._thread.start()

    # -- content -----------------------------------------------------------------------------

    @property
    def articles(self) -> list[dict[str, Any]]:
        """The records being served (a copy), in file order."""
        return self.news.articles

    def article_url(self, article: Mapping[str, Any] | str) -> str:
        """The absolute URL of an article, given its record or its slug."""
        if isinstance(article, str):
            article = next(a for a in self.news.articles if a["slug"] == article)
        return self.news.url(article_path(article))

    def date_style(self, slug: str) -> str:
        """How the article's page marks up its publication date: one of :data:`DATE_STYLES`."""
        return self.news.date_style(slug)

    def touch(self, slug: str, updated: str) -> None:
        """Marks an article as updated on ``updated`` (YYYY-MM-DD), changing its ETag and
        Last-Modified, so a re-crawl test can check that only changed pages are re-fetched."""
        self.news.touch(slug, updated)

    # -- the request log ---------------------------------------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request answered so far, in arrival order of their answers."""
        with self._log_lock:
            return list(self._log)

    @property
    def paths(self) -> list[str]:
        """Just the request targets (path and query) from :attr:`requests`, in order."""
        return [r.path for r in self.requests]

    def clear_requests(self) -> None:
        """Forgets the log, e.g. between a first crawl and an incremental re-crawl."""
        with self._log_lock:
            self._log.clear()

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stops the server and waits for its thread; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<SampleSite {self.url} {state}, {len(self.news.articles)} articles>"


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
