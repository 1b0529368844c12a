"""The crawl end to end against the loopback news site: what the site saw, what the store holds."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from crawler.crawl import CrawlProgress, crawl, page_article, read_page
from crawler.fetch import Fetcher, utc_now
from crawler.settings import CrawlSettings
from crawler.store import CrawlStore
from innosearch.sample_site import LoopbackSite, Route
from innosearch.sample_site.wire import (
    article_page,
    build_news_site,
    front_page,
    gzipped,
    move,
    set_robots,
    unlink,
)

DELAY = 0.15  # the Crawl-delay of the news site's robots.txt, larger than settings.delay


def _crawl(site: LoopbackSite, data: Path, settings: CrawlSettings, **kwargs: object):
    with CrawlStore(data) as store:
        summary = crawl([site.url("/")], store, settings, **kwargs)  # type: ignore[arg-type]
        articles = {a.article.id: a for a in store.articles_since(0)}
    return summary, articles


def _page_paths(site: LoopbackSite) -> list[str]:
    return [p for p in site.paths() if p not in ("/robots.txt", "/sitemap.xml", "/feed.xml")]


def _stories(site: LoopbackSite) -> list[str]:
    """The article pages requested, in order (not the /news/ listing)."""
    return [p for p in _page_paths(site) if p.startswith("/news/") and p != "/news/"]


def test_first_crawl_is_polite_and_finds_each_article_once(
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
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
    times = [hit.at for hit in news_site.requests]
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
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
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
    hits = {hit.path: hit for hit in news_site.requests}
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
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
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
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
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
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    news_site.routes["/robots.txt"] = Route(status=503, body=b"busy", etag=False)
    fetcher = Fetcher(settings, backoff=0.01)
    with fetcher:
        summary, articles = _crawl(news_site, tmp_path, settings, fetcher=fetcher)
    assert set(news_site.paths()) == {"/robots.txt"}
    assert not articles
    assert summary.disallowed >= 1


def test_redirect_to_a_disallowed_path_is_not_followed(
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    news_site.routes["/old-path"] = Route(
        status=302, headers={"Location": "/private/secret"}, etag=False
    )
    _crawl(news_site, tmp_path, settings)
    assert "/old-path" in news_site.paths()
    assert not [p for p in news_site.paths() if p.startswith("/private/")]


def test_noindex_and_nofollow_are_honoured(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
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
    listing_info = read_page(front_page().encode(), base + "/")
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
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
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


# -- nothing stale: revalidation of known articles no link leads to ----------------------------


def _backdate(data: Path, days: dict[str, float], site: LoopbackSite) -> None:
    """Makes the store believe each page was last fetched that many days ago."""
    with sqlite3.connect(data / "crawl.sqlite") as db:
        for path, ago in days.items():
            when = utc_now(-ago * 86400)
            db.execute("UPDATE pages SET fetched_at = ? WHERE url = ?", (when, site.url(path)))


def test_an_unlinked_article_is_revalidated_gone_or_unchanged(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    build_news_site(site, crawl_delay=0.01)
    settings = replace(settings, revisit_days=0)
    _crawl(site, tmp_path, settings)
    # The site drops alpha (410) and epsilon (unchanged) from its listings and sitemap.
    unlink(site, "/news/alpha", "/news/epsilon")
    site.routes["/news/alpha"] = Route(status=410, body=b"gone", etag=False)
    site.clear()

    summary, articles = _crawl(site, tmp_path, settings)
    hits = [hit for hit in site.requests if hit.path in ("/news/alpha", "/news/epsilon")]
    assert [(h.path, h.status) for h in hits] == [("/news/alpha", 410), ("/news/epsilon", 304)]
    assert hits[1].headers.get("if-none-match")  # one conditional request, answered 304
    assert (summary.revalidated, summary.revalidated_gone, summary.revalidated_unchanged) == (
        2,
        1,
        1,
    )
    assert summary.articles_gone == 1
    live = {a.article.canonical_url for a in articles.values() if not a.gone}
    assert site.url("/news/alpha") not in live
    assert site.url("/news/epsilon") in live and len(live) == 4


def test_revisit_policy_oldest_first_within_max_pages(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    build_news_site(site, crawl_delay=0.01)
    _crawl(site, tmp_path, settings)
    # Nothing links to an article any more; their pages were last fetched 10 to 7 days ago,
    # delta's (reached through the /old-path redirect) just now.
    stories = [f"/news/{slug}" for slug in ("alpha", "beta", "gamma", "epsilon")]
    unlink(site, *stories, "/print/beta", "/old-path")
    ages = {"/news/alpha": 8, "/news/beta": 10, "/news/gamma": 7, "/news/epsilon": 9}
    _backdate(tmp_path, ages, site)
    site.clear()

    # Four pages: links get two (the seed and one more), revalidation the half kept for it,
    # spent on the two least recently fetched.
    limited = replace(settings, max_pages=4, revisit_days=5)
    summary, _ = _crawl(site, tmp_path, limited)
    pages = _page_paths(site)
    assert len(pages) == 4 and summary.pages_fetched == 4
    assert _stories(site) == ["/news/beta", "/news/epsilon"]
    assert summary.revalidated == summary.revalidated_unchanged == 2

    # The next run: alpha and gamma are due, beta and epsilon were just seen, delta is recent.
    # robots.txt now disallows gamma: not asked for, and its article stays.
    set_robots(site, 0.01, disallow=("/news/gamma",))
    site.clear()
    summary, articles = _crawl(site, tmp_path, replace(settings, revisit_days=5))
    assert _stories(site) == ["/news/alpha"]
    assert summary.revalidated == 1
    assert summary.disallowed == 2  # gamma, and /private/secret (still linked)
    live = {a.article.canonical_url for a in articles.values() if not a.gone}
    assert {site.url(f"/news/{slug}") for slug in ("alpha", "beta", "gamma", "epsilon")} <= live

    # revisit_days 0: every known article no link led to, in every crawl.
    site.clear()
    summary, _ = _crawl(site, tmp_path, replace(settings, revisit_days=0))
    assert sorted(_stories(site)) == ["/news/alpha", "/news/beta", "/news/delta", "/news/epsilon"]
    assert site.paths().index("/old-path") + 1 == site.paths().index("/news/delta")
    assert summary.revalidated == 4


def test_a_moved_article_keeps_one_document(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    build_news_site(site, crawl_delay=0.01)
    _, first = _crawl(site, tmp_path, settings)
    # gamma moves: its old URL answers 301 to a new one, which declares itself canonical.
    new = move(site, "gamma", "/2024/gamma-hydrogen")
    summary, articles = _crawl(site, tmp_path, settings)

    live = sorted(a.article.canonical_url for a in articles.values() if not a.gone)
    assert len(live) == len(first) == 5
    assert new in live and site.url("/news/gamma") not in live
    assert summary.articles_moved == 1 and summary.articles_new == 0
    with CrawlStore(tmp_path) as store:
        assert store.count_articles() == 5


def test_a_lone_surrogate_in_a_page_does_not_stop_the_crawl(
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    """A JSON-LD headline with a "\\ud800" escape (valid JSON, text no UTF-8 encoder can
    write) used to crash the crawl at that page, and every resumed run with it."""
    headline = '{"@type": "NewsArticle", "headline": "Hydrogen \\ud800 tanks", '
    headline += '"datePublished": "2024-03-05"}'
    script = f'<script type="application/ld+json">{headline}</script>'
    base = news_site.base
    news_site.html(
        "/news/gamma",
        article_page(
            "gamma", "Start-up raises forty million", canonical=f"{base}/news/gamma", extra=script
        ),
    )
    summary, articles = _crawl(news_site, tmp_path / "a", settings)
    assert summary.articles_new == 5  # as on the clean site: every article kept
    titles = {a.article.url.rsplit("/", 1)[-1]: a.article.title for a in articles.values()}
    assert "gamma" in titles and "\ud800" not in titles["gamma"]
    for stored in articles.values():
        stored.article.title.encode("utf-8")
        stored.article.text.encode("utf-8")


def test_an_extractor_failure_is_counted_logged_and_explained(
    news_site: LoopbackSite,
    settings: CrawlSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in the extractor on one page (injected here) does not stop the crawl, and is not
    hidden either: logged with the URL, counted in the summary, and kept as the page's note."""
    import crawler.extract.page

    real = crawler.extract.page._extract

    def failing_on_gamma(html: object, url: str, *args: object) -> object:
        if "/news/gamma" in url:
            raise ValueError("injected failure")
        return real(html, url, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(crawler.extract.page, "_extract", failing_on_gamma)
    summary, _articles = _crawl(news_site, tmp_path, settings)
    assert summary.extraction_errors == 1
    assert summary.articles_new == 4  # the other articles are kept
    assert any(
        "extraction failed on" in r.getMessage() and "gamma" in r.getMessage()
        for r in caplog.records
    )
    with CrawlStore(tmp_path) as store:
        note = store.page_state(news_site.url("/news/gamma")).note  # type: ignore[union-attr]
    assert note == "extraction failed: ValueError: injected failure"


def test_a_crawl_that_raises_is_history_and_the_next_starts_afresh(
    news_site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    """Unlike a kill, an error ends the run: recorded as failed, with the error, for stats."""

    def fail_after_two_pages(update: CrawlProgress) -> None:
        if update.pages_fetched == 2:
            raise RuntimeError("disk full")

    with CrawlStore(tmp_path) as store, pytest.raises(RuntimeError):
        crawl([news_site.url("/")], store, settings, progress=fail_after_two_pages, site="wire")
    summary, _articles = _crawl(news_site, tmp_path, settings)
    assert not summary.resumed
    with CrawlStore(tmp_path) as store:
        failed, finished = store.site_runs()
    assert (failed["site"], failed["ok"], failed["error"]) == (
        "wire",
        False,
        "RuntimeError: disk full",
    )
    assert failed["pages_fetched"] == 2 and failed["hosts"] == ["127.0.0.1"]
    assert (finished["site"], finished["ok"]) == ("127.0.0.1", True)
    assert failed["articles_new"] + finished["articles_new"] == 5


def test_a_canonical_link_to_another_site_names_the_copys_source() -> None:
    """A syndicated copy keeps its own document (its id and site: another site's canonical is
    not trusted to merge pages) and remembers the source it names, which the index shows first
    when it holds it."""
    html = article_page("alpha", "Alpha", canonical="https://wire.example.net/news/alpha")
    article, _page, _verdict = page_article(html.encode(), "http://herald.test/alpha", {})
    assert article is not None
    assert (article.canonical_url, article.site) == ("http://herald.test/alpha", "herald.test")
    assert article.original_url == "https://wire.example.net/news/alpha"
    same_site = article_page("alpha", "Alpha", canonical="http://herald.test/news/alpha")
    article, _page, _verdict = page_article(same_site.encode(), "http://herald.test/print", {})
    assert article is not None and article.original_url is None
    assert article.canonical_url == "http://herald.test/news/alpha"
