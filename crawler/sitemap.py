"""Sitemaps: urlset and sitemap index, plain or gzipped, read into lists of (URL, last modified).

The sitemaps protocol also accepts RSS and Atom feeds as sitemaps; the crawl sends those to
`crawler.feeds` (feedparser) before they reach this parser, so it reads sitemaps alone.

Parsing is namespace-agnostic (sites get the namespace wrong) and defensive: entities are not
resolved and nothing is loaded from the network, so a hostile file cannot read local files
(XXE), and the gzip layer is read only up to a byte limit, so a small file cannot expand into
gigabytes.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin

from lxml import etree

__all__ = ["MAX_ENTRIES", "Sitemap", "SitemapEntry", "decompress", "parse_sitemap"]

# The sitemaps protocol's own limits: 50,000 URLs and 50 MB uncompressed per file.
MAX_ENTRIES = 50_000
MAX_UNCOMPRESSED = 50 * 1024 * 1024

Kind = Literal["urlset", "sitemapindex", "unknown"]


@dataclass
class SitemapEntry:
    """One listed URL; ``lastmod`` is the file's own date text (W3C datetime), or None."""

    loc: str
    lastmod: str | None = None


@dataclass
class Sitemap:
    """What one file listed: pages (``urls``) and, for an index, further sitemaps."""

    kind: Kind = "unknown"
    urls: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[SitemapEntry] = field(default_factory=list)


def decompress(body: bytes, max_bytes: int = MAX_UNCOMPRESSED) -> bytes:
    """The body un-gzipped if it is gzip (by its magic bytes, not its name), cut at max_bytes.

    Servers send ``sitemap.xml.gz`` with and without ``Content-Encoding: gzip``; when requests
    already decoded it the bytes are plain XML and come back unchanged.
    """
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            return stream.read(max_bytes)
    except (OSError, EOFError, zlib.error):
        return b""


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, *names: str) -> str | None:
    for child in element:
        if _local(child.tag) in names:
            text = (child.text or "").strip()
            if text:
                return text
    return None


def parse_sitemap(body: bytes, base_url: str = "", max_bytes: int = MAX_UNCOMPRESSED) -> Sitemap:
    """Reads a sitemap or sitemap index; anything else gives an empty one.

    Never raises on bad input: a broken sitemap should cost the crawl one file, not the run.
    Relative locations are resolved against ``base_url``.
    """
    data = decompress(body, max_bytes)
    if not data.strip():
        return Sitemap()
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, remove_comments=True, remove_pis=True
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return Sitemap()
    if root is None:
        return Sitemap()
    kind = _local(root.tag)
    result = Sitemap()
    if kind in ("urlset", "sitemapindex"):
        result.kind = kind  # type: ignore[assignment]
        wanted = "url" if kind == "urlset" else "sitemap"
        target = result.urls if kind == "urlset" else result.sitemaps
        for element in root:
            if _local(element.tag) != wanted:
                continue
            loc = _child_text(element, "loc")
            if loc:
                target.append(SitemapEntry(urljoin(base_url, loc), _child_text(element, "lastmod")))
    del result.urls[MAX_ENTRIES:]
    del result.sitemaps[MAX_ENTRIES:]
    return result
