"""The WARC archive: what a crawl keeps, re-extraction without fetching, damage survived."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.article import Article
from crawler.crawl import crawl
from crawler.reextract import reextract
from crawler.settings import CrawlSettings
from crawler.store import CrawlStore
from crawler.warc import WarcArchive, iter_responses, read_response
from innosearch.sample_site import LoopbackSite
from innosearch.sample_site.wire import build_news_site


@pytest.fixture
def news_site(site: LoopbackSite) -> LoopbackSite:
    """The crawl tests' news site with a short Crawl-delay: these tests are about the archive."""
    build_news_site(site, crawl_delay=0.02)
    return site


def _crawl(site: LoopbackSite, data: Path, settings: CrawlSettings) -> None:
    with CrawlStore(data) as store:
        crawl([site.url("/")], store, settings)


def test_crawl_archives_responses_any_warc_reader_can_read(
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    _crawl(news_site, tmp_path, settings)
    (path,) = (tmp_path / "warc").glob("*.warc.gz")
    with path.open("rb") as f:
        records = {
            r.rec_headers.get_header("WARC-Target-URI"): r.content_stream().read()
            for r in ArchiveIterator(f)
            if r.rec_type == "response"
        }
    alpha = news_site.url("/news/alpha")
    assert records[alpha] == news_site.routes["/news/alpha"].body  # type: ignore[union-attr]
    assert news_site.url("/sitemap.xml") in records
    assert not [url for url in records if "/private/" in url]


def test_reextract_restores_articles_without_fetching(
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    _crawl(news_site, tmp_path, settings)
    with CrawlStore(tmp_path) as store:
        before = {a.article.id: a.article for a in store.articles_since(0)}
        # What an older, worse extractor might have left behind.
        for article in before.values():
            spoiled = Article.from_dict({**article.to_dict(), "title": "?", "text": "?"})
            store.write_article(spoiled, fetched_at="2024-01-01T00:00:00Z", http_status=200)
        seq = store.max_seq()
    news_site.clear()

    with CrawlStore(tmp_path) as store:
        summary = reextract(store)
        after = {a.article.id: a.article for a in store.articles_since(seq)}
    assert news_site.requests == []  # nothing fetched
    assert summary.articles_updated == len(before) == 5
    assert summary.duplicates == 1  # /print/beta, whose canonical page is /news/beta
    assert summary.damaged == 0
    assert after == before


def test_damaged_record_is_skipped_with_a_warning(
    news_site: LoopbackSite,
    settings: CrawlSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _crawl(news_site, tmp_path, settings)
    alpha = news_site.url("/news/alpha")
    with CrawlStore(tmp_path) as store:
        location = store.response_location(alpha)
    assert location is not None
    path = tmp_path / "warc" / location.file
    data = bytearray(path.read_bytes())
    data[location.offset + location.length // 2] ^= 0xFF  # one flipped byte mid-record
    path.write_bytes(bytes(data))

    with caplog.at_level(logging.WARNING, logger="crawler.warc"), CrawlStore(tmp_path) as store:
        assert store.raw(alpha) is None
        summary = reextract(store)
    assert "damaged WARC record" in caplog.text
    assert summary.damaged == 1
    assert summary.articles_unchanged == 4  # the other articles still re-extract

    # The next crawl cannot lean on the damaged body after its 304: it asks again in full and
    # archives the page afresh.
    news_site.clear()
    _crawl(news_site, tmp_path, settings)
    asked = [h for h in news_site.requests if h.path == "/news/alpha"]
    assert [(h.status, "if-none-match" in h.headers) for h in asked] == [(304, True), (200, False)]
    with CrawlStore(tmp_path) as store:
        assert store.raw(alpha) is not None


def test_half_written_record_at_the_end_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = WarcArchive(tmp_path)
    locations = [
        archive.write_response(
            f"https://news.example/{n}",
            status=200,
            headers={"content-type": "text/html", "content-encoding": "gzip"},
            body=f"<p>story {n}</p>".encode() * 40,
            fetched_at="2024-03-05T10:00:00Z",
        )
        for n in range(3)
    ]
    archive.close()
    path = tmp_path / locations[0].file
    path.write_bytes(path.read_bytes()[: locations[2].offset + locations[2].length // 2])

    with caplog.at_level(logging.WARNING, logger="crawler.warc"):
        urls = [r.url for r in iter_responses(tmp_path)]
        torn = read_response(tmp_path, locations[2])
    assert urls == ["https://news.example/0", "https://news.example/1"]
    assert torn is None
    assert caplog.text.count("damaged") == 2
    whole = read_response(tmp_path, locations[1])
    assert whole is not None and whole.body == b"<p>story 1</p>" * 40
    assert "content-encoding" not in whole.headers  # the body kept is the decoded one
