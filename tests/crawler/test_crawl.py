"""The crawl end to end against the loopback news site: what the site saw, what the store holds."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from crawler.crawl import CrawlProgress, crawl, read_page
from crawler.fetch import Fetcher
from crawler.settings import CrawlSettings
from crawler.store import CrawlStore

from .conftest import Route, Site, article_page, gzipped, listing_page

DELAY = 0.15  # the Crawl-delay of the news site's robots.txt, larger than settings.delay


def _crawl(site: Site, data: Path, settings: CrawlSettings, **kwargs: object):
    with CrawlStore(data) as store:
        summary = crawl([site.url("/")], store, settings, **kwargs)  # type: ignore[arg-type]
        articles = {a.article.id: a for a in store.articles_since(0)}
    return summary, articles


def _page_paths(site: Site) -> list[str]:
    return [p for p in site.paths() if p not in ("/robots.txt", "/sitemap.xml", "/feed.xml")]


def test_first_crawl_is_polite_and_finds_each_article_once(
    news_site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    summary, articles = _crawl(news_site, tmp_path, settings)
    paths = news_site.paths()

    # robots.txt before anything else, then the sitemaps, then pages.
    assert paths[0] == "/robots.txt"
    assert paths[1] == "/sitemap.xml"
    assert paths.count("/robots.txt") == 1
    # Never a disallowed path, a binary, an off-site link or a tracking parameter.
    assert not [p for p in paths if p.startswith("/private/")], paths
    assert "/img/chart.png" not in paths
    assert not [p for p in paths if "utm_" in p or "fbclid" in p], paths
    # Each URL requested once; the redirect target only as the hop after /old-path.
    assert len(paths) == len(set(paths)), paths
    assert paths.index("/news/delta") == paths.index("/old-path") + 1

    # The Crawl-delay (larger than settings.delay) holds between any two requests.
    times = [hit.at for hit in news_site.hits]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= DELAY, gaps

    # One document per article: /print/beta declares /news/beta canonical.
    urls = sorted(a.article.canonical_url or "" for a in articles.values())
    assert urls == [
        news_site.url(f"/news/{slug}") for slug in ("alpha", "beta", "delta", "epsilon", "gamma")
    ]
    beta = next(a for a in articles.values() if a.article.canonical_url.endswith("/news/beta"))
    assert beta.article.url == news_site.url("/news/beta")
    assert "(print)" not in beta.article.title
    assert all(not a.gone and a.http_status == 200 for a in articles.values())

    assert summary.articles_new == 5
    assert summary.disallowed == 1
    assert summary.errors == 1  # /missing
    assert summary.not_modified == 0
    assert summary.sitemaps_fetched == 2  # sitemap.xml and the feed linked from the front page
    with CrawlStore(tmp_path) as store:
        assert store.count_articles() == 5
        assert store.seeds() == [news_site.url("/")]
        (health,) = store.site_health()
        assert health["site"] == "127.0.0.1"
        assert health["articles"] == 5
        assert health["last_new_articles"] == 5
        assert health["failures"] == 0
        assert health["last_success"]
        assert store.raw(news_site.url("/news/alpha")) is not None


def test_second_crawl_is_conditional_and_incremental(
    news_site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    _crawl(news_site, tmp_path, settings)
    with CrawlStore(tmp_path) as store:
        first_seq = store.max_seq()
    news_site.clear()
    # Between runs: gamma is rewritten, delta is taken down (its redirect now leads to a 404).
    base = news_site.base
    news_site.html(
        "/news/gamma",
        article_page("gamma", "Hydrogen tank start-up doubles its round", f"{base}/news/gamma"),
    )
    news_site.routes["/news/delta"] = Route(status=410, body=b"gone", etag=False)

    summary, articles = _crawl(news_site, tmp_path, settings)
    hits = {hit.path: hit for hit in news_site.hits}
    # Pages seen before are asked for conditionally and answered 304.
    assert hits["/news/alpha"].headers.get("if-none-match")
    assert hits["/"].headers.get("if-none-match")
    assert summary.not_modified >= 5
    # Links behind unchanged pages are still followed: every article page was checked again.
    for slug in ("alpha", "beta", "epsilon", "gamma"):
        assert f"/news/{slug}" in hits
    assert summary.articles_new == 0
    assert summary.articles_updated == 1
    assert summary.articles_gone == 1

    with CrawlStore(tmp_path) as store:
        changed = {a.article.canonical_url: a for a in store.articles_since(first_seq)}
        assert store.count_articles() == 4
    assert set(changed) == {base + "/news/gamma", base + "/news/delta"}
    assert changed[base + "/news/gamma"].article.title.startswith("Hydrogen tank")
    assert changed[base + "/news/delta"].gone
    assert changed[base + "/news/delta"].http_status == 410
    assert len(articles) == 5  # gone articles stay, flagged


def test_killed_crawl_resumes_without_refetching(
    news_site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    seen: list[CrawlProgress] = []

    def die_after_three_pages(update: CrawlProgress) -> None:
        seen.append(update)
        if update.pages_fetched == 3:
            raise KeyboardInterrupt

    with CrawlStore(tmp_path) as store, pytest.raises(KeyboardInterrupt):
        crawl([news_site.url("/")], store, settings, progress=die_after_three_pages)
    before = _page_paths(news_site)
    assert len(before) == 3

    summary, articles = _crawl(news_site, tmp_path, settings)
    assert summary.resumed
    pages = _page_paths(news_site)
    assert len(pages) == len(set(pages)), pages  # nothing fetched twice
    assert len(articles) == 5


def test_max_pages_and_depth_bound_the_crawl(
    news_site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    summary, _ = _crawl(news_site, tmp_path / "a", replace(settings, max_pages=2))
    assert summary.pages_fetched == 2
    assert len(_page_paths(news_site)) == 2

    news_site.clear()
    # Depth 0: the seed alone (and the sitemap's own pages are one level down, so not those).
    summary, articles = _crawl(news_site, tmp_path / "b", replace(settings, max_depth=0))
    assert _page_paths(news_site) == ["/"]
    assert not articles


def test_robots_server_error_means_nothing_is_fetched(
    news_site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    news_site.routes["/robots.txt"] = Route(status=503, body=b"busy", etag=False)
    fetcher = Fetcher(settings, backoff=0.01)
    with fetcher:
        summary, articles = _crawl(news_site, tmp_path, settings, fetcher=fetcher)
    assert set(news_site.paths()) == {"/robots.txt"}
    assert not articles
    assert summary.disallowed >= 1


def test_redirect_to_a_disallowed_path_is_not_followed(
    news_site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    news_site.routes["/old-path"] = Route(
        status=302, headers={"Location": "/private/secret"}, etag=False
    )
    _crawl(news_site, tmp_path, settings)
    assert "/old-path" in news_site.paths()
    assert not [p for p in news_site.paths() if p.startswith("/private/")]


def test_noindex_and_nofollow_are_honoured(
    site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    site.routes["/robots.txt"] = Route(status=404, etag=False)
    page = article_page("alpha", "Alpha", extra='<a href="/next">next</a>')
    site.html("/", page.replace("<head>", '<head><meta name="robots" content="noindex,nofollow">'))
    site.html("/next", article_page("beta", "Beta"))
    _, articles = _crawl(site, tmp_path, settings)
    assert "/next" not in site.paths()
    assert not articles


def test_seed_that_is_not_a_url_is_refused(settings: CrawlSettings, tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store, pytest.raises(ValueError, match="not an http"):
        crawl(["ftp://example.org/"], store, settings)


def test_read_page_finds_links_and_feeds() -> None:
    base = "http://news.test"
    listing_info = read_page(listing_page().encode(), base + "/")
    assert base + "/feed.xml" in listing_info.feeds
    assert base + "/news/beta?fbclid=abc123" in listing_info.links


def test_read_page_follows_the_page_encoding() -> None:
    page = (
        '<html><head><meta charset="gb2312"><base href="/zh/"></head><body>'
        '<a href="\u65b0\u95fb/1">\u65b0\u95fb</a><a rel="nofollow" href="/ad">ad</a>'
        "</body></html>"
    ).encode("gb2312")
    info = read_page(page, "http://news.test/index.html", "text/html")
    assert info.links == ["http://news.test/zh/\u65b0\u95fb/1"]


def test_sitemap_index_and_gzipped_sitemap_lead_to_articles(
    site: Site, settings: CrawlSettings, tmp_path: Path
) -> None:
    base = site.base
    site.routes["/robots.txt"] = Route(
        body=f"User-agent: *\nSitemap: {base}/sitemap_index.xml\n".encode(),
        content_type="text/plain",
    )
    site.routes["/sitemap_index.xml"] = Route(
        body=(
            f"<sitemapindex><sitemap><loc>{base}/sitemap-news.xml.gz</loc></sitemap></sitemapindex>"
        ).encode(),
        content_type="text/xml",
    )
    site.routes["/sitemap-news.xml.gz"] = Route(
        body=gzipped(
            f"<urlset><url><loc>{base}/news/alpha</loc></url>"
            f"<url><loc>{base}/news/gamma</loc></url></urlset>".encode()
        ),
        content_type="application/x-gzip",
    )
    site.html("/", "<html><body><p>Nothing linked from here.</p></body></html>")
    site.html("/news/alpha", article_page("alpha", "Alpha"))
    site.html("/news/gamma", article_page("gamma", "Gamma"))
    summary, articles = _crawl(site, tmp_path, settings)
    assert summary.sitemaps_fetched == 3  # the index, the gzipped sitemap, /sitemap.xml (404)
    assert sorted(a.article.url for a in articles.values()) == [
        base + "/news/alpha",
        base + "/news/gamma",
    ]
