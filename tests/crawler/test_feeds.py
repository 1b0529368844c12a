"""Feeds through feedparser: the links and dates of RSS and Atom, whatever they get wrong."""

from __future__ import annotations

from crawler.feeds import looks_like_feed, parse_feed


def test_rss_items_give_absolute_links_and_iso_dates() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        b"<item><title>One</title><link>/news/1?utm_source=rss</link>"
        b"<pubDate>Tue, 05 Mar 2024 10:00:00 +0800</pubDate></item>"
        b"<item><title>No link</title></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(body, "https://news.example/feed.xml")
    assert feed.version == "rss20" and feed.title == "Wire"
    assert [(e.link, e.updated, e.title) for e in feed.entries] == [
        ("https://news.example/news/1?utm_source=rss", "2024-03-05T02:00:00Z", "One")
    ]


def test_atom_entries_use_the_alternate_link_not_the_enclosure() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><entry><title>A</title>'
        b'<link rel="enclosure" href="/a.mp3"/><link rel="alternate" href="/news/a"/>'
        b"<published>2024-03-01T08:00:00Z</published></entry></feed>"
    )
    feed = parse_feed(body, "https://news.example/atom")
    assert feed.version == "atom10"
    assert [(e.link, e.updated) for e in feed.entries] == [
        ("https://news.example/news/a", "2024-03-01T08:00:00Z")
    ]


def test_rdf_and_broken_feeds_still_give_their_links() -> None:
    rdf = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://n.example/"><title>W'
        b'</title></channel><item rdf:about="https://n.example/1"><title>One</title>'
        b"<link>https://n.example/1</link></item></rdf:RDF>"
    )
    assert [e.link for e in parse_feed(rdf).entries] == ["https://n.example/1"]
    # An undeclared entity and a missing close tag: feedparser reads past both.
    broken = b"<rss><channel><item><link>https://n.example/2</link><title>A &nbsp; B</title>"
    assert [e.link for e in parse_feed(broken).entries] == ["https://n.example/2"]


def test_not_a_feed() -> None:
    sitemap = b"<urlset><url><loc>https://n.example/</loc></url></urlset>"
    assert not looks_like_feed(sitemap)
    assert parse_feed(sitemap).entries == []
    assert parse_feed(b"").entries == []
    assert looks_like_feed(b'<?xml version="1.0"?>\n<rss version="2.0">')
