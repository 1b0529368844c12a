"""Snippets: the fragments around the matched words, marked and escaped, cut at whole words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.article import Article
from indexer import SearchRequest
from indexer.whoosh import LiveIndex, index_articles, search

FILLER = "Officials met in the capital on Tuesday to discuss the annual budget. " * 12
ARTICLES = [
    Article(
        url="https://news.example/far",
        id="far",
        title="A long report",
        text=FILLER + "The new semiconductor plant opens in March. " + FILLER,
    ),
    Article(
        url="https://news.example/two",
        id="two",
        title="Two mentions",
        text="Batteries <b>first</b> here. " + FILLER + "Near the end, batteries again.",
    ),
    Article(  # a dotted capital I lower-cases to two characters: Whoosh's own highlighter
        url="https://news.example/istanbul",
        id="istanbul",
        title="Turbines",
        text="İstanbul turbines first here. " + FILLER + "Near the end, turbines again.",
    ),
    Article(
        url="https://news.example/cafe",
        id="cafe",
        title="Opening",
        text="The Café Lumière opened its doors; the café serves coffee.",
    ),
    Article(
        url="https://news.example/title",
        id="title-only",
        title="Hydrogen buses",
        text="The city ordered forty new vehicles for its fleet this spring.",
    ),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIndex]:
    path: Path = tmp_path_factory.mktemp("snippets")
    index_articles(path, ARTICLES)
    live = LiveIndex(path)
    yield live
    live.close()


def snippet(index: LiveIndex, q: str) -> str:
    result = search(index, SearchRequest(q=q))
    assert result["results"], q
    return str(result["results"][0]["snippet"])


def test_a_word_deep_in_the_text_is_shown_with_context_and_ellipses(index: LiveIndex) -> None:
    s = snippet(index, "semiconductors")  # stemmed: finds "semiconductor"
    assert s.startswith("… ") and s.endswith(" …")
    assert "<mark>semiconductor</mark> plant opens" in s
    assert len(s) < 300


def test_distant_matches_give_two_fragments_in_text_order(index: LiveIndex) -> None:
    s = snippet(index, "battery")
    assert s.count("<mark>") == 2
    assert s.index("<mark>Batteries</mark>") < s.index("<mark>batteries</mark>")
    assert "&lt;b&gt;first&lt;/b&gt;" in s  # crawled markup is escaped
    assert s.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert s.count("…") == 1 and "… …" not in s  # one ellipsis between the two fragments


def test_whooshs_own_highlighter_joins_fragments_the_same_way(index: LiveIndex) -> None:
    s = snippet(index, "turbine")
    assert s.count("<mark>") == 2 and s.count(" … ") == 1 and "… …" not in s


def test_accented_words_match_their_folded_form(index: LiveIndex) -> None:
    s = snippet(index, "cafe")
    assert "<mark>Café</mark>" in s and "<mark>café</mark>" in s


def test_a_match_in_the_title_only_shows_the_opening_words(index: LiveIndex) -> None:
    s = snippet(index, "hydrogen")
    assert "<mark>" not in s and s.startswith("The city ordered")


def test_whitespace_runs_read_as_one_space(index: LiveIndex) -> None:
    assert "\n" not in snippet(index, "semiconductor")
