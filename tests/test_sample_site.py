"""The bundled sample news site: what it serves, over real HTTP, and what its stories cover.

The demo and the crawler tests trust this site as ground truth (every article reachable, dates
where the records say, robots.txt honoured or not), so these tests pin that down with the stdlib
HTTP client only: a bug here would otherwise surface as a confusing crawler or extractor failure.
"""

from __future__ import annotations

import collections
import itertools
import json
import re
import socket
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import Message
from typing import Any

import pycountry
import pytest
from markupsafe import escape

from indexer.enrich.taxonomy import chain_ids
from innosearch.sample_site import (
    DATE_STYLES,
    LoopbackSite,
    SampleSite,
    article_path,
    load_articles,
    serve,
)

CHAIN_IDS = set(chain_ids())  # the twelve of TAXONOMY.md, from our taxonomy data
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}

# Names and adjectives (TAXONOMY.md "country") for the countries the stories may name. Used both
# ways: every declared country is named in the text, and no listed name appears undeclared.
COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "CN": ("China", "Chinese", "Sino-"),
    "DE": ("Germany", "German"),
    "US": ("United States", "US", "American"),
    "IL": ("Israel", "Israeli"),
    "JP": ("Japan", "Japanese"),
    "CA": ("Canada", "Canadian"),
    "FR": ("France", "French"),
    "RU": ("Russia", "Russian"),
    "KR": ("South Korea", "Korean"),
    "SG": ("Singapore", "Singaporean"),
    "DK": ("Denmark", "Danish"),
    "ID": ("Indonesia", "Indonesian"),
    "CH": ("Switzerland", "Swiss"),
    "SA": ("Saudi",),
    "AU": ("Australia", "Australian"),
    "HU": ("Hungary", "Hungarian"),
    "BR": ("Brazil", "Brazilian"),
    "NL": ("Netherlands", "Dutch", "Holland"),
    "GB": ("Britain", "British", "UK", "United Kingdom", "Brexit"),
    "EG": ("Egypt", "Egyptian"),
    "IT": ("Italy", "Italian"),
    "IN": ("India", "Indian"),
    "ES": ("Spain", "Spanish"),
    "TW": ("Taiwan",),
    "HK": ("Hong Kong",),
    "MO": ("Macao", "Macau"),
    "PL": ("Poland", "Polish"),
    "TR": ("Turkey", "Turkish"),
    "SE": ("Sweden", "Swedish"),
    "FI": ("Finland", "Finnish"),
    "NO": ("Norway", "Norwegian"),
    "AE": ("UAE", "Emirati"),
    "VN": ("Vietnam", "Vietnamese"),
    "TH": ("Thailand", "Thai"),
    "MY": ("Malaysia", "Malaysian"),
    "MX": ("Mexico", "Mexican"),
    "ZA": ("South Africa",),
    "AT": ("Austria", "Austrian"),
    "UA": ("Ukraine", "Ukrainian"),
    "SU": ("Soviet",),
}
CITIES = ("Nanjing", "Changzhou", "Hefei", "Suzhou", "Wuxi", "Ningbo", "Shenzhen", "Wuhan")


def _names_in(text: str) -> set[str]:
    found = set()
    for code, names in COUNTRY_NAMES.items():
        for name in names:
            pattern = re.escape(name) if name.endswith("-") else rf"\b{re.escape(name)}\b"
            if re.search(pattern, text):
                found.add(code)
    return found


def _full_text(rec: dict[str, Any]) -> str:
    return "\n".join([rec["title"], rec["summary"], *rec["paragraphs"]])


def _words(rec: dict[str, Any]) -> int:
    return len(" ".join(rec["paragraphs"]).split())


class Fetched:
    """One HTTP answer, read fully so no socket outlives the call."""

    def __init__(self, status: int, headers: Message, body: bytes, url: str) -> None:
        self.status, self.headers, self.body, self.url = status, headers, body, url

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return Fetched(resp.status, resp.headers, resp.read(), resp.url)
    except urllib.error.HTTPError as err:
        with err:
            return Fetched(err.code, err.headers, err.read(), url)


@pytest.fixture(scope="module")
def site() -> Iterator[SampleSite]:
    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def articles() -> list[dict[str, Any]]:
    return load_articles()


# --- the content ------------------------------------------------------------------------------


def test_there_are_enough_articles_of_the_right_length(articles: list[dict[str, Any]]) -> None:
    assert len(articles) >= 48
    assert len({a["slug"] for a in articles}) == len(articles)
    for rec in articles:
        assert 150 <= _words(rec) <= 350, rec["slug"]
        assert 3 <= len(rec["paragraphs"]) <= 6, rec["slug"]
        assert rec["title"] and rec["summary"] and rec["author"], rec["slug"]


def test_every_year_from_2019_to_2025_has_five_articles(articles: list[dict[str, Any]]) -> None:
    years = collections.Counter(int(a["published"][:4]) for a in articles)
    assert set(years) == set(range(2019, 2026))
    assert all(years[y] >= 5 for y in range(2019, 2026)), years


def test_every_chain_is_the_subject_of_three_articles(articles: list[dict[str, Any]]) -> None:
    chains = collections.Counter(c for a in articles for c in a["chains"])
    assert set(chains) == CHAIN_IDS
    assert all(n >= 3 for n in chains.values()), chains
    assert any(len(a["chains"]) == 2 for a in articles)


def test_countries_are_declared_as_the_text_names_them(articles: list[dict[str, Any]]) -> None:
    declared = collections.Counter(c for a in articles for c in a["countries"])
    assert len(declared) >= 12, declared
    for code in declared:
        assert pycountry.countries.get(alpha_2=code) is not None, code
    for rec in articles:
        assert _names_in(_full_text(rec)) == set(rec["countries"]), rec["slug"]


def test_some_articles_name_no_country_and_some_only_a_city(
    articles: list[dict[str, Any]],
) -> None:
    without = [a for a in articles if not a["countries"]]
    city_only = [a for a in without if any(city in _full_text(a) for city in CITIES)]
    no_place = [a for a in without if a not in city_only]
    assert len(city_only) >= 3
    assert len(no_place) >= 3


def test_key_terms_for_search_appear(articles: list[dict[str, Any]]) -> None:
    bodies = [" ".join(a["paragraphs"]).lower() for a in articles]
    assert sum("semiconductor" in b for b in bodies) >= 3
    assert sum("innovation" in b for b in bodies) >= 3
    assert sum("semiconductor" in b and "innovation" in b for b in bodies) >= 2


def test_a_syndicated_copy_repeats_a_story_a_day_later(articles: list[dict[str, Any]]) -> None:
    by_text = collections.defaultdict(list)
    for rec in articles:
        by_text[tuple(rec["paragraphs"])].append(rec)
    pairs = [group for group in by_text.values() if len(group) == 2]
    assert len(pairs) == 1
    first, second = sorted(pairs[0], key=lambda r: r["published"])
    assert date.fromisoformat(second["published"]) - date.fromisoformat(
        first["published"]
    ) == timedelta(days=1)
    assert first["section"] != second["section"]
    assert first["title"] != second["title"]
    assert first["title"].split(": ", 1)[1] == second["title"].split(": ", 1)[1]


def test_updated_dates_are_later_and_some_cross_a_year(articles: list[dict[str, Any]]) -> None:
    updated = [a for a in articles if a.get("updated")]
    assert len(updated) >= 6
    assert all(a["updated"] > a["published"] for a in updated)
    assert sum(a["updated"][:4] != a["published"][:4] for a in updated) >= 2


def test_sections_and_date_styles_are_varied(site: SampleSite) -> None:
    sections = {a["section"] for a in site.articles}
    assert 4 <= len(sections) <= 5
    styles = collections.Counter(site.date_style(a["slug"]) for a in site.articles)
    assert set(styles) == set(DATE_STYLES)
    updated_styles = {site.date_style(a["slug"]) for a in site.articles if a.get("updated")}
    assert updated_styles == set(DATE_STYLES)


# --- what the server answers ------------------------------------------------------------------


def test_robots_txt_disallows_admin_and_names_the_sitemap(site: SampleSite) -> None:
    got = fetch(site.url("/robots.txt"))
    assert got.status == 200
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = got.text.splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert f"Sitemap: {site.url('/sitemap.xml')}" in lines


def test_sitemap_lists_every_article_with_lastmod(site: SampleSite) -> None:
    got = fetch(site.url("/sitemap.xml"))
    assert got.status == 200
    assert got.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(got.body)
    entries = {
        u.findtext("sm:loc", namespaces=SITEMAP_NS): u.findtext("sm:lastmod", namespaces=SITEMAP_NS)
        for u in root.findall("sm:url", SITEMAP_NS)
    }
    article_urls = {loc for loc in entries if loc.endswith(".html")}
    assert len(article_urls) == len(site.articles)
    assert article_urls == {site.article_url(a) for a in site.articles}
    for rec in site.articles:
        assert entries[site.article_url(rec)] == rec.get("updated", rec["published"])
    assert site.url("/world/") in entries


def _published_markup(page: str, style: str, published: str) -> bool:
    if style == "json-ld":
        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        return any(json.loads(b).get("datePublished", "").startswith(published) for b in blocks)
    if style == "meta":
        return f'<meta property="article:published_time" content="{published}T' in page
    return f'<time class="published" datetime="{published}T' in page


def test_every_article_page_answers_with_title_and_date(site: SampleSite) -> None:
    for rec in site.articles:
        got = fetch(site.article_url(rec))
        assert got.status == 200, rec["slug"]
        assert got.headers["Content-Type"] == "text/html; charset=utf-8"
        assert got.headers["ETag"] and got.headers["Last-Modified"]
        page = got.text
        title = str(escape(rec["title"]))
        assert re.search(rf"<h1[^>]*>{re.escape(title)}</h1>", page), rec["slug"]
        assert '<html lang="en">' in page
        assert f'<link rel="canonical" href="{site.article_url(rec)}">' in page
        assert f'<meta property="og:title" content="{title}">' in page
        assert f'<meta name="description" content="{escape(rec["summary"])}">' in page
        style = site.date_style(rec["slug"])
        assert _published_markup(page, style, rec["published"]), rec["slug"]
        # Each style carries the date one way only, so extractors meet all three separately.
        assert ("application/ld+json" in page) == (style == "json-ld")
        assert ("article:published_time" in page) == (style == "meta")
        assert ("<time" in page) == (style == "time")
        assert ("Updated:" in page) == bool(rec.get("updated"))
        article = page[page.index("<article") : page.index("</article>")]
        for paragraph in rec["paragraphs"]:
            assert f"<p>{escape(paragraph)}</p>" in article
        for boilerplate in ("cookie-banner", "breadcrumbs", "share-bar", "Related stories"):
            assert boilerplate in page


def test_section_pagination_reaches_every_article(site: SampleSite) -> None:
    by_section: dict[str, set[str]] = collections.defaultdict(set)
    for rec in site.articles:
        by_section[rec["section"]].add(article_path(rec))
    for section, expected in by_section.items():
        seen: list[str] = []
        url: str | None = site.url(f"/{section}/")
        pages = 0
        while url:
            got = fetch(url)
            assert got.status == 200, url
            listing = got.text[got.text.index('<ul class="teasers">') :]
            listing = listing[: listing.index("</ul>")]
            links = re.findall(r'<h3><a href="([^"]+\.html)">', listing)
            assert 1 <= len(links) <= 8
            seen += links
            pages += 1
            nxt = re.search(r'<a rel="next" href="([^"]+)"', got.text)
            url = site.base + nxt.group(1) if nxt else None
        assert sorted(seen) == sorted(expected), section
        assert pages == -(-len(expected) // 8)


def test_home_page_lists_latest_and_links_the_feed(site: SampleSite) -> None:
    got = fetch(site.url())
    assert got.status == 200
    assert '<link rel="alternate" type="application/rss+xml"' in got.text
    newest = max(site.articles, key=lambda a: a["published"])
    assert f'href="{article_path(newest)}"' in got.text


def test_feed_is_rss_of_the_latest_twenty(site: SampleSite) -> None:
    got = fetch(site.url("/feed.xml"))
    assert got.status == 200
    assert got.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = ET.fromstring(got.body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    links = [item.findtext("link") for item in root.iter("item")]
    latest = sorted(site.articles, key=lambda a: a["published"], reverse=True)[:20]
    assert set(links) == {site.article_url(a) for a in latest}


def test_conditional_requests_answer_304(site: SampleSite) -> None:
    url = site.article_url(site.articles[0])
    first = fetch(url)
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert fetch(url, {"If-None-Match": tag}).status == 304
    assert fetch(url, {"If-None-Match": f'W/{tag}, "other"'}).status == 304
    assert fetch(url, {"If-Modified-Since": modified}).status == 304
    assert fetch(url, {"If-None-Match": '"stale"'}).status == 200
    assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"}).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert fetch(url, both).status == 200


def test_touch_changes_the_validators() -> None:
    with serve() as own:
        rec = own.articles[0]
        url = own.article_url(rec)
        before = fetch(url).headers["ETag"]
        own.touch(rec["slug"], "2025-12-01")
        after = fetch(url, {"If-None-Match": before})
        assert after.status == 200
        assert after.headers["ETag"] != before
        assert "Updated:" in after.text
        assert "<lastmod>2025-12-01</lastmod>" in fetch(own.url("/sitemap.xml")).text


def test_unknown_paths_answer_404(site: SampleSite) -> None:
    rec = site.articles[0]
    wrong_month = "/2000/01/" + rec["slug"] + ".html"
    for path in ("/nope", "/2019/03/no-such-story.html", wrong_month, "/world/page/99/", "/x.php"):
        got = fetch(site.base + path)
        assert got.status == 404, path
        assert got.headers["Content-Type"] == "text/html; charset=utf-8"


def test_redirects_and_admin(site: SampleSite) -> None:
    assert fetch(site.url("/world")).url == site.url("/world/")
    assert fetch(site.url("/world/page/1/")).url == site.url("/world/")
    admin = fetch(site.url("/admin/"))
    assert admin.status == 200 and "/admin/drafts/" in admin.text
    head = fetch(site.article_url(rec := site.articles[1]), method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == len(fetch(site.article_url(rec)).body)


def test_requests_are_recorded_in_order() -> None:
    with serve() as own:
        paths = ["/robots.txt", "/", "/admin/", "/nope?x=1"]
        for path in paths:
            fetch(own.base + path, {"User-Agent": "innosearch-test"})
        log = own.requests
        assert [r.path for r in log] == paths
        assert own.paths() == paths
        assert [r.status for r in log] == [200, 200, 200, 404]
        assert all(r.user_agent == "innosearch-test" for r in log)
        assert all(a.at <= b.at for a, b in itertools.pairwise(log))
        own.clear()
        assert own.requests == []


def test_close_stops_the_server() -> None:
    own = serve()
    port = own.port
    assert own.url() == f"http://127.0.0.1:{port}/"
    own.close()
    own.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


# --- the kit's server: requests held until released, waiting on the log ------------------------


def _fetch_in_thread(url: str) -> tuple[threading.Thread, list[Fetched]]:
    got: list[Fetched] = []
    thread = threading.Thread(target=lambda: got.append(fetch(url)))
    thread.start()
    return thread, got


def test_a_held_path_waits_until_released_and_other_paths_do_not() -> None:
    with LoopbackSite() as own:
        own.html("/a", "<p>a</p>")
        own.html("/b?x=1", "<p>b</p>")
        with own.hold("/b") as held:  # the path without its query matches too
            thread, got = _fetch_in_thread(own.url("/b?x=1"))
            held.wait_arrived(timeout=10)
            assert fetch(own.url("/a")).body == b"<p>a</p>"
            assert got == [] and [r.status for r in own.requests] == [0, 200]
        thread.join(timeout=10)
        assert got[0].status == 200 and got[0].body == b"<p>b</p>"


def test_a_hold_after_n_requests_catches_the_next_and_wait_until_sees_it() -> None:
    with LoopbackSite() as own:
        own.html("/", "<p>front</p>")
        with own.hold(after=2) as held:
            assert [fetch(own.url()).status for _ in range(2)] == [200, 200]
            assert not held.arrived.is_set()
            thread, got = _fetch_in_thread(own.url("/nowhere"))
            held.wait_arrived(timeout=10)
            log = own.wait_until(lambda requests: len(requests) == 3, timeout=10)
            assert [r.status for r in log] == [200, 200, 0] and got == []
        log = own.wait_until(lambda requests: requests[2].ended_at > 0, timeout=10)
        thread.join(timeout=10)
        assert log[2].status == 404 and got[0].status == 404
        with pytest.raises(AssertionError, match="did not see"):
            own.wait_until(lambda requests: len(requests) > 3, timeout=0.1)


def test_closing_the_site_releases_held_requests() -> None:
    own = LoopbackSite()
    held = own.hold()
    thread, got = _fetch_in_thread(own.url("/anything"))
    held.wait_arrived(timeout=10)
    own.close()
    thread.join(timeout=10)
    assert not thread.is_alive() and got[0].status == 404
