"""Citable result sets over HTTP: "Cite this search" on the results page, `/api/cite` and the
citation's own URL, which later says whether the search still gives the same stories; the
exports carry the same fingerprint in their headers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask.testing import FlaskClient

from crawler.article import Article
from indexer.whoosh import index_articles
from tests.conftest import fixture_articles
from web import create_app, get_index


def local(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_the_results_page_links_its_citation(client: FlaskClient) -> None:
    page = client.get("/?q=chip&chain=integrated-circuits&page=1").get_data(as_text=True)
    assert 'href="/cite?q=chip&amp;chain=integrated-circuits">cite this search</a>' in page
    cited = client.get("/cite?q=chip&chain=integrated-circuits").get_data(as_text=True)
    data = client.get("/api/cite?q=chip&chain=integrated-circuits").get_json()
    assert data["sha256"] in cited and "Cite this search" in cited
    assert data["text"].startswith('innosearch search (query "chip"; chain integrated-circuits)')


def test_the_fingerprint_is_the_exports_and_anyone_can_recompute_it(client: FlaskClient) -> None:
    data = client.get("/api/cite?q=chip OR battery&any=1").get_json()
    export = client.get("/api/export.jsonl?q=chip OR battery&any=1")
    ids = sorted(json.loads(line)["id"] for line in export.get_data(as_text=True).splitlines())
    recomputed = hashlib.sha256("".join(i + "\n" for i in ids).encode()).hexdigest()
    assert data["sha256"] == recomputed == export.headers["X-Innosearch-SHA256"]
    assert data["stories"] == len(ids) == int(export.headers["X-Innosearch-Stories"])
    assert int(export.headers["X-Innosearch-Generation"]) == data["index"]["generation"]
    csv = client.get("/api/export.csv?q=chip OR battery&any=1")
    assert csv.headers["X-Innosearch-SHA256"] == data["sha256"]
    assert "X-Innosearch-SHA256" in csv.headers["Access-Control-Expose-Headers"]
    assert not csv.get_data(as_text=True).lstrip("\ufeff").startswith("#")  # no comment line


def test_a_citation_opened_later_says_what_changed(tmp_path: Path) -> None:
    """A real index, cited, then changed by the one writer (as `innosearch index` would)."""
    articles = fixture_articles()
    index_dir = tmp_path / "index"
    index_articles(index_dir, articles)
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    client = app.test_client()
    try:
        data = client.get("/api/cite?q=*").get_json()
        assert data["recorded"] is True and data["index"]["backend"] == "whoosh"
        check = client.get(local(data["url"]).replace("/cite?", "/api/cite?")).get_json()["check"]
        assert check["same"] and (check["added"], check["removed"]) == (0, 0)
        assert "The same" in client.get(local(data["url"])).get_data(as_text=True)

        text = "A battery plant opened in Hefei with new cells, a long story. " * 4
        new = Article(url="https://new.example/1", id="new-1", title="Battery plant", text=text)
        index_articles(index_dir, [new])
        check = client.get(local(data["url"]).replace("/cite?", "/api/cite?")).get_json()["check"]
        assert not check["same"] and (check["added"], check["removed"]) == (1, 0)
        assert check["cited_at"] == data["cited_at"]
        assert (check["stories_then"], check["stories_now"]) == (
            data["stories"],
            data["stories"] + 1,
        )
        page = client.get(local(data["url"])).get_data(as_text=True)
        assert "The set has changed" in page and "1 story added and 0 removed" in page
    finally:
        get_index(app).close()


def test_bad_citation_parameters_answer_400(client: FlaskClient) -> None:
    for url, words in [
        ("/api/cite?sha256=abc", "64 hexadecimal digits"),
        ("/api/cite?sha256=" + "a" * 64 + "&stories=-3", "stories must be a whole number"),
        ("/api/cite?sha256=" + "a" * 64 + "&at=yesterday", "at must be a UTC time"),
        ("/api/cite?country_all=Chna", "unknown country"),
        ("/api/cite?sha265=" + "a" * 64, "did you mean 'sha256'"),
    ]:
        response = client.get(url)
        assert response.status_code == 400 and words in response.get_json()["error"], url
    assert client.get("/cite?sha256=nothex").status_code == 400
