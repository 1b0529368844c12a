"""The search function on a real Whoosh index of tests/fixtures/articles.jsonl."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from crawler.article import Article
from indexer import LiveIndex, QueryError, SearchRequest, index_articles, search


@pytest.fixture
def index(built_index: Path) -> Iterator[LiveIndex]:
    live = LiveIndex(built_index)
    yield live
    live.close()


def ids(result: dict) -> list[str]:
    return [r["id"] for r in result["results"]]


def run(index: LiveIndex, q: str = "", **kwargs: object) -> dict:
    return search(index, SearchRequest(q=q, **kwargs))  # type: ignore[arg-type]


def test_words_find_ranked_results_with_highlighted_snippets(index: LiveIndex) -> None:
    result = run(index, "semiconductor")
    assert set(ids(result)) == {"chips-nanjing", "xss"}
    assert result["total"] == 2
    scores = [r["score"] for r in result["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert "<mark>" in result["results"][0]["snippet"]
    top = result["results"][0]
    assert top["url"] and top["site"] and top["title"]


def test_stemming_and_accent_folding(index: LiveIndex) -> None:
    assert set(ids(run(index, "semiconductors"))) == {"chips-nanjing", "xss"}
    assert ids(run(index, "cafe")) == ["cafe-innovation"]


def test_all_words_required_by_default_with_any_word_switch(index: LiveIndex) -> None:
    assert run(index, "vaccine hydrogen")["total"] == 0
    assert set(ids(run(index, "vaccine hydrogen", any_word=True))) == {"vaccine", "nodate"}


def test_query_language(index: LiveIndex) -> None:
    assert ids(run(index, '"innovation week"')) == ["cafe-innovation"]
    assert ids(run(index, "title:vaccine")) == ["vaccine"]
    assert set(ids(run(index, "vaccine OR hydrogen"))) == {"vaccine", "nodate"}
    assert ids(run(index, "semiconductor NOT markup")) == ["chips-nanjing"]
    assert set(ids(run(index, "semicond*"))) == {"chips-nanjing", "xss"}


def test_empty_query_browses_everything_newest_first(index: LiveIndex) -> None:
    result = run(index, "", per_page=50)
    assert result["total"] == 7
    dated = [r["published"] for r in result["results"] if r["published"]]
    assert dated == sorted(dated, reverse=True)
    undated = next(r for r in result["results"] if r["id"] == "nodate")
    assert undated["year"] is None and undated["published"] is None
    assert sum(result["facets"]["year"].values()) == 6


def test_enrichment_reaches_the_index(index: LiveIndex) -> None:
    hit = run(index, "title:nanjing")["results"][0]
    assert hit["year"] == 2021
    assert "integrated-circuits" in hit["chains"]
    assert "CN" in hit["countries"]


def test_facet_values_of_one_facet_are_ored_and_counted_without_own_selection(
    index: LiveIndex,
) -> None:
    everything = run(index, "")["facets"]
    chains = everything["chain"]
    assert {"integrated-circuits", "nev"} <= set(chains)
    one = run(index, "", filters={"chain": ["integrated-circuits"]})
    assert one["total"] == chains["integrated-circuits"]
    # The chain facet's own counts ignore the chain selection, so other chains stay visible.
    assert one["facets"]["chain"] == chains
    both = run(index, "", filters={"chain": ["integrated-circuits", "nev"]}, per_page=50)
    ic_ids = set(ids(run(index, "", filters={"chain": ["integrated-circuits"]}, per_page=50)))
    nev_ids = set(ids(run(index, "", filters={"chain": ["nev"]}, per_page=50)))
    assert set(ids(both)) == ic_ids | nev_ids


def test_different_facets_are_anded(index: LiveIndex) -> None:
    result = run(index, "", filters={"chain": ["nev"], "country": ["DE"]})
    assert ids(result) == ["ev-batteries"]
    # The year facet counts only what both other selections allow.
    assert result["facets"]["year"] == {"2022": 1}
    # The country facet counts within the chain selection, ignoring its own.
    nev = run(index, "", filters={"chain": ["nev"]})
    assert result["facets"]["country"] == nev["facets"]["country"]


def test_country_and_year_filters_are_case_and_type_tolerant(index: LiveIndex) -> None:
    assert ids(run(index, "", filters={"country": ["de"]})) == ["ev-batteries"]
    assert ids(run(index, "", filters={"year": ["2020"]})) == ["vaccine"]
    assert run(index, "", filters={"year": ["1999"]})["total"] == 0


def test_date_range_and_sort_by_date(index: LiveIndex) -> None:
    result = run(index, "", date_from=date(2021, 1, 1), date_to=date(2022, 12, 31))
    assert set(ids(result)) == {"chips-nanjing", "ev-batteries"}
    by_date = run(index, "semiconductor", sort="date")
    assert ids(by_date) == ["xss", "chips-nanjing"]


def test_paging(index: LiveIndex) -> None:
    first = run(index, "", per_page=3, page=1)
    second = run(index, "", per_page=3, page=2)
    third = run(index, "", per_page=3, page=3)
    assert len(first["results"]) == 3 and len(third["results"]) == 1
    assert not set(ids(first)) & set(ids(second))
    beyond = run(index, "", per_page=3, page=9)
    assert beyond["results"] == [] and beyond["total"] == 7


def test_snippets_escape_crawled_markup(index: LiveIndex) -> None:
    hit = next(r for r in run(index, "markup")["results"] if r["id"] == "xss")
    assert "<img" not in hit["snippet"] and "&gt;" in hit["snippet"]
    assert hit["snippet"].replace("<mark>", "").replace("</mark>", "").count("<") == 0


@pytest.mark.parametrize(
    "q",
    [
        '"unclosed phrase',
        "(chips",
        "chips)",
        "AND",
        "OR chips",
        "chips NOT",
        "a*",
        "x" * 2000,
        "chips\x00",
    ],
)
def test_bad_queries_explain_themselves(index: LiveIndex, q: str) -> None:
    with pytest.raises(QueryError) as e:
        run(index, q)
    assert len(str(e.value)) > 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sort": "random"},
        {"page": 0},
        {"per_page": 1000},
        {"filters": {"colour": ["red"]}},
        {"date_from": date(2022, 1, 1), "date_to": date(2021, 1, 1)},
    ],
)
def test_bad_parameters_are_refused(index: LiveIndex, kwargs: dict) -> None:
    with pytest.raises(QueryError):
        run(index, "chips", **kwargs)


def test_updates_replace_by_id_and_reach_an_open_index(tmp_path: Path) -> None:
    first = Article(url="https://a.example/1", id="one", title="Graphene sheets", text="graphene")
    index_articles(tmp_path, [first])
    live = LiveIndex(tmp_path)
    try:
        assert ids(run(live, "graphene")) == ["one"]
        changed = Article(url="https://a.example/1", id="one", title="Carbon fibre", text="fibre")
        index_articles(tmp_path, [changed, Article(url="https://a.example/2", text="graphene")])
        assert run(live, "")["total"] == 2  # the open index saw the new commit
        assert ids(run(live, "title:carbon")) == ["one"]
        assert run(live, "graphene")["total"] == 1
    finally:
        live.close()
