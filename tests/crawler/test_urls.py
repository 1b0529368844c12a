"""URL normalisation and scope: the frontier's deduplication stands on these."""

from __future__ import annotations

import pytest

from crawler.urls import Scope, is_tracking_param, looks_like_binary, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/a", "http://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com/a#section-2", "http://example.com/a"),
        ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),
        ("http://example.com/a?utm_source=x&utm_medium=y&id=7", "http://example.com/a?id=7"),
        ("http://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "http://example.com/a"),
        ("http://example.com/a?UTM_Campaign=x", "http://example.com/a"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/%7euser/%41", "http://example.com/~user/A"),
        ("http://example.com/a%2fb", "http://example.com/a%2Fb"),
        ("http://example.com/caf\u00e9 menu", "http://example.com/caf%C3%A9%20menu"),
        ("http://example.com/search?q=a+b", "http://example.com/search?q=a+b"),
        ("http://example.com/Case/Sensitive/", "http://example.com/Case/Sensitive/"),
        ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
        ("http://example.com./a", "http://example.com/a"),
        ("http://[::1]:80/a", "http://[::1]/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["mailto:desk@example.org", "javascript:void(0)", "ftp://example.org/", "", "http://", "//"],
)
def test_non_http_urls_normalise_to_none(url: str) -> None:
    assert normalize_url(url) is None


def test_relative_links_resolve_against_the_page() -> None:
    page = "http://example.com/news/today/index.html"
    assert normalize_url("../archive?utm_source=nav", page) == "http://example.com/news/archive"
    assert normalize_url("/about", page) == "http://example.com/about"
    assert normalize_url("//cdn.example.com/x", page) == "http://cdn.example.com/x"
    assert normalize_url("#top", page) == "http://example.com/news/today/index.html"


def test_a_bad_port_is_not_a_url() -> None:
    assert normalize_url("http://example.com:99999/") is None
    assert normalize_url("http://example.com:abc/") is None


def test_normalisation_is_idempotent() -> None:
    url = "HTTP://Example.com:80/a/../b/%7e?z=1&utm_x=2&a=%2f#f"
    once = normalize_url(url)
    assert once is not None
    assert normalize_url(once) == once


def test_tracking_params() -> None:
    assert is_tracking_param("utm_content")
    assert is_tracking_param("fbclid")
    assert not is_tracking_param("id")
    assert not is_tracking_param("page")


def test_scope_is_the_seed_hosts_with_or_without_www() -> None:
    scope = Scope.from_seeds(["https://www.example.com/", "http://127.0.0.1:8000/"])
    assert "https://example.com/news/1" in scope
    assert "http://www.example.com/news/1" in scope
    assert "https://blog.example.com/" not in scope
    assert "https://example.org/" not in scope
    assert "http://127.0.0.1:8000/x" in scope
    assert "http://127.0.0.1:8001/x" not in scope
    assert "mailto:x@example.com" not in scope


def test_scope_path_prefixes() -> None:
    scope = Scope.from_seeds(["https://example.com/tech/"], path_prefixes=["/tech/", "news"])
    assert "https://example.com/tech/chips" in scope
    assert "https://example.com/news/1" in scope
    assert "https://example.com/sport/1" not in scope
    assert scope.covers_host("https://example.com/sitemap.xml")


def test_binary_suffixes_are_recognised() -> None:
    assert looks_like_binary("http://example.com/report.PDF")
    assert looks_like_binary("http://example.com/img/chart.png?size=2")
    assert not looks_like_binary("http://example.com/news/story.html")
    assert not looks_like_binary("http://example.com/v1.2/story")
    assert not looks_like_binary("http://example.com/")
