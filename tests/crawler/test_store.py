"""The crawl store: the API the indexer and CLI use, and the frontier a resumed crawl relies on."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crawler.article import Article
from crawler.store import (
    DB_NAME,
    HISTORY_FILE,
    SCHEMA_VERSION,
    CrawlStore,
    PageState,
    StoreOutdated,
)

# What schema 2 had that schema 3 changed: runs without a site, bodies in raw, a sites table.
SCHEMA_2 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, seeds TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, outcome TEXT, summary TEXT);
CREATE TABLE raw (url TEXT PRIMARY KEY, final_url TEXT NOT NULL, fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE sites (site TEXT PRIMARY KEY, last_success TEXT,
    failures INTEGER NOT NULL DEFAULT 0, last_new_articles INTEGER NOT NULL DEFAULT 0,
    last_run_id INTEGER);
PRAGMA user_version = 2;
"""


def _article(n: int, **kwargs: object) -> Article:
    return Article(url=f"https://news.example/{n}", title=f"Story {n}", text="x" * 400, **kwargs)  # type: ignore[arg-type]


def test_creates_directory_and_database(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    with CrawlStore(data) as store:
        assert store.max_seq() == 0
        assert store.count_pages() == 0
        assert store.count_articles() == 0
        assert store.seeds() == []
        assert store.site_health() == []
        assert list(store.articles_since()) == []
    db = sqlite3.connect(data / DB_NAME)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        db.close()


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    CrawlStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="schema version"):
        CrawlStore(tmp_path)


def test_read_only_never_writes(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CrawlStore(tmp_path / "none", read_only=True)
    assert not (tmp_path / "none").exists()
    CrawlStore(tmp_path).close()
    with CrawlStore(tmp_path, read_only=True) as store:
        assert store.site_runs() == [] and store.count_pages() == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.start_run(["https://news.example/"], "t")


def test_an_old_store_keeps_its_history_and_bodies_after_the_upgrade(tmp_path: Path) -> None:
    url = "https://news.example/1"
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.executescript(SCHEMA_2)
    db.execute(
        "INSERT INTO raw VALUES (?, ?, '2024-01-01T00:00:00Z', 200, ?, ?)",
        (url, url, json.dumps({"content-type": "text/html"}), b"<html>old</html>"),
    )
    # A run killed before the upgrade: the next crawl over the same seeds resumes it.
    db.execute(
        "INSERT INTO runs (seeds, started_at) VALUES (?, 't')", ('["https://news.example/"]',)
    )
    db.commit()
    db.close()
    line = {"site": "Herald", "hosts": ["news.example"], "command": "recrawl", "seconds": 1.5}
    lines = [
        {**line, "finished_at": "2024-01-01T06:00:00Z", "ok": True, "articles_new": 4},
        {**line, "finished_at": "2024-01-02T06:00:00Z", "ok": False, "error": "HTTP 503"},
    ]
    torn = '{"site": "Her'  # a kill mid-write
    history = tmp_path / HISTORY_FILE
    history.write_text("".join(json.dumps(x) + "\n" for x in lines) + torn, encoding="utf-8")

    with pytest.raises(StoreOutdated, match="innosearch migrate"):
        CrawlStore(tmp_path, read_only=True)  # a reader (the web app) never upgrades
    with CrawlStore(tmp_path) as store:
        runs = store.site_runs()
        assert [(r["site"], r["hosts"], r["ok"], r["error"]) for r in runs] == [
            ("Herald", ["news.example"], True, None),
            ("Herald", ["news.example"], False, "HTTP 503"),
        ]
        assert runs[0]["articles_new"] == 4 and runs[0]["finished_at"] == "2024-01-01T06:00:00Z"
        body, headers = store.raw(url) or (b"", {})
        assert (body, headers["content-type"]) == (b"<html>old</html>", "text/html")
        run = store.start_run(["https://news.example/"], "2024-01-03T00:00:00Z", "Herald")
        assert run.resumed
        store.finish_run(run, "2024-01-03T00:00:01Z", {"articles_new": 2})
        assert [r.get("articles_new") for r in store.site_runs()] == [4, None, 2]
    assert not history.exists() and history.with_name(HISTORY_FILE + ".imported").exists()
    db = sqlite3.connect(tmp_path / DB_NAME)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert not tables & {"raw", "sites"}
    # Imported once: the renamed file is not read again.
    history.with_name(HISTORY_FILE + ".imported").rename(history)
    with CrawlStore(tmp_path) as store:
        assert len(store.site_runs()) == 3


def test_seq_grows_on_every_write_and_only_then(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        one, two = _article(1), _article(2)
        assert store.write_article(one, fetched_at="2024-03-01T00:00:00Z", http_status=200) == "new"
        assert store.write_article(two, fetched_at="2024-03-01T00:00:00Z", http_status=200) == "new"
        assert store.write_article(one, fetched_at="2024-03-02T00:00:00Z", http_status=200) == (
            "unchanged"
        )
        assert store.max_seq() == 2
        one.title = "Story 1, corrected"
        assert store.write_article(one, fetched_at="2024-03-02T00:00:00Z", http_status=200) == (
            "updated"
        )
        assert store.mark_gone(two.id, fetched_at="2024-03-03T00:00:00Z", http_status=404)
        assert not store.mark_gone(two.id, fetched_at="2024-03-03T00:00:00Z", http_status=404)
        assert store.max_seq() == 4

        everything = list(store.articles_since(0))
        # One row per article, in seq order, the latest state of each.
        assert [(s.seq, s.article.id, s.gone) for s in everything] == [
            (3, one.id, False),
            (4, two.id, True),
        ]
        assert everything[0].article.title == "Story 1, corrected"
        assert everything[0].fetched_at == "2024-03-02T00:00:00Z"
        assert everything[1].http_status == 404
        assert [s.seq for s in store.articles_since(3)] == [4]
        assert store.count_articles() == 1

        # A gone article that comes back is live again, with a new seq.
        assert store.write_article(two, fetched_at="2024-03-04T00:00:00Z", http_status=200) == (
            "updated"
        )
        assert store.count_articles() == 2
        assert store.max_seq() == 5


def test_articles_since_pages_through_many_rows(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store, store.transaction():
        for n in range(1234):
            store.write_article(_article(n), fetched_at="2024-03-01T00:00:00Z", http_status=200)
    with CrawlStore(tmp_path) as store:
        seqs = [s.seq for s in store.articles_since(0)]
        assert seqs == list(range(1, 1235))
        partial = store.articles_since(10)
        assert next(partial).seq == 11  # dropped half way: holds nothing open


def test_article_round_trips_through_json(tmp_path: Path) -> None:
    article = _article(
        7,
        published="2024-03-01",
        authors=["A. Writer", "B. Writer"],
        language="en",
        canonical_url="https://news.example/7",
        extraction_method="density",
    )
    with CrawlStore(tmp_path) as store:
        store.write_article(article, fetched_at="2024-03-01T00:00:00Z", http_status=200)
    with CrawlStore(tmp_path) as store:
        (stored,) = store.articles_since()
    assert stored.article == article


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        with pytest.raises(KeyError), store.transaction():
            store.write_article(_article(1), fetched_at="t", http_status=200)
            raise KeyError("boom")
        assert store.max_seq() == 0


def test_runs_resume_only_with_the_same_seeds(tmp_path: Path) -> None:
    seeds = ["https://a.example/", "https://b.example/"]
    with CrawlStore(tmp_path) as store:
        run = store.start_run(seeds, "2024-03-01T00:00:00Z")
        assert not run.resumed
        for url in seeds:
            store.enqueue(url, depth=0, host=url.split("/")[2])
        store.mark(seeds[0], "done", requested=True)
    with CrawlStore(tmp_path) as store:
        again = store.start_run(list(reversed(seeds)), "2024-03-01T00:05:00Z")
        assert again.resumed and again.id == run.id
        assert [item.url for item in store.queued()] == [seeds[1]]
        assert store.pages_requested() == 1
        store.finish_run(again, "2024-03-01T00:10:00Z", {"pages_fetched": 2})
        fresh = store.start_run(seeds, "2024-03-02T00:00:00Z")
        assert not fresh.resumed
        assert store.queued() == []  # a fresh run starts from an empty frontier
        assert store.seeds() == seeds


def test_frontier_order_and_deduplication(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        store.start_run(["https://a.example/"], "t")
        assert store.enqueue("https://a.example/", depth=0, host="a.example")
        assert store.enqueue("https://a.example/x", depth=1, host="a.example")
        assert store.enqueue("https://a.example/y", depth=1, host="a.example")
        assert not store.enqueue("https://a.example/x", depth=2, host="a.example")
        assert store.enqueue(
            "https://a.example/sitemap.xml", depth=0, host="a.example", kind="sitemap"
        )
        assert store.enqueue("https://a.example/z", depth=2, host="a.example", lastmod="2024")
        order = [item.url for item in store.queued()]
        assert order == [
            "https://a.example/sitemap.xml",
            "https://a.example/",
            "https://a.example/x",
            "https://a.example/y",
            "https://a.example/z",
        ]
        store.mark("https://a.example/", "done", requested=True)
        store.mark("https://a.example/x", "failed", "skipped: disallowed")
        assert store.frontier_state("https://a.example/x") == "failed"
        assert store.frontier_counts("page") == {"queued": 2, "done": 1, "failed": 1}
        assert store.pages_requested() == 1
        assert store.queued()[-1].lastmod == "2024"


def test_revalidation_queue_oldest_first_and_a_link_takes_it_over(tmp_path: Path) -> None:
    def page(url: str, fetched_at: str, article_id: str | None, final_url: str = "") -> PageState:
        return PageState(url, final_url or url, 200, None, None, "h", None, fetched_at, article_id)

    with CrawlStore(tmp_path) as store:
        store.start_run(["https://a.example/"], "t")
        for n, when in ((1, "2024-03-05"), (2, "2024-03-01"), (3, "2024-03-03"), (4, "2024-03-09")):
            article = _article(n, id=f"id{n}")
            article.url = f"https://a.example/{n}"
            store.write_article(article, fetched_at=when, http_status=200)
            if n != 3:
                store.record_page(page(article.url, when, article.id))
        # A print version of 2 fetched later does not make 2 fresh: only its own page counts.
        store.record_page(page("https://a.example/2/print", "2024-03-08", "id2"))
        # 3 was met through a redirect only: its first URL is the one to ask.
        store.record_page(
            page("https://a.example/old-3", "2024-03-06", "id3", "https://a.example/3")
        )
        store.mark_gone("id4", fetched_at="2024-03-09", http_status=410)
        store.write_article(_article(9, id="other"), fetched_at="2024-01-01", http_status=200)

        due = list(store.revalidation_due(["a.example"], "2024-03-07"))
        assert due == ["https://a.example/2", "https://a.example/1", "https://a.example/old-3"]
        assert list(store.revalidation_due(["a.example"], "2024-03-04")) == [due[0]]

        hosts = [(url, "a.example") for url in due]
        assert store.enqueue_revalidation(hosts, depth=10) == 3
        assert store.enqueue("https://a.example/", depth=0, host="a.example")
        assert [i.revalidate for i in store.queued()] == [False, True, True, True]
        assert [i.url for i in store.queued(revalidation_only=True)] == due
        # A link reaches 1: it becomes a linked page, at the link's depth.
        assert store.enqueue("https://a.example/1", depth=1, host="a.example")
        linked = store.queued()[1]
        assert (linked.url, linked.depth, linked.revalidate) == ("https://a.example/1", 1, False)
        store.mark(due[0], "done", requested=True)
        store.mark("https://a.example/1", "done", requested=True)
        assert store.budget_used() == (2, 1)
        assert list(store.revalidation_due(["a.example"], "2024-03-07")) == []  # all seen


def test_pages_raw_bodies_and_site_health(tmp_path: Path) -> None:
    with CrawlStore(tmp_path) as store:
        run = store.start_run(["https://www.news.example/"], "t")
        state = PageState(
            url="https://www.news.example/1",
            final_url="https://www.news.example/1",
            status=200,
            etag='"abc"',
            last_modified="Mon, 04 Mar 2024 10:00:00 GMT",
            content_hash="00ff",
            content_type="text/html",
            fetched_at="2024-03-04T10:00:00Z",
            article_id=None,
        )
        store.record_page(state)
        store.record_page(
            PageState(**{**state.__dict__, "url": "https://www.news.example/sitemap.xml"}),
            "sitemap",
        )
        assert store.page_state(state.url) == state
        assert store.page_state("https://www.news.example/none") is None
        assert store.count_pages() == 1  # sitemaps are not pages

        store.save_raw(
            state.url,
            final_url=state.url,
            fetched_at=state.fetched_at,
            status=200,
            headers={"content-type": "text/html", "content-encoding": "gzip"},
            body=b"<html>\xff</html>",
        )
        # The body as the crawler used it (decoded), in a WARC file any WARC tool can read;
        # the headers describe that body, not the compressed bytes on the wire.
        body, headers = store.raw(state.url) or (b"", {})
        assert body == b"<html>\xff</html>"
        assert headers == {"content-type": "text/html", "content-length": "14"}
        assert [p.suffixes for p in store.warc_dir.iterdir()] == [[".warc", ".gz"]]
        assert store.raw("https://www.news.example/none") is None

        store.write_article(_article(1), fetched_at="t", http_status=200)
        # Two pages answer 503 after the host's last good answer: it is failing.
        for n, when in ((2, "2024-03-04T11:00:00Z"), (3, "2024-03-04T12:00:00Z")):
            url = f"https://www.news.example/{n}"
            failed = {"url": url, "final_url": url, "status": 503, "fetched_at": when}
            store.record_page(PageState(**{**state.__dict__, **failed}))
        store.finish_run(run, "2024-03-04T12:00:01Z", {"articles_new": 1})
        assert store.site_health() == [
            {
                "site": "news.example",
                "pages": 3,
                "articles": 1,
                "last_success": "2024-03-04T10:00:00Z",
                "failures": 2,
                "last_new_articles": 1,
            }
        ]
        # A 404 says the host is up again; the next run found nothing new.
        url = "https://www.news.example/4"
        gone = {"url": url, "final_url": url, "status": 404, "fetched_at": "2024-03-04T13:00:00Z"}
        store.record_page(PageState(**{**state.__dict__, **gone}))
        later = store.start_run(["https://www.news.example/"], "2024-03-04T13:00:00Z")
        store.finish_run(later, "2024-03-04T13:00:01Z", {"articles_new": 0})
        (health,) = store.site_health()
        assert (health["last_success"], health["failures"]) == ("2024-03-04T13:00:00Z", 0)
        assert health["last_new_articles"] == 0
