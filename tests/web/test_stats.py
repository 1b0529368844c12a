"""The maintainers' page: a public summary for anyone, the per-site details for the token."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from crawler.store import CrawlStore
from web import create_app, get_index

TOKEN = "maintainers-only-0123456789"


def crawled(
    store: CrawlStore, site: str, new: int, when: str, error: str | None = None, **more: int
) -> None:
    """One run of `site` in the store's history, as a recrawl leaves it."""
    host = site.lower().replace(" ", "") + ".example"
    run = store.start_run([f"https://{host}/"], when, site)
    summary = {**more, "articles_new": new, "pages_fetched": 10, "errors": 3 if error else 0}
    store.finish_run(run, when, summary, error)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    with CrawlStore(tmp_path) as store:
        crawled(store, "Herald", 4, "2026-01-01T06:00:00Z")
        crawled(store, "<script>alert(1)</script>", 2, "2026-01-01T06:00:00Z")
        crawled(
            store,
            "Herald",
            0,
            "2026-01-02T06:00:00Z",
            revalidated=12,
            revalidated_unchanged=11,
            revalidated_gone=1,
            articles_gone=3,
        )
        crawled(store, "<script>alert(1)</script>", 0, "2026-01-02T06:00:00Z", "HTTP 503")
    return tmp_path


def client_for(built_index: Path, data_dir: Path, token: str = TOKEN) -> Iterator[FlaskClient]:
    app = create_app(
        {"INDEX_DIR": str(built_index), "DATA_DIR": str(data_dir), "STATS_TOKEN": token}
    )
    yield app.test_client()
    get_index(app).close()


@pytest.fixture
def stats_client(built_index: Path, data_dir: Path) -> Iterator[FlaskClient]:
    yield from client_for(built_index, data_dir)


def test_anyone_gets_the_summary_and_no_details(stats_client: FlaskClient, data_dir) -> None:
    response = stats_client.get("/api/stats")
    body = response.get_json()
    assert response.status_code == 200 and set(body) == {"summary"}
    summary = body["summary"]
    assert summary["documents"] == 7 and summary["sites"] == 2 and summary["sites_failing"] == 1
    assert summary["last_run"] == "2026-01-02T06:00:00Z" and summary["index_age_hours"] < 1
    assert str(data_dir) not in response.get_data(as_text=True)
    page = stats_client.get("/stats").get_data(as_text=True)
    assert "2, 1 failing" in page and "Herald" not in page and 'name="token"' in page


def test_the_token_unlocks_the_sites(stats_client: FlaskClient) -> None:
    for response in (
        stats_client.get("/api/stats", headers={"Authorization": f"Bearer {TOKEN}"}),
        stats_client.get(f"/api/stats?token={TOKEN}"),
    ):
        body = response.get_json()
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        sites = {row["site"]: row for row in body["sites"]}
        herald = sites["Herald"]
        assert herald["new_per_run"] == [4, 0] and herald["failed_runs"] == 0
        assert herald["days_since_new_article"] > 0 and herald["last_success"]
        assert (herald["revalidated"], herald["revalidated_unchanged"]) == (12, 11)
        assert (herald["revalidated_gone"], herald["articles_gone"]) == (1, 3)
        assert sites["<script>alert(1)</script>"]["revalidated"] is None  # not recorded
        assert sites["<script>alert(1)</script>"]["last_error"] == "HTTP 503"
        assert body["index"]["documents"] == 7 and body["summary"]["sites_failing"] == 1


def test_the_page_lists_the_sites_escaped(stats_client: FlaskClient) -> None:
    page = stats_client.get(f"/stats?token={TOKEN}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Herald" in html and "HTTP 503" in html
    assert "<th>unchanged</th><th>gone</th>" in html
    assert "<td>12</td>\n        <td>11</td>\n        <td>3</td>" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_wrong_token_is_refused(stats_client: FlaskClient) -> None:
    response = stats_client.get("/api/stats", headers={"Authorization": "Bearer guess"})
    assert response.status_code == 401 and "token" in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    page = stats_client.get("/stats?token=guess")
    assert page.status_code == 401 and "Herald" not in page.get_data(as_text=True)


def test_without_a_configured_token_there_are_no_details(built_index: Path, data_dir) -> None:
    for client in client_for(built_index, data_dir, token=""):
        assert client.get("/api/stats?token=").status_code == 200
        assert client.get("/api/stats?token=anything").status_code == 401


def test_without_an_index_the_summary_still_answers(tmp_path: Path, data_dir) -> None:
    for client in client_for(tmp_path / "none", data_dir):
        body = client.get("/api/stats").get_json()
        assert body["summary"]["documents"] == 0 and body["summary"]["sites"] == 2


def test_an_old_store_is_read_not_upgraded(built_index: Path, tmp_path: Path) -> None:
    """The web app never writes: a store of an older schema is left for a command to upgrade,
    and the page says so instead of failing."""
    db = sqlite3.connect(tmp_path / "crawl.sqlite")
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, seeds TEXT, started_at TEXT)")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    before = (tmp_path / "crawl.sqlite").read_bytes()
    for client in client_for(built_index, tmp_path):
        body = client.get(f"/api/stats?token={TOKEN}").get_json()
        assert body["sites"] == [] and "innosearch migrate" in body["store"]["note"]
        assert client.get("/api/stats").get_json()["summary"]["documents"] == 7
    assert (tmp_path / "crawl.sqlite").read_bytes() == before


def test_the_summary_says_why_documents_and_search_totals_differ(
    tmp_path: Path, data_dir: Path
) -> None:
    from crawler.article import Article
    from indexer.whoosh import index_articles

    story = "The city council approved a new semiconductor plant near the river port. " * 8
    index_articles(
        tmp_path / "ix",
        [
            Article(url="https://a.example/plant", title="Plant approved", text=story),
            Article(url="https://b.example/copy", title="Plant approved (wire)", text=story),
            Article(url="https://c.example/other", title="Rail", text="A new tram line. " * 20),
        ],
    )
    for client in client_for(tmp_path / "ix", data_dir):
        summary = client.get("/api/stats").get_json()["summary"]
        total = client.get("/api/search?q=").get_json()["total"]
        assert summary["documents"] == 3 and summary["stories"] == total == 2
        page = client.get("/stats").get_data(as_text=True)
        assert "copies of one story on several sites count once" in page
