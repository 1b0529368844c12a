"""The whole pipeline: the bundled sample site served on loopback, crawled with the real crawler,
indexed, and searched through the Flask app and the command line; once with the embedded Whoosh
index and once with the shared PostgreSQL index, the same tests for both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from innosearch.sample_site import serve
from tests.conftest import CLI
from web import create_app, get_index


def new_index(postgres: bool, request: pytest.FixtureRequest, folder: Path) -> str:
    """A new, empty index of one backend: a PostgreSQL database or a directory."""
    if postgres:
        server = request.getfixturevalue("pg_server")
        return str(server.url(server.create_database("e2e")))
    return str(folder / "index")


@pytest.fixture(scope="module", params=["whoosh", "postgres"])
def crawled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, Path, str]]:
    """Crawls the sample site once per backend: (site, data dir, index target)."""
    from innosearch.cli import main

    root = tmp_path_factory.mktemp("e2e")
    data, index = root / "data", new_index(request.param == "postgres", request, root)
    env = {"INNOSEARCH_CRAWL_ALLOW_LOCAL": "1", "INNOSEARCH_CRAWL_DELAY": "0"}
    with pytest.MonkeyPatch.context() as mp, serve() as site:
        for name, value in env.items():
            mp.setenv(name, value)
        assert main(["crawl", site.url(), "--data", str(data)]) == 0
        assert main(["index", "--data", str(data), "--index", index]) == 0
        yield site, data, index


@pytest.fixture
def client(crawled: tuple[object, Path, Path]) -> Iterator[FlaskClient]:
    app = create_app({"INDEX_DIR": str(crawled[2])})
    yield app.test_client()
    get_index(app).close()


def test_crawl_obeys_robots_and_reaches_every_article(crawled, client: FlaskClient) -> None:
    site, _data, _index = crawled
    paths = [entry.path for entry in site.requests]
    assert paths[0] == "/robots.txt"
    assert not [p for p in paths if p.startswith("/admin")]
    body = client.get("/api/search?per_page=100").get_json()
    # One result per story: the site's one syndicated copy shows under its original.
    assert body["total"] == len(site.articles) - 1
    urls = {r["url"] for r in body["results"]} | {
        also["url"] for r in body["results"] for also in r["also"]
    }
    assert urls == {site.article_url(a) for a in site.articles}
    # The site's og:site_name travels from its pages to every result and copy, on both backends.
    names = {r["site_name"] for r in body["results"]} | {
        also["site_name"] for r in body["results"] for also in r["also"]
    }
    assert names == {"The Innovation Herald"}


def test_semiconductor_search_with_facets_that_filter(client: FlaskClient, crawled) -> None:
    site = crawled[0]
    body = client.get("/api/search?q=semiconductor").get_json()
    expected = [a for a in site.articles if "semiconductor" in json.dumps(a).lower()]
    assert body["total"] >= len(expected) * 0.8 and body["total"] >= 3
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    facets = body["facets"]
    assert facets["year"] and facets["chain"] and facets["country"]
    assert "integrated-circuits" in facets["chain"]
    year, count = next(iter(facets["year"].items()))
    narrowed = client.get(f"/api/search?q=semiconductor&year={year}").get_json()
    assert narrowed["total"] == count and all(r["year"] == int(year) for r in narrowed["results"])
    page = client.get(f"/?q=semiconductor&chain=integrated-circuits&year={year}")
    assert page.status_code == 200 and 'class="on"' in page.get_data(as_text=True)


def test_facets_cover_the_sample_site(client: FlaskClient, crawled) -> None:
    site = crawled[0]
    facets = client.get("/api/search").get_json()["facets"]
    assert {str(y) for y in range(2019, 2026)} <= set(facets["year"])
    assert len(facets["chain"]) == 12
    assert len(facets["country"]) >= 10
    # Dates come from the pages' markup: every year matches the article's own date.
    body = client.get("/api/search?per_page=100").get_json()
    published = {a["title"]: a["published"] for a in site.articles}
    wrong = [r["title"] for r in body["results"] if r["published"] != published[r["title"]]]
    assert not wrong


def test_innovation_through_the_api_and_a_bad_query(client: FlaskClient) -> None:
    body = client.get("/api/search?q=innovation").get_json()
    assert body["total"] > 0 and set(body["facets"]) == {"year", "chain", "country"}
    bad = client.get("/api/search?q=%22innovation")
    assert bad.status_code == 400 and "quote" in bad.get_json()["error"]


def test_trends_and_comparisons_of_the_crawled_site_count_what_search_counts(crawled) -> None:
    """On each backend: every bar of a trend is the search's total for that chain and period,
    and the crawl store beside the index says the site was crawled, with no gap invented."""
    _site, data, index = crawled
    app = create_app({"INDEX_DIR": str(index), "DATA_DIR": str(data)})
    client = app.test_client()
    try:
        body = client.get("/api/trends?q=innovation+OR+technology&by=chain&top=4").get_json()
        assert body["total"] >= 10 and body["interval"] == "year"
        for s in body["series"][:4]:
            for c in s["counts"]:
                period = f"chain={s['value']}&from={c['period']}&to={c['period']}"
                found = client.get(f"/api/search?q=innovation+OR+technology&{period}").get_json()
                assert c["count"] == found["total"], (s["value"], c["period"])
        for p in body["periods"]:
            everything = client.get(f"/api/search?from={p['period']}&to={p['period']}")
            assert p["all_stories"] == everything.get_json()["total"]
        coverage = body["coverage"]
        assert coverage["crawl_store"] and coverage["sites"][0]["runs"] >= 1
        assert coverage["gaps"] == []  # crawled once, just now: nothing in the charted years
        compared = client.get("/api/compare?q=semiconductor&q=battery").get_json()
        for s in compared["series"]:
            assert s["total"] == client.get(f"/api/search?q={s['query']}").get_json()["total"]
    finally:
        get_index(app).close()


def test_who_works_with_whom_cite_and_feed_on_the_crawled_site(client: FlaskClient) -> None:
    """The analysis views over the crawled site, on each backend: the matrix agrees with the
    export, each pair's link finds its stories, the citation is the export's, the feed parses."""
    import feedparser

    exported = client.get("/api/export.jsonl").get_data(as_text=True)
    rows = [json.loads(line) for line in exported.splitlines()]
    data = client.get("/api/cooccurrence").get_json()
    assert data["total"] == len(rows) and data["pairs"]
    for pair in data["pairs"]:
        a, b = pair["countries"]
        naming = [r["id"] for r in rows if {a, b} <= set(r["countries"])]
        assert pair["stories"] == len(naming)
        found = client.get(f"/api/search?country_all={a}&country_all={b}&per_page=100").get_json()
        assert sorted(r["id"] for r in found["results"]) == sorted(naming)
        assert client.get(f"/api/search?q=country:{a}%2B{b}").get_json()["total"] == len(naming)
    cited = client.get("/api/cite").get_json()
    export = client.get("/api/export.csv")
    assert (
        cited["stories"] == len(rows) and cited["sha256"] == export.headers["X-Innosearch-SHA256"]
    )
    check = client.get(cited["url"].removeprefix("http://localhost").replace("/cite", "/api/cite"))
    assert check.get_json()["check"]["same"] is True
    feed = feedparser.parse(client.get("/feed.atom?q=semiconductor").data)
    assert not feed.bozo and feed.entries
    newest = client.get("/api/search?q=semiconductor&sort=date").get_json()["results"]
    assert [e.link for e in feed.entries] == [r["url"] for r in newest]
    for path in ("/cooccurrence", "/cite", "/?q=semiconductor"):
        assert client.get(path).status_code == 200


def test_second_crawl_is_incremental(crawled, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    site, data, index = crawled
    monkeypatch.setenv("INNOSEARCH_CRAWL_ALLOW_LOCAL", "1")
    monkeypatch.setenv("INNOSEARCH_CRAWL_DELAY", "0")
    code, _out, err = cli("crawl", site.url(), "--data", str(data))
    assert code == 0 and "not modified" in err
    code, _out, err = cli("index", "--data", str(data), "--index", str(index))
    assert code == 0 and "0 added or updated" in err
    code, out, _ = cli("stats", "--json", "--data", str(data), "--index", str(index))
    stats = json.loads(out)
    assert stats["index"]["documents"] == len(site.articles)
    assert stats["store"]["articles"] == len(site.articles)


def test_syndicated_copies_on_the_site_share_a_duplicate_group(crawled, client) -> None:
    site = crawled[0]
    copies = [a for a in site.articles if a["slug"].startswith("rare-earth-separation")]
    assert len(copies) == 2
    body = client.get("/api/search?q=rare earth separation acid&per_page=100").get_json()
    shown = [r for r in body["results"] if r["url"] in {site.article_url(a) for a in copies}]
    assert len(shown) == 1  # one story, with the other copy under "also published by"
    assert [a["url"] for a in shown[0]["also"]] == [
        site.article_url(a) for a in copies if site.article_url(a) != shown[0]["url"]
    ]
    everything = client.get("/api/search?per_page=100").get_json()["results"]
    assert sum(len(r["also"]) for r in everything) == 1  # no other article is grouped


def test_edited_taxonomy_reaches_the_index_by_rebuild_without_a_recrawl(
    crawled, cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request
) -> None:
    from indexer.enrich.chain_model import MODEL_FILE
    from indexer.enrich.lexicon import PACKAGE_DATA

    site, data, index = crawled
    model = json.loads((PACKAGE_DATA / MODEL_FILE).read_text(encoding="utf-8"))
    # A maintainer raises the threshold of integrated circuits in their own copy of the model.
    model["chains"]["integrated-circuits"]["threshold"] = 1000.0
    (tmp_path / MODEL_FILE).write_text(json.dumps(model), encoding="utf-8")
    monkeypatch.setenv("INNOSEARCH_TAXONOMY_DIR", str(tmp_path))
    requests_before = len(site.requests)
    rebuilt = new_index(index.startswith("postgresql://"), request, tmp_path)
    code, _out, err = cli("index", "--rebuild", "--data", str(data), "--index", rebuilt)
    assert code == 0, err
    assert len(site.requests) == requests_before  # nothing was fetched again

    def chain_facet(target: str) -> dict[str, int]:
        out = cli("search", "", "--index", target, "--json")[1]
        return json.loads(out)["facets"]["chain"]

    assert chain_facet(index).get("integrated-circuits", 0) > 0
    after = chain_facet(rebuilt)
    assert "integrated-circuits" not in after and after.get("ai", 0) > 0


def test_reextract_rebuilds_articles_from_the_archive_without_fetching(
    crawled, cli: CLI, tmp_path: Path
) -> None:
    site, data, index = crawled
    before = len(site.requests)
    code, _out, err = cli("reextract", "--data", str(data), "--index", index)
    assert code == 0, err
    assert "pages 63" in err and "articles unchanged 50" in err
    assert len(site.requests) == before  # read back from the WARC files, not the site
