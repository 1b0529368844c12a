"""RSS and Atom feeds, read with feedparser: the newest articles of a site, with their dates.

News sites list their latest stories in a feed long before a crawl of the front page would get
to them, and a feed is cheap to re-read on every run. feedparser copes with what real feeds get
wrong (RSS 0.9x to 2.0, RDF, Atom 0.3 and 1.0, bad dates, undeclared entities, wrong encodings),
which is why it reads them rather than our own sitemap parser: a feed it can half read still
gives its links (``bozo`` feeds are used, not rejected).

Only bytes are ever handed to feedparser: given a string it would treat it as a URL or a file
name and fetch or open it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import feedparser

__all__ = ["MAX_FEED_ENTRIES", "Feed", "FeedEntry", "looks_like_feed", "parse_feed"]

MAX_FEED_ENTRIES = 10_000  # a feed longer than this is a trap or an archive dump, not a feed

_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf")


@dataclass
class FeedEntry:
    """One item: the article link (absolute) and its date as ISO 8601 UTC, or None."""

    link: str
    updated: str | None = None
    title: str = ""


@dataclass
class Feed:
    """What a feed listed; ``version`` is feedparser's name for the format ("rss20", "atom10"),
    or "" when the bytes were not a feed."""

    version: str = ""
    title: str = ""
    entries: list[FeedEntry] = field(default_factory=list)


def looks_like_feed(body: bytes) -> bool:
    """Whether the document's root element is RSS, RDF or Atom (sniffed from its first bytes),
    so sitemaps, which share the XML media types, are not sent to feedparser."""
    head = body[:2048].lower()
    return any(root in head for root in _FEED_ROOTS)


def _iso(parsed: time.struct_time | None) -> str | None:
    if parsed is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)


def _field(entry: feedparser.FeedParserDict, name: str) -> object:
    """An entry field by membership test: feedparser's own ``get("updated_parsed")`` silently
    falls back to another field and warns (a DeprecationWarning) when it does."""
    return dict.get(entry, name)


def _entry_link(entry: feedparser.FeedParserDict, base_url: str) -> str | None:
    """The entry's page: its alternate link (not an enclosure, a comments or a self link)."""
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return urljoin(base_url, str(link["href"]).strip())
    href = entry.get("link") or entry.get("id")
    if isinstance(href, str) and href.startswith(("http://", "https://", "/")):
        return urljoin(base_url, href.strip())
    return None


def parse_feed(body: bytes, base_url: str = "") -> Feed:
    """Reads an RSS or Atom document; anything that is not a feed gives an empty `Feed`.

    Never raises on bad input: a broken feed should cost the crawl one file, not the run.
    Relative links resolve against ``base_url`` (the feed's own URL) unless the feed sets
    ``xml:base``.
    """
    if not body.strip():
        return Feed()
    headers = {"content-location": base_url} if base_url else {}
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except Exception:  # feedparser's failure modes are many and undocumented
        return Feed()
    feed = Feed(version=str(parsed.get("version") or ""))
    feed.title = str(parsed.get("feed", {}).get("title") or "")
    for entry in parsed.get("entries", [])[:MAX_FEED_ENTRIES]:
        link = _entry_link(entry, base_url)
        if not link:
            continue
        updated = _iso(_field(entry, "updated_parsed") or _field(entry, "published_parsed"))  # type: ignore[arg-type]
        title = str(_field(entry, "title") or "")
        feed.entries.append(FeedEntry(link=link, updated=updated, title=title))
    return feed
