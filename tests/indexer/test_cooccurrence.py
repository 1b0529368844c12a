"""The country co-occurrence matrix and the all-of country filter, on both backends: the same
stories, the same matrix, counts that agree with the search and the export, on the fixture
articles and on 1,500 real news articles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from indexer.backend import WhooshIndex
from indexer.cooccurrence import cooccurrence
from indexer.document import Story
from indexer.enrich.countries import name_of
from indexer.postgres.index import PostgresIndex
from indexer.request import SearchRequest
from tests.conftest import whoosh_and_postgres
from tests.indexer.test_query_cost import news
from tests.pg_server import Server

NEWS = 1500


def pairs_of_export(index: Any, request: SearchRequest) -> Counter[tuple[str, str]]:
    """Pair counts from the export rows: another path through each backend than `stories`."""
    counted: Counter[tuple[str, str]] = Counter()
    for row in index.export_rows(request):
        counted.update(combinations(sorted(set(row["countries"])), 2))
    return counted


def test_stories_are_the_searchs_stories_with_their_countries(backend: Any) -> None:
    request = SearchRequest()
    stories = backend.stories(request)
    rows = {r["id"]: tuple(sorted(r["countries"])) for r in backend.export_rows(request)}
    assert len(stories) == backend.search(request)["total"] == len(rows)
    assert {s.id: s.countries for s in stories} == rows
    assert any(len(s.countries) > 1 for s in stories)


def test_the_matrix_counts_each_pair_as_the_export_does(backend: Any) -> None:
    data = cooccurrence(backend.stories(SearchRequest()), name_of)
    expected = pairs_of_export(backend, SearchRequest())
    assert {tuple(p["countries"]): p["stories"] for p in data["pairs"]} == dict(expected)
    codes = [c["id"] for c in data["countries"]]
    for i, a in enumerate(codes):
        assert data["matrix"][i][i] == data["countries"][i]["stories"]
        for j, b in enumerate(codes):
            if i != j:
                pair = expected[min(a, b), max(a, b)]
                assert data["matrix"][i][j] == data["matrix"][j][i] == pair


def test_country_all_requires_every_country_and_the_query_language_says_the_same(
    backend: Any,
) -> None:
    data = cooccurrence(backend.stories(SearchRequest()), name_of)
    (a, b), n = data["pairs"][0]["countries"], data["pairs"][0]["stories"]
    both = backend.search(SearchRequest(country_all=[a, b], per_page=100))
    assert both["total"] == n
    assert all({a, b} <= set(r["countries"]) for r in both["results"])
    assert backend.search(SearchRequest(q=f"country:{a}+{b}"))["total"] == n
    # with "any word" the plus form still requires both, and lower case is the same code
    assert backend.search(SearchRequest(q=f"country:{a.lower()}+{b}", any_word=True))["total"] == n
    either = backend.search(SearchRequest(filters={"country": [a, b]}))["total"]
    assert either > n  # `country` ORs its values; `country_all` ANDs them
    # country_all narrows the country facet's counts too: both countries in every story
    assert both["facets"]["country"][a] == both["facets"]["country"][b] == n


def test_the_matrix_is_limited_to_the_top_countries_but_lists_every_pair() -> None:
    stories = [Story("1", ("CN", "DE", "FR")), Story("2", ("CN", "DE")), Story("3", ())]
    data = cooccurrence(stories, name_of, top=2)
    assert [c["id"] for c in data["countries"]] == ["CN", "DE"]
    assert data["matrix"] == [[2, 2], [2, 2]]
    assert (data["total"], data["with_country"], data["with_pair"]) == (3, 2, 2)
    assert [(p["countries"], p["stories"]) for p in data["pairs"]] == [
        (["CN", "DE"], 2),
        (["CN", "FR"], 1),
        (["DE", "FR"], 1),
    ]
    assert data["pairs"][0]["names"] == ["China", "Germany"]


@pytest.fixture(scope="module")
def news_indexes(
    shared: Path, tmp_path_factory: pytest.TempPathFactory, pg_server: Server
) -> Iterator[tuple[WhooshIndex, PostgresIndex]]:
    """1,500 real news articles in a Whoosh index and in a PostgreSQL one."""
    folder = tmp_path_factory.mktemp("cooc-news") / "index"
    with whoosh_and_postgres(news(shared, NEWS), folder, pg_server, "cooc_news") as pair:
        yield pair


@pytest.mark.parametrize("q", ["", "trade", "oil OR bank"])
def test_both_backends_give_the_same_matrix_on_real_news(
    news_indexes: tuple[WhooshIndex, PostgresIndex], q: str
) -> None:
    whoosh, pg = news_indexes
    request = SearchRequest(q=q)
    ours = sorted(whoosh.stories(request))
    assert ours == sorted(pg.stories(request))
    data = cooccurrence(ours, name_of)
    assert data["with_pair"] > 10  # real news names several countries
    assert {tuple(p["countries"]): p["stories"] for p in data["pairs"]} == dict(
        pairs_of_export(whoosh, request)
    )
    (a, b) = data["pairs"][0]["countries"]
    for index in news_indexes:
        assert (
            index.search(SearchRequest(q=q, country_all=[a, b]))["total"]
            == (data["pairs"][0]["stories"])
        )
