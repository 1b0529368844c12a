"""Sitemaps, sitemap indexes, gzip and feeds, including the hostile and broken ones."""

from __future__ import annotations

import gzip

from crawler.sitemap import decompress, parse_sitemap

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc> https://example.com/a </loc><lastmod>2024-03-01T10:00:00+00:00</lastmod></url>
  <!-- a comment -->
  <url><loc>https://example.com/b</loc>
       <news:news><news:title>B</news:title></news:news></url>
  <url><lastmod>2024-01-01</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/sitemap-2024.xml.gz</loc><lastmod>2024-03-01</lastmod></sitemap>
  <sitemap><loc>https://example.com/sitemap-2023.xml</loc></sitemap>
</sitemapindex>"""


def test_urlset() -> None:
    sitemap = parse_sitemap(URLSET)
    assert sitemap.kind == "urlset"
    assert [(e.loc, e.lastmod) for e in sitemap.urls] == [
        ("https://example.com/a", "2024-03-01T10:00:00+00:00"),
        ("https://example.com/b", None),
    ]
    assert sitemap.sitemaps == []


def test_sitemap_index() -> None:
    sitemap = parse_sitemap(INDEX)
    assert sitemap.kind == "sitemapindex"
    assert [e.loc for e in sitemap.sitemaps] == [
        "https://example.com/sitemap-2024.xml.gz",
        "https://example.com/sitemap-2023.xml",
    ]
    assert sitemap.sitemaps[0].lastmod == "2024-03-01"
    assert sitemap.urls == []


def test_gzipped_sitemap_is_recognised_by_its_bytes() -> None:
    assert parse_sitemap(gzip.compress(URLSET)).urls == parse_sitemap(URLSET).urls


def test_gzip_is_read_only_up_to_the_limit() -> None:
    bomb = gzip.compress(b"<" + b" " * 1_000_000)
    assert len(decompress(bomb, max_bytes=1000)) == 1000
    assert decompress(b"\x1f\x8bnot really gzip") == b""
    assert decompress(b"<urlset/>") == b"<urlset/>"


def test_without_namespace() -> None:
    sitemap = parse_sitemap(b"<urlset><url><loc>https://example.com/x</loc></url></urlset>")
    assert [e.loc for e in sitemap.urls] == ["https://example.com/x"]


def test_entities_are_not_resolved() -> None:
    hostile = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>
        <urlset><url><loc>https://example.com/&x;</loc></url></urlset>"""
    for entry in parse_sitemap(hostile).urls:
        assert "\n" not in entry.loc and entry.loc.startswith("https://example.com/")


def test_garbage_gives_an_empty_sitemap() -> None:
    for junk in (b"", b"   ", b"<html><body>soft 404</body></html>", b"\x00\x01", b"<<<"):
        sitemap = parse_sitemap(junk)
        assert sitemap.urls == [] and sitemap.sitemaps == []
