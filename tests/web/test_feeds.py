"""Alerts as feeds: `/feed.atom` is a valid Atom feed of a search's newest stories, read here
by feedparser as a feed reader would."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient

from crawler.article import Article
from indexer.whoosh import index_articles
from tests.conftest import fixture_articles
from web import create_app, get_index


def parsed(client: FlaskClient, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_the_feed_lists_the_searchs_newest_stories(client: FlaskClient) -> None:
    feed = parsed(client, "/feed.atom?q=chip OR battery OR innovation")
    newest = client.get("/api/search?q=chip OR battery OR innovation&sort=date").get_json()
    assert [e.title for e in feed.entries] == [r["title"] for r in newest["results"]]
    assert [e.link for e in feed.entries] == [r["url"] for r in newest["results"]]
    assert feed.feed.title == "innosearch: chip OR battery OR innovation"
    assert feed.feed.updated == max(e.updated for e in feed.entries)
    dated = [e.updated for e in feed.entries if e.get("published")]
    assert dated == sorted(dated, reverse=True) and dated
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == len(ids) and all("/article/" in i for i in ids)
    assert all(e.summary and "<mark>" not in e.summary for e in feed.entries)


def test_the_feed_keeps_the_filters_and_names_the_page_it_follows(client: FlaskClient) -> None:
    feed = parsed(client, "/feed.atom?chain=integrated-circuits&per_page=1")
    assert len(feed.entries) == 1
    assert all(t.term == "integrated-circuits" for t in feed.entries[0].tags[:1])
    alternate = [link.href for link in feed.feed.links if link.rel == "alternate"]
    assert alternate == ["http://localhost/?chain=integrated-circuits"]
    page = client.get("/?q=chip").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feed.atom?q=chip"' in page


def test_bad_parameters_answer_400_in_the_apis_format(client: FlaskClient) -> None:
    for url, words in [
        ("/feed.atom?country=China", "did you mean CN"),
        ("/feed.atom?per_page=500", "per_page must be between"),
        ("/feed.atom?qq=chip", "did you mean 'q'"),
    ]:
        response = client.get(url)
        assert response.status_code == 400 and words in response.get_json()["error"], url


def test_crawled_markup_and_control_characters_stay_text(tmp_path: Path) -> None:
    odd = Article(
        url="https://a.example/odd",
        id="odd",
        title="Chip <b>fab</b> & \x0bco\x00",
        text="A chip fab story with a form feed \x0c and <script>x</script>, told at length. " * 3,
        published="2024-05-01",
        authors=["Ada Lovelace"],
    )
    index_articles(tmp_path, [*fixture_articles(), odd])
    app = create_app({"INDEX_DIR": str(tmp_path), "TESTING": True})
    try:
        feed = parsed(app.test_client(), "/feed.atom?q=chip")
    finally:
        get_index(app).close()
    entry = next(e for e in feed.entries if e.id.endswith("/article/odd"))
    assert entry.title == "Chip <b>fab</b> & co"
    assert entry.author == "Ada Lovelace"
    assert "<script>x</script>" in entry.summary  # text, as typed: never markup in a reader


@pytest.mark.parametrize("q", ["nothingmatcheszzz"])
def test_a_search_with_no_story_is_an_empty_valid_feed(client: FlaskClient, q: str) -> None:
    feed = parsed(client, f"/feed.atom?q={q}")
    assert feed.entries == [] and feed.feed.updated
