"""Generated hostile input for the URL normaliser and the extractor: nothing raises, hangs or
grows without bound."""

from __future__ import annotations

import resource
import time
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.urls import normalize_url

from .conftest import extract_cleanly

url_parts = st.lists(
    st.sampled_from(
        [
            "http://",
            "https://",
            "HTTP://",
            "ftp://",
            "//",
            "Example.COM",
            "a.b",
            ":80",
            ":443",
            ":99999",
            "/",
            "../",
            "./",
            "%2F",
            "%zz",
            "?",
            "&",
            "=",
            "#frag",
            "utm_source=x",
            "fbclid=1",
            "b=2",
            "a=1",
            "@",
            "[::1]",
            " ",
            "é",
            "\x00",
            "\\",
            "javascript:",
            "mailto:x@y",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(
    url=st.one_of(url_parts, st.text(max_size=100)),
    base=st.sampled_from([None, "https://ex.com/a/b"]),
)
def test_normalising_never_raises_and_is_idempotent(url: str, base: str | None) -> None:
    normal = normalize_url(url, base)
    if normal is None:
        return
    parts = urlsplit(normal)
    assert parts.scheme in ("http", "https") and parts.netloc
    assert not parts.fragment
    keys = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not [k for k in keys if k.startswith("utm_") or k == "fbclid"]
    assert normalize_url(normal) == normal


TAGS = [
    "<html>",
    "<body>",
    "<div>",
    "</div>",
    "<p>",
    "</p>",
    "<article>",
    "</article>",
    "<script>",
    "</script>",
    "<style>",
    "<!--",
    "-->",
    "<h1>",
    "</h1>",
    "<time datetime='",
    "2021-10-20'>",
    "<meta charset='gbk'>",
    "<meta property='article:published_time' content='2099-01-01'>",
    '<script type="application/ld+json">{"datePublished":',
    "<table>",
    "<td>",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "\x00",
    "\xff",
    "é",
    "<![CDATA[",
    "<svg>",
    "<nav>",
    "<footer>",
    "Semiconductor fabs expand in Nanjing. ",
]

html_text = st.one_of(
    st.lists(st.sampled_from(TAGS), max_size=60).map("".join),
    st.text(max_size=500),
)


@settings(max_examples=300, deadline=None)
@given(
    page=st.one_of(
        html_text, html_text.map(lambda s: s.encode("utf-8", "replace")), st.binary(max_size=2000)
    )
)
def test_extract_never_raises_on_generated_pages(page: str | bytes) -> None:
    article = extract_cleanly(page, url="https://news.example.com/2021/10/story.html")
    assert isinstance(article.text, str) and isinstance(article.title, str)
    if article.published:
        assert "1995-01-01" <= article.published <= time.strftime("%Y-%m-%d")


def test_extract_survives_deep_huge_and_misdeclared_pages() -> None:
    cases = {
        "deep": "<div>" * 5000 + "<p>deep text</p>" + "</div>" * 5000,
        "wide": "<p>word </p>" * 100_000,
        "unclosed": "<p><b><i><u>" * 2000 + "text",
        "binary as html": bytes(range(256)) * 400,
        "utf-16 declared utf-8": '<meta charset="utf-8"><p>chip fab</p>'.encode("utf-16"),
        "empty": "",
    }
    for name, page in cases.items():
        # CPU time, not wall time: what a hostile page costs the crawler, whatever else the
        # machine runs (a wall-clock bound failed only on a loaded machine).
        started = time.process_time()
        article = extract_cleanly(page, url="https://x.example/a")
        assert isinstance(article.text, str), name
        assert time.process_time() - started < 10, name


def test_extracting_the_same_hostile_pages_again_does_not_grow_memory() -> None:
    """Memory stays bounded: after a warm-up, 450 more extractions of deep, wide and
    binary pages leave the process's peak memory where it was, give or take 50 MB."""
    pages = ["<div>" * 3000 + "<p>text</p>", "<p>word </p>" * 2000, bytes(range(256)) * 100]
    for page in pages:
        extract_cleanly(page, url="https://x.example/a")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(150):
        for page in pages:
            extract_cleanly(page, url="https://x.example/a")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024
