"""Search on real indexes of tests/fixtures/articles.jsonl: what both backends answer alike
(run on Whoosh and on PostgreSQL, `backend`), then what only the Whoosh index does. The query
language has its own suite (test_query.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crawler.article import Article
from indexer import QueryError, SearchRequest
from indexer.backend import NamedSites, WhooshIndex
from indexer.postgres.index import PostgresIndex
from indexer.whoosh import LiveIndex, index_articles, search
from tests.conftest import syndicated_articles


@pytest.fixture
def index(built_index: Path) -> Iterator[LiveIndex]:
    live = LiveIndex(built_index)
    yield live
    live.close()


def ids(result: dict) -> list[str]:
    return [r["id"] for r in result["results"]]


def run(index: Any, q: str = "", **kwargs: object) -> dict:
    """A search on a LiveIndex or on a backend (WhooshIndex, PostgresIndex)."""
    request = SearchRequest(q=q, **kwargs)  # type: ignore[arg-type]
    return search(index, request) if isinstance(index, LiveIndex) else index.search(request)


# ---- the same behaviours on both backends -----------------------------------------------------


def test_words_find_ranked_results_with_highlighted_snippets(backend: Any) -> None:
    result = run(backend, "semiconductor")
    assert set(ids(result)) == {"chips-nanjing", "xss"}
    assert result["total"] == 2
    scores = [r["score"] for r in result["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert "<mark>" in result["results"][0]["snippet"]
    top = result["results"][0]
    assert top["url"] and top["site"] and top["title"]
    assert set(result) >= {"query", "total", "page", "per_page", "results", "facets"}
    assert set(top) >= {"id", "url", "title", "published", "year", "chains", "countries"}
    assert set(top) >= {"site", "score", "snippet", "also"}


def test_empty_query_browses_everything_newest_first(backend: Any) -> None:
    result = run(backend, "", per_page=50)
    assert result["total"] == 7
    dated = [r["published"] for r in result["results"] if r["published"]]
    assert dated == sorted(dated, reverse=True)
    assert result["results"][-1]["id"] == "nodate"  # undated last
    undated = next(r for r in result["results"] if r["id"] == "nodate")
    assert undated["year"] is None and undated["published"] is None
    assert sum(result["facets"]["year"].values()) == 6
    assert run(backend, "*")["total"] == 7


def test_enrichment_reaches_the_index(backend: Any) -> None:
    hit = run(backend, "title:nanjing")["results"][0]
    assert hit["year"] == 2021
    assert "integrated-circuits" in hit["chains"]
    assert "CN" in hit["countries"]


def test_facet_values_of_one_facet_are_ored_and_counted_without_own_selection(
    backend: Any,
) -> None:
    everything = run(backend, "")["facets"]
    chains = everything["chain"]
    assert {"integrated-circuits", "nev"} <= set(chains)
    assert list(everything["year"]) == sorted(everything["year"], reverse=True)
    one = run(backend, "", filters={"chain": ["integrated-circuits"]})
    assert one["total"] == chains["integrated-circuits"]
    # The chain facet's own counts ignore the chain selection, so other chains stay visible.
    assert one["facets"]["chain"] == chains
    both = run(backend, "", filters={"chain": ["integrated-circuits", "nev"]}, per_page=50)
    ic_ids = set(ids(run(backend, "", filters={"chain": ["integrated-circuits"]}, per_page=50)))
    nev_ids = set(ids(run(backend, "", filters={"chain": ["nev"]}, per_page=50)))
    assert set(ids(both)) == ic_ids | nev_ids


def test_different_facets_are_anded(backend: Any) -> None:
    result = run(backend, "", filters={"chain": ["nev"], "country": ["DE"]})
    assert ids(result) == ["ev-batteries"]
    # The year facet counts only what both other selections allow.
    assert result["facets"]["year"] == {"2022": 1}
    # The country facet counts within the chain selection, ignoring its own.
    nev = run(backend, "", filters={"chain": ["nev"]})
    assert result["facets"]["country"] == nev["facets"]["country"]


def test_facets_follow_the_query(backend: Any) -> None:
    result = run(backend, "semiconductor")
    assert sum(result["facets"]["year"].values()) == 2
    assert result["facets"]["chain"]["integrated-circuits"] == 2


def test_country_and_year_filters_are_case_and_type_tolerant(backend: Any) -> None:
    assert ids(run(backend, "", filters={"country": ["de"]})) == ["ev-batteries"]
    assert ids(run(backend, "", filters={"year": ["2020"]})) == ["vaccine"]
    assert run(backend, "", filters={"year": ["1999"]})["total"] == 0
    assert run(backend, "", filters={"year": ["nineteen"]})["total"] == 0


def test_date_range_and_sort_by_date(backend: Any) -> None:
    result = run(backend, "", date_from=date(2021, 1, 1), date_to=date(2022, 12, 31))
    assert set(ids(result)) == {"chips-nanjing", "ev-batteries"}
    by_date = run(backend, "semiconductor", sort="date")
    assert ids(by_date) == ["xss", "chips-nanjing"]


def test_paging(backend: Any) -> None:
    first = run(backend, "", per_page=3, page=1)
    second = run(backend, "", per_page=3, page=2)
    third = run(backend, "", per_page=3, page=3)
    assert len(first["results"]) == 3 and len(third["results"]) == 1
    assert not set(ids(first)) & set(ids(second))
    assert len(set(ids(first)) | set(ids(second)) | set(ids(third))) == 7
    beyond = run(backend, "", per_page=3, page=9)
    assert beyond["results"] == [] and beyond["total"] == 7


def test_snippets_escape_crawled_markup(backend: Any) -> None:
    hit = next(r for r in run(backend, "markup")["results"] if r["id"] == "xss")
    assert "<img" not in hit["snippet"] and "&gt;" in hit["snippet"]
    assert hit["snippet"].replace("<mark>", "").replace("</mark>", "").count("<") == 0
    browsed = next(r for r in run(backend, "", per_page=50)["results"] if r["id"] == "xss")
    assert "<img" not in browsed["snippet"] and "&lt;img" in browsed["snippet"]


def test_timeline_counts_stories_per_period(backend: Any) -> None:
    result = run(backend, "", timeline=True, interval="year")
    timeline = result["timeline"]
    assert timeline["interval"] == "year" and timeline["undated"] == 1
    assert {"period": "2021", "count": 1} in timeline["counts"]
    assert sum(c["count"] for c in timeline["counts"]) == 6


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
def test_bad_parameters_are_refused(backend: Any, kwargs: dict) -> None:
    with pytest.raises(QueryError):
        run(backend, "chips", **kwargs)


def test_get_document_and_counts(backend: Any) -> None:
    doc = backend.get_document("vaccine")
    assert doc is not None
    assert doc["title"].startswith("Biotech") and "mRNA" in doc["text"]
    assert doc["year"] == 2020 and doc["countries"] == ["GB"] and doc["chains"]
    assert backend.get_document("nope") is None
    assert backend.doc_count() == 7


def test_a_story_shows_the_name_its_site_declares(backend: Any) -> None:
    """The name a page declares (og:site_name; here given in the fixture records) is stored and
    comes back beside the host in results, exports and the article view."""
    named = {r["id"]: r["site_name"] for r in run(backend, "")["results"]}
    assert named["chips-nanjing"] == "Example News" and named["ev-batteries"] is None
    rows = {r["id"]: r for r in backend.export_rows(SearchRequest(q=""))}
    assert rows["ai-models"]["site"] == "news.example.com"
    assert rows["ai-models"]["site_name"] == "Example News" and rows["vaccine"]["site_name"] is None
    assert backend.get_document("cafe-innovation")["site_name"] == "Example News"
    assert backend.get_document("vaccine")["site_name"] is None


@pytest.fixture(params=["whoosh", "postgres"])
def syndicated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """`syndicated_articles` on each backend."""
    if request.param == "postgres":
        pg = request.getfixturevalue("pg_server")
        index: Any = PostgresIndex(pg.url(pg.create_database()), migrate_schema=True)
    else:
        index = WhooshIndex(tmp_path)
    index.write((a, None, None, False) for a in syndicated_articles())
    yield index
    index.close()


def names(index: Any) -> dict[str, str | None]:
    """Site -> name shown, over the one story and its copies (whichever copy represents it)."""
    (story,) = run(index, "quantum")["results"]
    return {copy["site"]: copy["site_name"] for copy in [story, *story["also"]]}


def test_configured_site_names_win_over_the_names_pages_declare(syndicated: Any) -> None:
    assert names(syndicated) == {
        "wire.example.com": "Example Wire",
        "copy.example.net": None,  # "Copy.example.net · copy.example.net" would say nothing
        "daily.example.org": "The Daily",
    }
    configured = {"daily.example.org": "Daily Courier", "copy.example.net": "Copy Desk"}
    named = NamedSites(syndicated, configured)
    assert names(named) == {
        "wire.example.com": "Example Wire",  # not configured: the page's name
        "copy.example.net": "Copy Desk",  # the configuration names what the page did not
        "daily.example.org": "Daily Courier",  # the configured name wins
    }
    (row,) = named.export_rows(SearchRequest(q="quantum"))
    shown = {c["site"]: c["site_name"] for c in [row, *row["also"]]}
    assert shown == names(named)
    assert named.get_document("late")["site_name"] == "Daily Courier"
    assert named.get_document("nope") is None
    assert named.doc_count() == 3  # everything else is the backend's


# ---- the Whoosh index ---------------------------------------------------------------------------


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


def index_with_copies(path: Path, dup_indexed: bool) -> None:
    """Three articles, two of them copies of one story carrying the same `dup` value (the
    group's representative id), written as the duplicate detection will write them."""
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, STORED

    from indexer.whoosh.schema import make_schema
    from indexer.whoosh.write import to_document

    schema = make_schema()
    if "dup" not in schema.names():
        schema.add("dup", ID(stored=True) if dup_indexed else STORED())
    ix = whoosh_index.create_in(path, schema)
    text = "Hydrogen trucks roll out in Shenzhen as the city expands its fuel cell fleet."
    rows = [
        ("story", "https://wire.example.com/h2", "Hydrogen trucks roll out", "2022-05-01", ""),
        ("copy", "https://copy.example.net/h2", "Hydrogen trucks roll out!", "2022-05-02", "story"),
        ("other", "https://other.example.org/h2", "Hydrogen buses", "2021-01-09", ""),
    ]
    with ix.writer() as writer:
        for doc_id, url, title, published, dup in rows:
            body = text if doc_id != "other" else "Hydrogen buses for Berlin."
            doc = to_document(
                Article(url=url, id=doc_id, title=title, text=body, published=published)
            )
            writer.add_document(**doc, dup=dup)
    ix.close()


@pytest.mark.parametrize("dup_indexed", [True, False])
def test_copies_of_one_story_collapse_into_one_result_with_also(
    tmp_path: Path, dup_indexed: bool
) -> None:
    index_with_copies(tmp_path, dup_indexed)
    live = LiveIndex(tmp_path)
    try:
        result = run(live, "hydrogen")
        assert ids(result) == ["story", "other"] or ids(result) == ["other", "story"]
        assert result["total"] == 2  # stories, not copies
        story = next(r for r in result["results"] if r["id"] == "story")
        assert story["also"] == [
            {
                "site": "copy.example.net",
                "site_name": None,
                "url": "https://copy.example.net/h2",
                "id": "copy",
            }
        ]
        assert sum(result["facets"]["year"].values()) == 2
        assert result["facets"]["year"] == {"2022": 1, "2021": 1}
        # Filtering to the copy's own year still shows the story once.
        assert run(live, "", filters={"year": ["2022"]})["total"] == 1
        assert run(live, "", timeline=True)["timeline"]["undated"] == 0
    finally:
        live.close()


def test_index_without_dup_field_has_no_groups(index: LiveIndex) -> None:
    result = run(index, "", per_page=50)
    assert result["total"] == 7 and all(r["also"] == [] for r in result["results"])


def test_timeline_counts_matching_articles_per_period(index: LiveIndex) -> None:
    tl = run(index, "", timeline=True, interval="year")["timeline"]
    assert tl["interval"] == "year" and tl["undated"] == 1
    assert [c["period"] for c in tl["counts"]] == [str(y) for y in range(2019, 2025)]
    assert sum(c["count"] for c in tl["counts"]) == 6
    filtered = run(index, "", filters={"chain": ["nev"]}, timeline=True)["timeline"]
    assert filtered["interval"] == "month"  # one month: months are readable
    assert filtered["counts"] == [{"period": "2022-03", "count": 1}]
    auto = run(index, "", timeline=True)["timeline"]
    assert auto["interval"] == "year"  # 2019-2024 is too long for months
    assert "timeline" not in run(index, "")  # only when asked for


def test_did_you_mean_offers_the_index_words(index: LiveIndex) -> None:
    assert run(index, "semiconducter")["did_you_mean"] == "semiconductor"
    assert run(index, "vacine trial")["did_you_mean"] == "vaccine trial"
    suggestion = run(index, "bateries")["did_you_mean"]
    assert suggestion in ("batteries", "battery")
    assert run(index, "semiconductor")["did_you_mean"] is None


def test_export_rows_reach_every_hit_in_rank_order(index: LiveIndex) -> None:
    from indexer.whoosh.search import export_rows

    rows = list(export_rows(index, SearchRequest(q="")))
    assert len(rows) == 7
    page = run(index, "chip OR battery OR vaccine", per_page=2)
    everything = list(export_rows(index, SearchRequest(q="chip OR battery OR vaccine")))
    assert len(everything) == page["total"] > 2
    assert [r["id"] for r in everything[:2]] == ids(page)


def test_equal_scores_come_newest_first(index: LiveIndex) -> None:
    # A field scope scores every match alike; recency breaks the tie.
    result = run(index, "country:cn", per_page=50)
    dated = [r["published"] for r in result["results"] if r["published"]]
    assert len(dated) >= 2 and dated == sorted(dated, reverse=True)
