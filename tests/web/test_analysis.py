"""The analysis views over HTTP: /trends and /compare (pages), their JSON and CSV, strict
parameters, and the crawl's gaps drawn on every time chart and listed in the JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.indexer.test_coverage import daily, history
from web import create_app, get_index


@pytest.fixture
def covered(built_index: Path, tmp_path: Path) -> Iterator[FlaskClient]:
    """The fixture index with a crawl store whose site failed for ten days in October 2021
    and has not been crawled since the end of 2023."""
    runs = daily(datetime(2021, 9, 1, tzinfo=UTC), 40)
    runs += daily(datetime(2021, 10, 11, tzinfo=UTC), 10, ok=False)
    runs += daily(datetime(2021, 10, 21, tzinfo=UTC), 800)
    history(tmp_path, "herald", runs)
    app = create_app({"INDEX_DIR": str(built_index), "TESTING": True, "DATA_DIR": str(tmp_path)})
    yield app.test_client()
    get_index(app).close()


def test_trends_json_counts_by_chain_with_the_denominator(client: FlaskClient) -> None:
    body = client.get("/api/trends?q=chip+OR+battery+OR+vaccine&by=chain&top=2").get_json()
    found = client.get("/api/search?q=chip+OR+battery+OR+vaccine").get_json()["total"]
    assert body["by"] == "chain" and body["total"] == found == 5 and body["interval"] == "month"
    assert [s["value"] for s in body["series"]][-2:] == ["other", "none"]
    assert body["periods"][0] == {
        "period": "2020-12",
        "all_stories": 1,
        "matching": 1,
        "share": 1.0,
    }
    assert body["coverage"]["crawl_store"] is False and body["coverage"]["gaps"] == []
    assert "no crawl store" in body["coverage"]["note"]


def test_trends_csv_is_tidy_rows_a_spreadsheet_reads(client: FlaskClient) -> None:
    response = client.get("/api/trends.csv?q=chip&by=country")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert set(rows[0]) == {"period", "series", "name", "count", "all_stories", "share"}
    china = {r["period"]: r["count"] for r in rows if r["series"] == "CN" and r["count"] != "0"}
    assert china == {"2021-10": "1"}
    matching = [r for r in rows if r["series"] == "matching" and r["period"] != "undated"]
    assert sum(int(r["count"]) for r in matching) == 2
    assert next(r for r in rows if r["period"] == "2022-01")["share"] == ""  # no story at all


def test_compare_json_and_csv(client: FlaskClient) -> None:
    body = client.get("/api/compare?q=chip&q=battery&q=vaccine").get_json()
    assert body["queries"] == ["chip", "battery", "vaccine"]
    for s in body["series"]:
        assert s["total"] == client.get(f"/api/search?q={s['query']}").get_json()["total"]
    text = client.get("/api/compare.csv?q=chip&q=vaccine").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["period", "query", "count", "all_stories", "share"]
    assert ["2020-12", "vaccine", "1", "1", "1.0"] in rows


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "give one to 5 queries"),
        ("?q=a&q=b&q=c&q=d&q=e&q=f", "at most 5 queries"),
        ("?q=chip&q=", "each q needs a query"),
        ("?q=chip&q=%20", "each q needs a query"),
        ("?q=chip&q=(", "("),
        ("?q=chip&scale=log", "scale must be one of share, count"),
        ("?q=chip&contry=CN", "unknown parameter"),
    ],
)
def test_compare_refuses_what_it_cannot_draw_with_a_clear_400(
    client: FlaskClient, query: str, message: str
) -> None:
    for path in ("/api/compare", "/api/compare.csv", "/compare"):
        response = client.get(path + query)
        assert response.status_code == 400
        text = (
            response.get_json()["error"]
            if path.startswith("/api/")
            else response.get_data(as_text=True)
        )
        assert message in text, (path, text[:300])


@pytest.mark.parametrize(
    "query", ["by=year", "by=", "top=0", "top=13", "top=x", "scale=log", "q=%22open", "byy=chain"]
)
def test_trends_refuses_bad_parameters(client: FlaskClient, query: str) -> None:
    for path in ("/api/trends", "/api/trends.csv", "/trends"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)


def test_a_search_page_url_works_as_it_is_in_every_view(client: FlaskClient) -> None:
    selection = "q=chip&chain=integrated-circuits&from=2020&to=2024&sort=date&page=1&any=0"
    for path in ("/trends", "/api/trends", "/api/trends.csv", "/compare", "/api/compare"):
        assert client.get(f"{path}?{selection}").status_code == 200, path
    page = client.get("/?" + selection).get_data(as_text=True)
    assert "/trends?q=chip&amp;chain=integrated-circuits" in page and "/compare?q=chip" in page


def test_trends_page_draws_small_multiples_with_values_for_screen_readers(
    client: FlaskClient,
) -> None:
    response = client.get("/trends?q=chip+OR+battery+OR+vaccine&by=chain&top=2")
    assert response.status_code == 200
    assert response.headers["Link"].startswith("</api/trends?q=chip")
    page = response.get_data(as_text=True)
    assert page.count('<figure class="panel"') == 6  # all, matching, 2 chains, other, none
    assert "All indexed stories (the denominator)" in page
    assert "<title>Oct 2021: 1 story, 100% of all stories</title>" in page
    # Each bar of a chain links to its stories: the search narrowed to the month and chain.
    assert (
        "/?q=chip+OR+battery+OR+vaccine&amp;chain=integrated-circuits&amp;from=2021-10-01&amp;to=2021-10-31"
        in page
    )
    assert "no crawl store" in page


def test_compare_page_draws_one_line_per_query_with_a_legend(client: FlaskClient) -> None:
    page = client.get("/compare?q=chip&q=battery&scale=count").get_data(as_text=True)
    assert page.count("<polyline") == 2 and page.count('class="legend"') == 1
    assert "<title>battery, Mar 2022: 1 story, 100% of all stories</title>" in page
    assert page.count("<label>query ") == 5  # the two queries, and room for three more


def test_gaps_are_listed_in_the_json_and_shaded_on_every_chart(covered: FlaskClient) -> None:
    body = covered.get("/api/trends?q=chip+OR+battery").get_json()
    gaps = body["coverage"]["gaps"]
    assert [(g["site"], g["kind"], g["start"][:10], g["end"][:10]) for g in gaps] == [
        ("herald", "failed", "2021-10-10", "2021-10-21"),
        ("herald", "not crawled", "2023-12-29", datetime.now(UTC).strftime("%Y-%m-%d")),
    ]
    assert body["coverage"]["sites"][0]["failed_runs"] == 10
    timeline = covered.get("/api/timeline?q=chip+OR+battery").get_json()
    assert timeline["coverage"]["gaps"] == gaps
    for path in ("/trends?q=chip+OR+battery", "/compare?q=chip&q=battery", "/?q=chip+OR+battery"):
        page = covered.get(path).get_data(as_text=True)
        assert 'class="gap gap-failed"' in page and 'class="gap gap-not-crawled"' in page, path
        assert "herald: 10 failed runs from 2021-10-10 to 2021-10-21" in page
    # A gap outside the charted periods is not listed: vaccine (Dec 2020) alone.
    assert covered.get("/api/trends?q=vaccine").get_json()["coverage"]["gaps"] == []


def test_configured_sites_that_never_ran_are_named(built_index: Path, tmp_path: Path) -> None:
    history(tmp_path, "herald", daily(datetime(2021, 1, 1, tzinfo=UTC) - timedelta(days=1), 2))
    app: Flask = create_app({"INDEX_DIR": str(built_index), "DATA_DIR": str(tmp_path),
                             "SITES": [("weekly", ["weekly.example"])]})  # fmt: skip
    try:
        sites = app.test_client().get("/api/trends").get_json()["coverage"]["sites"]
        assert [(s["site"], s["runs"]) for s in sites] == [("herald", 2), ("weekly", 0)]
    finally:
        get_index(app).close()


def test_openapi_describes_every_analysis_endpoint(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/trends", "/api/trends.csv", "/api/compare", "/api/compare.csv"):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"q", "chain", "country", "from", "to", "interval", "scale"} <= names, path
    assert {"by", "top"} <= {p["name"] for p in paths["/api/trends"]["get"]["parameters"]}
