"""The fetcher against a real loopback server: limits, retries, redirects, conditional GET."""

from __future__ import annotations

import gzip
import socket
import time
from dataclasses import replace
from typing import Any

import pytest

from crawler.fetch import MAX_REDIRECTS, Fetcher, HostThrottle, is_public_address
from crawler.settings import CrawlSettings
from innosearch.sample_site import Hit, LoopbackSite, Route
from tests.loopback import free_port


def test_plain_fetch(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.html("/page", "<html><body>hello</body></html>")
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch(site.url("/page"))
    assert result.ok
    assert result.status == 200
    assert result.body == b"<html><body>hello</body></html>"
    assert result.content_type == "text/html"
    assert result.headers["etag"]
    assert result.final_url == result.url == site.url("/page")
    assert result.fetched_at.endswith("Z")
    assert site.requests[0].headers["user-agent"] == settings.user_agent


def test_conditional_get(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.html("/page", "<html>same</html>")
    with Fetcher(settings) as fetcher:
        first = fetcher.fetch(site.url("/page"))
        second = fetcher.fetch(
            site.url("/page"), etag=first.headers["etag"], last_modified="Mon, 04 Mar 2024"
        )
    assert second.not_modified and not second.ok
    assert second.body == b""
    assert site.requests[1].headers["if-none-match"] == first.headers["etag"]
    assert site.requests[1].headers["if-modified-since"] == "Mon, 04 Mar 2024"


def test_redirects_are_followed_and_recorded(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.routes["/a"] = Route(status=301, headers={"Location": "/b"}, etag=False)
    site.routes["/b"] = Route(status=302, headers={"Location": site.url("/c")}, etag=False)
    site.html("/c", "<html>end</html>")
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch(site.url("/a"))
    assert result.ok
    assert result.final_url == site.url("/c")
    assert result.redirects == [site.url("/a"), site.url("/b")]


def test_redirects_are_bounded(site: LoopbackSite, settings: CrawlSettings) -> None:
    for n in range(10):
        site.routes[f"/r{n}"] = Route(status=302, headers={"Location": f"/r{n + 1}"}, etag=False)
    site.routes["/loop"] = Route(status=302, headers={"Location": "/loop"}, etag=False)
    with Fetcher(settings) as fetcher:
        long_chain = fetcher.fetch(site.url("/r0"))
        loop = fetcher.fetch(site.url("/loop"))
    assert long_chain.error and "redirects" in long_chain.error
    assert len([p for p in site.paths() if p.startswith("/r")]) == MAX_REDIRECTS + 1
    assert loop.error and "loop" in loop.error
    assert site.paths().count("/loop") == 1


def test_redirect_target_is_vetted_before_it_is_requested(
    site: LoopbackSite, settings: CrawlSettings
) -> None:
    site.routes["/a"] = Route(status=302, headers={"Location": "/forbidden"}, etag=False)
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch(site.url("/a"), may_follow=lambda url: "forbidden" not in url)
    assert result.error and "not followed" in result.error
    assert site.paths() == ["/a"]


def test_unwanted_content_type_is_not_read(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.routes["/img"] = Route(body=b"\x89PNG" + b"0" * 1000, content_type="image/png")
    site.routes["/feed"] = Route(body=b"<rss/>", content_type="application/rss+xml")
    with Fetcher(settings) as fetcher:
        image = fetcher.fetch(site.url("/img"))
        feed = fetcher.fetch(site.url("/feed"))
        anything = fetcher.fetch(site.url("/img"), accept=None)
    assert image.error and "content type" in image.error and image.body == b""
    assert feed.ok and feed.body == b"<rss/>"
    assert anything.ok and anything.body.startswith(b"\x89PNG")


def test_body_size_is_capped(site: LoopbackSite, settings: CrawlSettings) -> None:
    small = replace(settings, max_bytes=1000)
    site.html("/declared", "x" * 5000)
    site.routes["/streamed"] = Route(chunks=(b"y" * 600,) * 5)
    # 200 kB that gzip squeezes to a few hundred bytes: the limit is on what it inflates to.
    site.routes["/bomb"] = Route(
        body=gzip.compress(b"<p>" + b" " * 200_000), headers={"Content-Encoding": "gzip"}
    )
    with Fetcher(small) as fetcher:
        for path in ("/declared", "/streamed", "/bomb"):
            result = fetcher.fetch(site.url(path))
            assert result.error and "too large" in result.error, path
            assert result.body == b""


def test_total_deadline_stops_a_trickling_server(
    site: LoopbackSite, settings: CrawlSettings
) -> None:
    site.routes["/slow"] = Route(chunks=(b"<p>drip</p>",) * 20, pause=0.1)
    started = time.monotonic()
    with Fetcher(replace(settings, deadline=0.4, read_timeout=1.0)) as fetcher:
        result = fetcher.fetch(site.url("/slow"))
    assert result.error and "too slow" in result.error
    assert time.monotonic() - started < 1.5


def _flaky(statuses: list[int], headers: dict[str, str] | None = None) -> Any:
    answers = iter(statuses)

    def route(hit: Hit) -> Route:
        status = next(answers, 200)
        if status == 200:
            return Route(body=b"<html>finally</html>")
        return Route(status=status, body=b"try later", headers=headers or {}, etag=False)

    return route


def test_transient_errors_are_retried(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.routes["/flaky"] = _flaky([503, 502])
    with Fetcher(settings, backoff=0.05) as fetcher:
        result = fetcher.fetch(site.url("/flaky"))
    assert result.ok and result.body == b"<html>finally</html>"
    times = [hit.at for hit in site.requests]
    assert len(times) == 3
    # Exponential backoff: 0.05 then 0.1 seconds.
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1


def test_retries_give_up(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.routes["/down"] = _flaky([500] * 10)
    with Fetcher(replace(settings, retries=2), backoff=0.01) as fetcher:
        result = fetcher.fetch(site.url("/down"))
    assert result.status == 500 and not result.ok
    assert len(site.requests) == 3


def test_client_errors_are_not_retried(site: LoopbackSite, settings: CrawlSettings) -> None:
    with Fetcher(settings, backoff=0.01) as fetcher:
        result = fetcher.fetch(site.url("/nowhere"))
    assert result.status == 404 and result.error is None
    assert len(site.requests) == 1


def test_429_honours_retry_after(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.routes["/busy"] = _flaky([429], {"Retry-After": "1"})
    with Fetcher(settings, backoff=0.01) as fetcher:
        result = fetcher.fetch(site.url("/busy"))
    assert result.ok
    assert site.requests[1].at - site.requests[0].at >= 1.0


def test_429_asking_too_much_is_not_retried(site: LoopbackSite, settings: CrawlSettings) -> None:
    site.routes["/busy"] = _flaky([429], {"Retry-After": "3600"})
    with Fetcher(settings, backoff=0.01, max_retry_after=60) as fetcher:
        result = fetcher.fetch(site.url("/busy"))
    assert result.status == 429
    assert len(site.requests) == 1


class _CountingThrottle(HostThrottle):
    """Counts requests about to be sent, including those that never reach a server."""

    def __init__(self) -> None:
        super().__init__(0.0)
        self.requests = 0

    def wait(self, host: str) -> None:
        self.requests += 1
        super().wait(host)


def test_connection_errors_are_retried_then_reported(settings: CrawlSettings) -> None:
    port = free_port()  # nothing listens there
    throttle = _CountingThrottle()
    with Fetcher(settings, backoff=0.01, throttle=throttle) as fetcher:
        result = fetcher.fetch(f"http://127.0.0.1:{port}/")
    assert result.status == 0
    assert result.error and "Connection" in result.error
    assert throttle.requests == settings.retries + 1


def test_local_addresses_are_refused_unless_allowed(
    site: LoopbackSite, settings: CrawlSettings
) -> None:
    site.html("/", "<html>local</html>")
    strict = replace(settings, allow_local=False)
    with Fetcher(strict) as fetcher:
        result = fetcher.fetch(site.url("/"))
        by_name = fetcher.fetch(site.url("/").replace("127.0.0.1", "localhost"))
    assert result.error and "non-public" in result.error
    assert by_name.error and "non-public" in by_name.error
    assert site.requests == []


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "192.168.0.10",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        # IPv6 forms that embed 169.254.169.254: NAT64, local-use NAT64, 6to4, translated,
        # IPv4-compatible, Teredo (client bits inverted)
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "::ffff:0:a9fe:a9fe",
        "::a9fe:a9fe",
        "2001:0:a9fe:a9fe::5601:5601",
    ],
)
def test_private_resolutions_are_refused(settings: CrawlSettings, address: str) -> None:
    def resolver(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    strict = replace(settings, allow_local=False)
    with Fetcher(strict, resolver=resolver) as fetcher:
        result = fetcher.fetch("http://news.example/")
    assert result.error and address in result.error


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::5db8:d70e", "2002:5db8:d70e::1"]
)
def test_public_addresses_pass_embedded_ones_included(address: str) -> None:
    assert is_public_address(address)


def test_non_http_urls_are_refused(settings: CrawlSettings) -> None:
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch("file:///etc/passwd")
    assert result.error and "not an http" in result.error


def test_throttle_spaces_requests_per_host() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = HostThrottle(1.0, clock=lambda: now[0], sleep=sleep)
    throttle.wait("a")
    throttle.done("a")
    throttle.wait("b")  # another host is not held back
    assert slept == []
    throttle.set_delay("a", 3.0)  # robots.txt asked for more, after the first request
    throttle.wait("a")
    assert slept == [3.0]
    throttle.done("a")
    throttle.defer("a", 10.0)
    throttle.wait("a")
    assert slept == [3.0, 10.0]
    throttle.set_delay("b", 0.5)  # below the default: the default wins
    assert throttle.delay("b") == 1.0


def test_connection_goes_to_the_address_that_was_checked(
    site: LoopbackSite, settings: CrawlSettings
) -> None:
    """DNS rebinding: the name is resolved once, checked, and that address is the one dialled.

    ``pinned.invalid`` cannot be resolved by the system (the .invalid TLD never resolves), so
    the page can only arrive if the connection used the checked address.
    """
    site.html("/page", "<html>pinned</html>")
    port = int(site.base.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a rebinding DNS answers differently next time

    def resolver(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    strict = replace(settings, allow_local=False)
    with Fetcher(strict, resolver=resolver, address_ok=lambda a: a == "127.0.0.1") as fetcher:
        first = fetcher.fetch(f"http://pinned.invalid:{port}/page")
        second = fetcher.fetch(f"http://pinned.invalid:{port}/page")
    assert first.ok and first.body == b"<html>pinned</html>"
    assert site.requests[0].headers["host"] == f"pinned.invalid:{port}"
    # The second lookup rebinds to a private address: refused before any connection.
    assert second.error and "10.9.9.9" in second.error
    assert len(site.requests) == 1
