"""Fixtures for the crawler tests: a real news site on loopback (the kit's `LoopbackSite`, which
records every request it received), and settings for crawling it.

The crawler is tested against a real HTTP server rather than mocks because what matters is what
a site sees: which paths were requested, how far apart, with which conditional headers. The
pages are the kit's news wire (`innosearch.sample_site.wire`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawler.article import Article
from crawler.extract import extract_page
from crawler.settings import CrawlSettings
from innosearch.sample_site import LoopbackSite
from innosearch.sample_site.wire import build_news_site


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    """An empty site on a free loopback port; tests add routes or call `build_news_site`."""
    with LoopbackSite() as served:
        yield served


@pytest.fixture
def news_site(site: LoopbackSite) -> LoopbackSite:
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
