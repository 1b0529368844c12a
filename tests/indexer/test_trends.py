"""Trends and comparisons count exactly what the search counts, on both backends: each bar of
a trend is checked against a search with that facet value and that period's dates, and each
denominator against a search of the whole index over the period."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from crawler.article import Article
from indexer.backend import WhooshIndex
from indexer.request import SearchRequest
from indexer.trends import NONE, OTHER, compare, trends
from indexer.whoosh import index_articles
from indexer.whoosh.write import write_items
from tests.conftest import fixture_articles, whoosh_and_postgres
from web.charts import period_bounds

NEWS_ARTICLES = 900  # a slice of NewsArticles (Dec 2016 - Mar 2017): months, many countries


def total(index: Any, q: str = "", filters: dict[str, list[str]] | None = None,
          period: str | None = None) -> int:  # fmt: skip
    """Stories the search itself finds for a query, facet values (ORed) and a period."""
    start = end = None
    if period:
        first, after = period_bounds(period)
        start, end = first.date(), date.fromordinal(after.toordinal() - 1)
    req = SearchRequest(q=q, filters=filters or {}, date_from=start, date_to=end, per_page=1)
    return int(index.search(req)["total"])


def check_against_search(index: Any, q: str, by: str, top: int) -> dict[str, Any]:
    """Every figure of the trend, from searches; returns the trend."""
    data = trends(index, SearchRequest(q=q), by, top)
    assert data["total"] == total(index, q)
    for p in data["periods"]:
        assert p["all_stories"] == total(index, period=p["period"])
        assert p["matching"] == total(index, q, period=p["period"])
        if p["all_stories"]:
            assert p["share"] == pytest.approx(p["matching"] / p["all_stories"], abs=1e-6)
    values = [s["value"] for s in data["series"] if s["value"] not in (OTHER, NONE)]
    other = next(s for s in data["series"] if s["value"] == OTHER)
    assert not set(values) & set(other["values"])
    for s in data["series"]:
        if s["value"] == OTHER:
            filters = {by: other["values"]} if other["values"] else None
        elif s["value"] == NONE:
            filters = None
        else:
            filters = {by: [s["value"]]}
        for c in s["counts"]:
            if s["value"] == NONE:  # the matching stories without any value of the facet
                everything = values + other["values"]
                expected = total(index, q, period=c["period"]) - (
                    total(index, q, {by: everything}, c["period"]) if everything else 0
                )
            elif filters is None:
                expected = 0
            else:
                expected = total(index, q, filters, c["period"])
            assert c["count"] == expected, (s["value"], c["period"])
    totals = [s["total"] for s in data["series"] if s["value"] not in (OTHER, NONE)]
    assert totals == sorted(totals, reverse=True) and len(totals) <= top
    return data


def test_trends_count_what_the_search_counts(backend: Any) -> None:
    data = check_against_search(backend, "", "chain", top=2)
    assert data["interval"] == "year"  # 2019 to 2024: over four years
    assert [p["period"] for p in data["periods"]] == [str(y) for y in range(2019, 2025)]
    ic = next(s for s in data["series"] if s["value"] == "integrated-circuits")
    assert ic["name"] == "Integrated circuits" and ic["total"] == 2
    assert {c["period"]: c["count"] for c in ic["counts"] if c["count"]} == {"2021": 1, "2024": 1}
    assert data["undated"] == {"matching": 1, "all_stories": 1}  # the solar article
    check_against_search(backend, "chip OR battery OR vaccine", "country", top=3)


def test_a_query_narrows_the_counts_but_not_the_denominator(backend: Any) -> None:
    data = trends(backend, SearchRequest(q="semiconductor"), "chain")
    assert data["total"] == 2 and data["interval"] == "month"  # 2021-10 to 2024-02
    shares = {p["period"]: (p["all_stories"], p["share"]) for p in data["periods"]}
    assert len(shares) == 29 and shares["2021-10"] == shares["2024-02"] == (1, 1.0)
    assert shares["2022-03"] == shares["2023-05"] == (1, 0.0)  # a story, not this query's
    assert shares["2022-01"] == (0, None)  # no story at all: no share to give


def test_compare_puts_queries_on_one_timeline(backend: Any) -> None:
    data = compare(backend, [SearchRequest(q="chip"), SearchRequest(q="battery")])
    assert data["queries"] == ["chip", "battery"] and data["interval"] == "month"
    periods = [p["period"] for p in data["periods"]]
    assert periods[0] == "2021-10" and periods[-1] == "2024-02"  # both queries' months
    for s in data["series"]:
        assert s["total"] == total(backend, s["query"])
        assert [c["period"] for c in s["counts"]] == periods
        for c in s["counts"]:
            if c["count"]:
                assert c["count"] == total(backend, s["query"], period=c["period"])
    battery = {c["period"]: c["share"] for c in data["series"][1]["counts"] if c["count"]}
    assert battery == {"2022-03": 1.0}
    empty = next(c for c in data["series"][1]["counts"] if c["period"] == "2021-11")
    assert empty == {"period": "2021-11", "count": 0, "share": None}  # no story that month


def news(shared: Path, count: int) -> list[Article]:
    """The first `count` usable rows of NewsArticles, with their publication dates."""
    path = shared / "data" / "news" / "NewsArticles.csv.gz"
    out = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("title") and row.get("text") and row.get("publish_date"):
                day = datetime.strptime(row["publish_date"].split()[0], "%Y/%m/%d").date()
                out.append(
                    Article(
                        url=row.get("article_source_link")
                        or f"https://na.example/{row['article_id']}",
                        id=f"na-{row['article_id']}",
                        title=row["title"].strip(),
                        text=row["text"].strip(),
                        published=day.isoformat(),
                    )
                )
            if len(out) == count:
                break
    return out


@pytest.fixture(scope="module")
def news_indexes(
    shared: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Any]]:
    """The same slice of real news in a Whoosh index and in a PostgreSQL one."""
    articles = news(shared, NEWS_ARTICLES)
    folder = tmp_path_factory.mktemp("news-trends")
    server = request.getfixturevalue("pg_server")
    with whoosh_and_postgres(articles, folder, server, "trends") as pair:
        yield pair


@pytest.mark.parametrize(
    ("q", "by"), [("", "chain"), ("trump OR china", "country"), ("oil OR energy", "chain")]
)
def test_both_backends_give_the_same_trends_on_real_news(
    news_indexes: tuple[Any, Any], q: str, by: str
) -> None:
    whoosh, pg = news_indexes
    data = check_against_search(whoosh, q, by, top=5)
    assert data["interval"] == "month" and len(data["periods"]) >= 3
    assert sum(s["total"] for s in data["series"] if s["value"] != NONE) > 0
    assert trends(pg, SearchRequest(q=q), by, 5) == data


def test_both_backends_compare_alike_on_real_news(news_indexes: tuple[Any, Any]) -> None:
    whoosh, pg = news_indexes
    requests = [SearchRequest(q=q) for q in ("trump", "china", "refugees", "oil")]
    data = compare(whoosh, requests)
    assert all(s["total"] == total(whoosh, s["query"]) for s in data["series"])
    assert compare(pg, requests) == data


@pytest.mark.parametrize("engine", ["whoosh", "postgres"])
def test_the_denominator_follows_each_write(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """All stories of a period are computed once per index generation, and again after a
    write: a story added later counts in the next trend."""
    from indexer.postgres.index import PostgresIndex

    articles = fixture_articles()
    if engine == "postgres":
        server = request.getfixturevalue("pg_server")
        url = server.url(server.create_database("denominator"))
        index: Any = PostgresIndex(url, migrate_schema=True)
        write = index.write
    else:
        index_articles(tmp_path, [])
        index = WhooshIndex(tmp_path)
        write = partial(write_items, tmp_path, progress=None)
    try:
        write((a, None, None, False) for a in articles[:1])
        before = trends(index, SearchRequest(), "chain")["periods"]
        assert before == [{"period": "2021-10", "all_stories": 1, "matching": 1, "share": 1.0}]
        late = Article(
            url="https://news.example.com/late",
            id="late",
            title="Wafer fab",
            text="A second chip plant opens in Nanjing.",
            published="2021-10-30",
        )
        write([(late, None, None, False)])
        after = trends(index, SearchRequest(q="nanjing"), "chain")["periods"]
        assert after == [{"period": "2021-10", "all_stories": 2, "matching": 2, "share": 1.0}]
    finally:
        index.close()
