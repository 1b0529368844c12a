"""The JSON API answers the INTERFACE.md object, and 400 (never 500) for bad requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from web import create_app, get_index


def test_search_answers_the_interface_object(client: FlaskClient) -> None:
    response = client.get("/api/search?q=innovation")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"query", "total", "page", "per_page", "results", "facets"}
    assert body["did_you_mean"] is None  # "innovation" is spelt right and found
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


def test_results_and_exports_carry_the_site_name(built_index: Path) -> None:
    """`site_name`: the configured name (SITE_NAMES) over the page's, null when neither."""
    app = create_app({"INDEX_DIR": str(built_index), "SITE_NAMES": {"evil.example.com": "Evil"}})
    client = app.test_client()
    try:
        hits = client.get("/api/search?q=semiconductor").get_json()["results"]
        assert {h["site"]: h["site_name"] for h in hits} == {
            "news.example.com": "Example News",  # its pages' og:site_name
            "evil.example.com": "Evil",  # configured
        }
        hits = client.get("/api/search?q=vaccine").get_json()["results"]
        assert [(h["site"], h["site_name"]) for h in hits] == [("health.example.net", None)]
        rows = client.get("/api/export.csv?q=semiconductor").get_data(as_text=True).splitlines()
        assert rows[0].endswith('"also_urls","site_name"')
        assert sorted(row.rsplit(",", 1)[1] for row in rows[1:]) == ['"Evil"', '"Example News"']
    finally:
        get_index(app).close()


def test_each_chain_and_country_of_a_result_comes_with_its_evidence(client: FlaskClient) -> None:
    results = client.get("/api/search?q=semiconductor").get_json()["results"]
    chips = next(r for r in results if r["id"] == "chips-nanjing")
    assert "integrated-circuits" in chips["chains"] and "CN" in chips["countries"]
    assert "semiconductor" in chips["evidence"]["integrated-circuits"]
    assert "China" in chips["evidence"]["CN"]
    for r in results:
        assert set(r["evidence"]) == set(r["chains"]) | set(r["countries"])
        assert all(r["evidence"].values())  # never an empty list of terms


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


def test_export_csv_has_every_hit_and_opens_in_a_spreadsheet(client: FlaskClient) -> None:
    import csv
    import io

    response = client.get("/api/export.csv?q=&per_page=2")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 7  # every article, not a page of two
    assert set(rows[0]) >= {"id", "url", "title", "published", "year", "chains", "countries"}
    chips = next(r for r in rows if r["id"] == "chips-nanjing")
    assert chips["year"] == "2021" and "integrated-circuits" in chips["chains"].split(";")


def test_export_jsonl_streams_the_filtered_hits(client: FlaskClient) -> None:
    import json

    response = client.get("/api/export.jsonl?chain=nev&chain=integrated-circuits")
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    total = client.get("/api/search?chain=nev&chain=integrated-circuits").get_json()["total"]
    assert len(lines) == total >= 2
    assert {"id", "url", "title", "chains", "also"} <= set(lines[0])
    assert client.get("/api/export.jsonl?q=(").status_code == 400


def test_timeline_json_and_csv(client: FlaskClient) -> None:
    body = client.get("/api/timeline?interval=year").get_json()
    assert body["total"] == 7 and body["undated"] == 1
    assert {"period": "2021", "count": 1} in body["counts"]
    csv_text = client.get("/api/timeline.csv?interval=year").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "period,count"
    assert "2021,1" in csv_text and "undated,1" in csv_text
    assert client.get("/api/timeline?interval=week").status_code == 400


def test_search_can_carry_the_timeline_and_offers_did_you_mean(client: FlaskClient) -> None:
    body = client.get("/api/search?q=semiconducter&timeline=1").get_json()
    assert body["total"] == 0 and body["did_you_mean"] == "semiconductor"
    assert body["timeline"]["counts"] == []


def test_open_ended_date_ranges(client: FlaskClient) -> None:
    assert client.get("/api/search?to=2019").get_json()["total"] == 1
    assert client.get("/api/search?from=2024-01-01").get_json()["total"] == 1
    assert client.get("/api/search?q=date:[2024 TO 9999]").get_json()["total"] == 1


def test_odd_bytes_are_searched_or_refused_never_a_500(client: FlaskClient) -> None:
    for query in ("q=%ff%fe", "q=%ed%a0%80", "q=%c0%af", "q=%e2%80%ae", "chain=%ff", "q=%7f"):
        assert client.get("/api/search?" + query).status_code in (200, 400)


def test_openapi_document_is_valid_and_lists_every_endpoint(client: FlaskClient) -> None:
    import json
    import shutil
    import subprocess

    spec = client.get("/api/openapi.json").get_json()
    endpoints = {"/api/search", "/api/timeline", "/api/timeline.csv", "/api/export.csv"}
    endpoints |= {"/api/cooccurrence", "/api/cooccurrence.csv", "/feed.atom", "/api/cite"}
    assert endpoints | {"/api/export.jsonl", "/healthz"} <= set(spec["paths"])
    names = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert names >= {"q", "year", "chain", "country", "from", "to", "sort", "page", "per_page"}
    try:
        from openapi_spec_validator import validate
    except ImportError:  # installed system-wide, not in the venv: validate with that Python
        python = shutil.which("python3")
        check = (
            "import json, sys; from openapi_spec_validator import validate; "
            "validate(json.load(sys.stdin))"
        )
        if not python or subprocess.run([python, "-c", "import openapi_spec_validator"]).returncode:
            pytest.skip("openapi-spec-validator is not installed")
        done = subprocess.run([python, "-c", check], input=json.dumps(spec), text=True)
        assert done.returncode == 0
    else:
        validate(spec)


@pytest.mark.parametrize(
    ("query", "fix"),
    [
        ('q="chip factory', '"chip factory"'),
        ("q=chips AND", "chips"),
        ("q=OR", None),
        ("q=chips%00fabs", "chips fabs"),
        ("q=" + "(" * 300, "(" * 300 + ")" * 300),
        ("q=chips AND OR fabs", "chips AND fabs"),
    ],
)
def test_hostile_queries_answer_400_with_help(client: FlaskClient, query: str, fix: str) -> None:
    response = client.get("/api/search?" + query)
    assert response.status_code == 400
    body = response.get_json()
    assert len(body["error"]) > 15
    assert body.get("fix") == fix


def test_titles_and_snippets_are_escaped_in_the_api(client: FlaskClient) -> None:
    hit = client.get("/api/search?q=markup").get_json()["results"][0]
    assert "<img" not in hit["snippet"] and "<script" not in hit["snippet"]


@pytest.mark.parametrize(
    ("query", "fix"),
    [
        ("country=China", "CN"),
        ("country=south%20korea", "KR"),
        ("country=ZZ", None),
        ("chain=chips", "integrated-circuits"),
        ("chain=Integrated%20circuits", "integrated-circuits"),
        ("chain=blockchain-art", None),
    ],
)
def test_unknown_facet_values_answer_400_with_the_value_meant(
    client: FlaskClient, query: str, fix: str | None
) -> None:
    response = client.get("/api/search?" + query)
    body = response.get_json()
    assert response.status_code == 400, body
    assert body.get("fix") == fix
    if fix:
        assert body["parameter"] == query.split("=")[0]
        assert fix in body["error"]
        assert client.get(f"/api/search?{body['parameter']}={fix}").status_code == 200


def test_unknown_parameters_answer_400_naming_the_one_meant(client: FlaskClient) -> None:
    response = client.get("/api/search?q=chip&contry=CN")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "'contry'" in error and "did you mean 'country'" in error
    assert client.get("/api/export.csv?foo=bar").status_code == 400
    assert (
        client.get("/api/search?country=cn&country=CN").status_code == 200
    )  # codes in either case


def test_facets_endpoint_lists_every_chain_and_country_by_name(client: FlaskClient) -> None:
    body = client.get("/api/facets").get_json()
    chains = {c["id"]: c["name"] for c in body["chain"]}
    countries = {c["id"]: c["name"] for c in body["country"]}
    assert chains["integrated-circuits"] == "Integrated circuits" and len(chains) == 12
    assert countries["CN"] == "China" and countries["KR"] == "South Korea"
    assert countries["RU"] == "Russia" and countries["SU"] == "Soviet Union"
    for code in ("CN", "SU"):  # every listed code is a value the search accepts
        assert client.get(f"/api/search?country={code}").status_code == 200


def test_the_api_may_be_called_from_other_origins_without_credentials(
    client: FlaskClient,
) -> None:
    for url in ("/api/search?q=chip", "/api/search?country=China", "/api/export.csv?q=chip"):
        response = client.get(url, headers={"Origin": "https://notebook.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Access-Control-Allow-Origin" not in client.get("/").headers  # the page is not an API


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("US", {"us-sanctions"}),
        ("IT services", {"it-services"}),
        ("the who", {"the-who"}),
        ("being", {"the-who"}),
        ("this", {"the-who"}),
        ("C++", {"cpp"}),
        ("3D printing", {"printing-joined", "printing-apart"}),
    ],
)
def test_words_researchers_type_answer_200_with_the_articles(
    typed_index: str, q: str, expected: set[str]
) -> None:
    """Acronyms, common words, C++ and 3-D were answered 400 "too common" (issue 16)."""
    from web import get_index

    app = create_app({"INDEX_DIR": typed_index, "TESTING": True})
    try:
        response = app.test_client().get("/api/search", query_string={"q": q})
        assert response.status_code == 200
        assert {r["id"] for r in response.get_json()["results"]} == expected
    finally:
        get_index(app).close()
