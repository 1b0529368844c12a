"""Article or not (crawler.extract.classify), as a crawl decides it, and the reason a
maintainer reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import lxml.html
import pytest

from crawler.article import Article
from crawler.crawl import crawl, page_article
from crawler.extract import Extraction, extract_page
from crawler.extract.classify import article_signals, classify
from crawler.settings import CrawlSettings
from crawler.store import CrawlStore
from innosearch.sample_site import LoopbackSite, NewsSite, Route, load_articles
from innosearch.sample_site.wire import article_page, front_page
from tests.conftest import CLI

_STORY = (
    "The provincial government approved a second wafer plant in the high-tech zone on "
    "Tuesday, after two years of talks with the chip maker and its suppliers. The plant will "
    "make power semiconductors for electric cars, and officials said it would employ about "
    "1,200 people once both lines run. Environmental groups asked for an independent review "
    "of its water use, which the company said would be published before construction starts."
)


def _links(prefix: str, n: int, words: str) -> str:
    return "".join(
        f'<div class="item"><a href="/{prefix}/{i}">{words} number {i} in the region</a></div>'
        for i in range(n)
    )


def publisher_page() -> str:
    """An article page as real publishers build it: menus, share bar, a "more stories" block
    and comment links in plain divs (no nav, aside or footer), the story in a div too."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Second wafer plant '
        'approved | The Daily</title><meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2021-10-20T08:00:00Z"></head><body>'
        f'<div class="top-menu">{_links("section", 14, "Section")}</div>'
        '<div class="share"><a href="/share/fb">Share on Facebook</a>'
        '<a href="/share/x">Share on X</a><a href="#comments">12 comments</a></div>'
        '<div class="story"><h1>Second wafer plant approved</h1>'
        + "".join(f"<p>{_STORY}</p>" for _ in range(3))
        + "</div>"
        f'<div class="more-stories"><h2>More stories</h2>{_links("news", 12, "Headline")}</div>'
        f'<div class="bottom-links">{_links("page", 10, "Useful page")}</div>'
        "</body></html>"
    )


def section_page(summary_sentences: int = 1) -> str:
    """A section front built of divs: teasers with a headline link and a summary."""
    summary = " ".join(
        "The plant makes power chips for cars; the story tells how the deal was done."
        for _ in range(summary_sentences)
    )
    teasers = "".join(
        f'<div class="teaser"><h3><a href="/news/{i}">Chip maker {i} opens a new line in the '
        f'zone</a></h3><p class="summary">{summary}</p></div>'
        for i in range(12)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Industry | The '
        f'Daily</title></head><body><div class="top-menu">{_links("section", 14, "Section")}'
        f'</div><div class="content"><h1>Industry</h1>{teasers}</div></body></html>'
    )


def blog_front() -> str:
    """A blog's category page: one <article> per post, each with its date and an excerpt."""
    posts = "".join(
        f'<article class="post"><h2 class="entry-title"><a href="/2021/10/post-{i}/">A longer '
        f'look at wafer plant number {i}</a></h2><time datetime="2021-10-{i + 1:02d}">October '
        f"{i + 1}, 2021</time><p>{_STORY[:220]}</p><a href='/2021/10/post-{i}/'>Read more</a>"
        "</article>"
        for i in range(8)
    )
    return (
        '<!doctype html><html lang="en"><head><title>Chips | A Blog</title><meta '
        'property="og:type" content="website"></head><body><div id="page"><div id="content">'
        f'<h1 class="page-title">Category: Chips</h1>{posts}</div></div></body></html>'
    )


def chinese_section_page() -> str:
    """A Chinese section front: headlines of 12-15 characters, each as long as an English one
    of 40 or so, with a one-sentence summary and a date."""
    headlines = [
        "深圳发布新一代芯片产业扶持政策",
        "南京创新周开幕聚焦集成电路",
        "合肥新能源汽车产量再创新高",
        "苏州生物医药产业园迎来新项目",
        "杭州人工智能企业获得新一轮融资",
        "武汉光谷发布激光产业规划",
    ]
    summary = "业内人士表示，新政策将吸引更多海外人才回流，同时推动本地供应链完善。"
    items = "".join(
        f'<div class="item"><h3><a href="/news/{i}.html">{headline}</a></h3><p>{summary}</p>'
        f"<span>2021-10-{i + 1:02d}</span></div>"
        for i, headline in enumerate(headlines * 2)
    )
    return (
        '<html><head><meta charset="utf-8"><title>产业</title></head><body><div class="menu">'
        f'<a href="/">首页</a></div><div class="list"><h1>产业</h1>{items}</div></body></html>'
    )


def _verdict(html: str, url: str):
    return classify(extract_page(html.encode(), url=url), url)


def test_a_publisher_article_with_link_blocks_in_divs_is_kept() -> None:
    verdict = _verdict(publisher_page(), "https://daily.example/story/second-wafer-plant")
    assert verdict.article, verdict.reason
    assert "og:type article" in verdict.reason and "date" in verdict.reason


def test_a_menu_of_short_links_beside_the_story_is_not_a_listing() -> None:
    """A town hall's news page: the story and a list of category names in one block, no
    og:type or JSON-LD, only a date; the menu's links are not headlines."""
    menu = "".join(f'<li><a href="/c/{i}">Topic {i}</a></li>' for i in range(40))
    html = (
        "<html><head><title>Service reports a break-in</title></head><body><div class='row'>"
        f"<ul class='cats'>{menu}</ul><h1>Service reports a break-in</h1>"
        f"<p>05/10/2018 - Published by the press office</p><p>{_STORY}</p></div></body></html>"
    )
    verdict = _verdict(html, "https://town.example/news/service-reports-a-break-in")
    assert verdict.article, verdict.reason


@pytest.mark.parametrize(
    ("name", "html", "url"),
    [
        ("div section front", section_page(), "https://daily.example/industry/"),
        ("long summaries", section_page(4), "https://daily.example/industry/page/2/"),
        ("blog front", blog_front(), "https://blog.example/category/chips/"),
        ("chinese section front", chinese_section_page(), "http://news.example.cn/industry/"),
        ("test site front page", front_page(), "https://daily.example/"),
    ],
)
def test_listing_pages_are_not_kept(name: str, html: str, url: str) -> None:
    verdict = _verdict(html, url)
    assert not verdict.article, name
    assert verdict.reason.startswith("listing:"), verdict.reason


def test_sample_site_home_and_sections_are_listings() -> None:
    site = NewsSite("http://127.0.0.1:1/", load_articles())
    records = site.articles
    pages = [site.render_home(records)]
    pages += [site.render_section(section, 1, records) or "" for section in ("industry", "policy")]
    for html in pages:
        verdict = _verdict(html, "http://127.0.0.1:1/industry/")
        assert not verdict.article, verdict.reason
    article = site.render_article(records[0], records)
    assert _verdict(article, site.url("2021/10/story.html")).article


@pytest.mark.parametrize(
    ("url", "signal"),
    [
        ("https://news.example/2021/10/05/fab-opens", "date in URL"),
        ("https://news.example/tech/20211005-fab-opens.html", "date in URL"),
        ("https://news.example/2021/10/", None),  # a month's archive: a listing
        ("https://news.example/a/30657941.html", "id in URL"),
        ("https://blog.example/?p=31228", "id in URL"),
        ("https://news.example/tech/fab-opens-in-nanjing", None),
        ("https://cdn.example/3f2a9c81d4e5b6a7/story", None),  # a hash, not an id
    ],
)
def test_urls_with_a_date_or_an_id_are_article_signals(url: str, signal: str | None) -> None:
    signals = article_signals(Extraction(Article(url=url)), url)
    assert signals == ([signal] if signal else [])


def test_a_short_page_without_article_signals_is_not_kept() -> None:
    html = "<html><body><h1>About us</h1><p>We are a small newsroom in Nanjing.</p></body></html>"
    verdict = _verdict(html, "https://daily.example/about")
    assert not verdict.article and verdict.reason.startswith("too short:"), verdict.reason


def test_noindex_is_the_reason_when_a_page_asks_for_it() -> None:
    html = article_page("alpha", "Alpha").replace(
        "<head>", '<head><meta name="robots" content="noindex">'
    )
    article, _page, verdict = page_article(html.encode(), "http://news.test/a", {})
    assert article is None and verdict.reason.startswith("noindex")


def _crawl_site(site: LoopbackSite, settings: CrawlSettings, data: Path) -> None:
    site.routes["/robots.txt"] = Route(status=404, etag=False)
    front = section_page().replace('href="/news/0"', 'href="/story/second-wafer-plant"')
    site.html("/", front.replace('href="/news/1"', 'href="/old"'))
    site.html("/story/second-wafer-plant", publisher_page())
    site.routes["/old"] = Route(status=301, headers={"Location": "/moved"}, etag=False)
    site.html("/moved", publisher_page().replace("Second wafer", "Third wafer"))
    with CrawlStore(data) as store:
        crawl([site.url("/")], store, settings)


def test_why_and_stats_tell_what_was_kept_and_why_not(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path, cli: CLI
) -> None:
    _crawl_site(site, settings, tmp_path)
    code, out, _ = cli("why", site.url("/"), "--data", str(tmp_path))
    assert code == 0
    assert out.startswith(f"{site.url('/')}: not kept as an article"), out
    assert "last fetch: HTTP 200 at " in out
    assert "why: listing: " in out and "teaser blocks" in out

    code, out, _ = cli("why", site.url("/story/second-wafer-plant"), "--data", str(tmp_path))
    assert code == 0 and ": kept as article " in out.splitlines()[0], out

    code, out, _ = cli("why", site.url("/news/3"), "--data", str(tmp_path))
    assert code == 0 and "not kept: HTTP 404" in out

    code, out, _ = cli("why", site.url("/moved"), "--data", str(tmp_path))
    lines = out.splitlines()
    assert ": kept as article " in lines[0] and "(through " + site.url("/old") in lines[1], out

    code, out, _ = cli("why", site.url("/never"), "--data", str(tmp_path))
    assert code == 0 and "not in the crawl store" in out

    code, out, _ = cli("stats", "--json", "--data", str(tmp_path), "--index", str(tmp_path / "ix"))
    assert code == 0 and json.loads(out)["store"]["not_articles"] == {"listing": 1}
    code, out, _ = cli("stats", "--data", str(tmp_path), "--index", str(tmp_path / "ix"))
    assert "pages not kept as articles: listing 1" in out


def test_why_refuses_what_is_not_a_url_in_one_line(cli: CLI, tmp_path: Path) -> None:
    code, _, err = cli("why", "not a url", "--data", str(tmp_path))
    assert code == 1 and err.count("\n") == 1 and "not an http(s) URL" in err


def test_the_reason_survives_an_unchanged_recrawl(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    _crawl_site(site, settings, tmp_path)
    with CrawlStore(tmp_path) as store:
        crawl([site.url("/")], store, settings)  # every page answers 304 now
        state = store.page_state(site.url("/"))
    assert state is not None and state.note and state.note.startswith("listing:")
    assert [hit.status for hit in site.requests if hit.path == "/"] == [200, 304]


_PAGES_BEFORE_NOTES = """
CREATE TABLE pages (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    content_hash TEXT,
    content_type TEXT,
    fetched_at TEXT NOT NULL,
    article_id TEXT                   -- the article this page produced, if any
);
"""


def test_a_store_from_before_page_notes_gets_the_column(tmp_path: Path) -> None:
    CrawlStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "crawl.sqlite") as db:
        db.executescript("DROP TABLE pages;" + _PAGES_BEFORE_NOTES + "PRAGMA user_version = 2;")
        db.execute(
            "INSERT INTO pages VALUES ('http://x.test/', 'x.test', 'page', 'http://x.test/', 200, "
            "NULL, NULL, 'h', 'text/html', '2024-01-01T00:00:00Z', NULL)"
        )
    with CrawlStore(tmp_path) as store:
        old = store.page_state("http://x.test/")
        assert old is not None and old.note is None and old.status == 200
        old.note = "listing: 9 teaser blocks in the main block"
        store.record_page(old)
    with CrawlStore(tmp_path) as store:
        assert store.page_reasons() == {"listing": 1}


def test_each_page_is_parsed_once_per_crawl_step(
    site: LoopbackSite, settings: CrawlSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = lxml.html.document_fromstring
    parsed: list[str] = []

    def counting(text: str, *args: object, **kwargs: object) -> object:
        parsed.append(text[:200])
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(lxml.html, "document_fromstring", counting)
    _crawl_site(site, settings, tmp_path)
    html_pages = [hit for hit in site.requests if hit.status == 200]
    assert len(html_pages) == 3  # the section front and the two articles that exist
    assert len(parsed) == 3, parsed
    parsed.clear()
    with CrawlStore(tmp_path) as store:
        crawl([site.url("/")], store, settings)
    # Answered 304: links are read again from the stored body, one parse a page.
    assert len(parsed) == 3, parsed
