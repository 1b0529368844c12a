"""robots.txt: rules, Crawl-delay and Sitemap lines, and what missing or broken files mean."""

from __future__ import annotations

import pytest

from crawler.fetch import Fetcher
from crawler.robots import RobotsCache, agent_token, fetch_robots, robots_url
from crawler.settings import CrawlSettings
from innosearch.sample_site import LoopbackSite, Route
from tests.loopback import free_port

ROBOTS = """\
User-agent: *
Disallow: /private/
Crawl-delay: 2.5
Sitemap: https://example.com/sitemap.xml
Sitemap: https://example.com/news-sitemap.xml

User-agent: innosearch-test
Disallow: /not-for-us/
Allow: /not-for-us/but-this
Crawl-delay: 1
"""


def _robots(site: LoopbackSite, route: Route) -> None:
    site.routes["/robots.txt"] = route


def test_agent_token_and_location() -> None:
    assert agent_token("innosearch/0.1 (+https://github.com/innosearch/innosearch)") == "innosearch"
    assert agent_token("Mozilla/5.0 (compatible)") == "Mozilla"
    assert robots_url("https://Example.com:8443/a/b?c#d") == "https://Example.com:8443/robots.txt"


def test_rules_of_our_own_group_win(site: LoopbackSite, settings: CrawlSettings) -> None:
    _robots(site, Route(body=ROBOTS.encode(), content_type="text/plain"))
    with Fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, settings.user_agent)
        assert not robots.allowed(site.url("/not-for-us/x"))
        assert robots.allowed(site.url("/not-for-us/but-this"))
        # Our own group replaces the "*" group entirely (RFC 9309 2.2.1).
        assert robots.allowed(site.url("/private/x"))
        assert robots.crawl_delay(site.url("/")) == 1.0
        assert robots.sitemaps(site.url("/")) == [
            "https://example.com/sitemap.xml",
            "https://example.com/news-sitemap.xml",
        ]
    assert site.paths() == ["/robots.txt"]  # fetched once, then cached


def test_star_group_applies_to_other_agents(site: LoopbackSite, settings: CrawlSettings) -> None:
    _robots(site, Route(body=ROBOTS.encode(), content_type="text/plain"))
    with Fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, "otherbot/1.0")
        assert not robots.allowed(site.url("/private/x"))
        assert robots.allowed(site.url("/not-for-us/x"))
        assert robots.crawl_delay(site.url("/")) == 2.5


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_unavailable_robots_means_allow_all(
    site: LoopbackSite, settings: CrawlSettings, status: int
) -> None:
    _robots(site, Route(status=status, etag=False))
    with Fetcher(settings) as fetcher:
        policy = fetch_robots(fetcher, site.url("/"))
    assert policy.mode == "allow_all"
    assert policy.allowed(site.url("/anything"), "innosearch")
    assert policy.crawl_delay("innosearch") is None
    assert policy.sitemaps == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_unreachable_robots_means_disallow_all(
    site: LoopbackSite, settings: CrawlSettings, status: int
) -> None:
    _robots(site, Route(status=status, etag=False))
    with Fetcher(settings, backoff=0.01) as fetcher:
        policy = fetch_robots(fetcher, site.url("/"))
    assert policy.mode == "disallow_all"
    assert not policy.allowed(site.url("/"), "innosearch")


def test_network_failure_means_disallow_all(settings: CrawlSettings) -> None:
    port = free_port()
    # Nothing listens on the port now: connection refused, retried, then given up.
    with Fetcher(settings, backoff=0.01) as fetcher:
        policy = fetch_robots(fetcher, f"http://127.0.0.1:{port}/")
    assert policy.mode == "disallow_all"
    assert policy.status == 0 and policy.error


def test_redirected_robots_is_followed(site: LoopbackSite, settings: CrawlSettings) -> None:
    _robots(site, Route(status=301, headers={"Location": "/real-robots.txt"}, etag=False))
    site.routes["/real-robots.txt"] = Route(body=b"User-agent: *\nDisallow: /x\n")
    with Fetcher(settings) as fetcher:
        policy = fetch_robots(fetcher, site.url("/"))
    assert policy.mode == "rules"
    assert not policy.allowed(site.url("/x"), "innosearch")
    assert policy.allowed(site.url("/y"), "innosearch")


def test_robots_redirect_to_another_host_is_not_followed(
    site: LoopbackSite, settings: CrawlSettings
) -> None:
    """With allow_local set for our own loopback site, a robots.txt redirect to another host
    (here `localhost`, a private address too) must not be followed: only the site's own pages
    may be local."""
    other = site.url("/elsewhere-robots.txt").replace("127.0.0.1", "localhost")
    _robots(site, Route(status=302, headers={"Location": other}, etag=False))
    site.routes["/elsewhere-robots.txt"] = Route(body=b"User-agent: *\nDisallow: /\n")
    with Fetcher(settings) as fetcher:
        policy = fetch_robots(fetcher, site.url("/"))
    assert "/elsewhere-robots.txt" not in site.paths()
    assert policy.error and "not followed" in policy.error
    assert policy.mode == "allow_all"  # an unfollowed redirect: no rules to obey (RFC 9309)


def test_html_served_as_robots_allows_all(site: LoopbackSite, settings: CrawlSettings) -> None:
    _robots(site, Route(body=b"<html><body>Welcome!</body></html>"))
    with Fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, settings.user_agent)
        assert robots.allowed(site.url("/any/page"))
