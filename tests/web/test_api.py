"""The JSON API answers the INTERFACE.md object, and 400 (never 500) for bad requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from web import create_app


def test_search_answers_the_interface_object(client: FlaskClient) -> None:
    response = client.get("/api/search?q=innovation")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"query", "total", "page", "per_page", "results", "facets"}
    assert body["query"] == "innovation" and body["total"] >= 1
    assert set(body["facets"]) == {"year", "chain", "country"}
    hit = body["results"][0]
    assert set(hit) >= {
        "id",
        "url",
        "title",
        "published",
        "year",
        "chains",
        "countries",
        "site",
        "score",
        "snippet",
    }
    assert hit["id"] == "cafe-innovation" and hit["year"] == 2019


def test_repeated_facet_parameters_are_ored(client: FlaskClient) -> None:
    one = client.get("/api/search?chain=nev").get_json()
    two = client.get("/api/search?chain=nev&chain=integrated-circuits").get_json()
    assert two["total"] > one["total"] >= 1


def test_dates_sort_and_paging_parameters(client: FlaskClient) -> None:
    body = client.get("/api/search?from=2021-01-01&to=2022&sort=date&per_page=1").get_json()
    assert body["total"] == 2 and body["per_page"] == 1
    assert body["results"][0]["id"] == "ev-batteries"


@pytest.mark.parametrize(
    "query",
    [
        'q="open',
        "q=(",
        "q=AND",
        "page=x",
        "page=0",
        "per_page=5000",
        "sort=best",
        "from=yesterday",
        "year=21",
        "q=%00",
        "from=2022-01-01&to=2021-01-01",
        "q=" + "w " * 800,
    ],
)
def test_bad_requests_answer_400_with_a_message(client: FlaskClient, query: str) -> None:
    response = client.get("/api/search?" + query)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]


def test_unknown_api_path_answers_json_404(client: FlaskClient) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404 and "error" in response.get_json()


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["documents"] == 7


def test_missing_index_answers_503_not_500(tmp_path: Path) -> None:
    client = create_app({"INDEX_DIR": str(tmp_path / "none")}).test_client()
    assert client.get("/healthz").status_code == 503
    response = client.get("/api/search?q=chips")
    assert response.status_code == 503 and "no index" in response.get_json()["error"]


def test_titles_come_back_as_data_not_markup(client: FlaskClient) -> None:
    hit = client.get("/api/search?q=markup").get_json()["results"][0]
    assert hit["title"].startswith("<script>")  # JSON carries the text as crawled...
    response = client.get("/api/search?q=markup")
    assert response.mimetype == "application/json"  # ...and is never served as HTML
    assert response.headers["X-Content-Type-Options"] == "nosniff"
