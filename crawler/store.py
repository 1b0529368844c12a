"""The crawl store: one SQLite file (``DATA_DIR/crawl.sqlite``) between the crawler and the indexer.

It holds everything a crawl needs to resume and to be incremental, and everything the indexer
needs to catch up:

- ``seeds``: the URLs crawls started from, so ``recrawl`` can repeat them;
- ``runs``: one row per crawl, labelled with the site it crawled (the configured site's name,
  else its first seed's host) and its hosts: when it started and ended, whether it failed and
  why, and its `CrawlSummary`. This is the sites' history that ``innosearch stats`` and
  ``/stats`` show (`indexer.health`), kept nowhere else;
- ``frontier``: the current crawl's queue (url, depth, state). A crawl killed at any moment
  restarts from here: every page is committed in one transaction with its frontier state, so a
  page is either fully recorded or still queued, never half-done or done twice;
- ``pages``: per-URL fetch state (ETag, Last-Modified, content hash, status) for conditional
  requests next time, and ``responses``: where the last body of each page lies in the WARC
  archive (``DATA_DIR/warc/``, see `crawler.warc`), so articles can be re-extracted (and links
  re-read after a 304) without fetching again;
- ``articles``: one row per article id with the Article as JSON, a ``gone`` flag and ``seq``,
  a global counter bumped on every write, so the indexer asks "what changed since seq N".

WAL mode lets the indexer read while a crawl writes. Only the crawler writes; readers that must
not (the web app) open the store with ``read_only=True``. Opening a store of an older schema for
writing upgrades it (`_migrate`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from crawler.article import Article, site_of
from crawler.warc import WARC_DIR, ArchivedResponse, WarcArchive, WarcLocation, read_response

__all__ = [
    "DB_NAME",
    "HISTORY_FILE",
    "SCHEMA_VERSION",
    "CrawlStore",
    "FrontierItem",
    "PageState",
    "Run",
    "StoreOutdated",
    "StoredArticle",
]

DB_NAME = "crawl.sqlite"
# 2: responses in WARC files (the responses table); 3: the site history in runs (imported from
# site-runs.jsonl), no sites or raw table
SCHEMA_VERSION = 3
HISTORY_FILE = "site-runs.jsonl"  # where innosearch before schema 3 kept the site history
_PAGE = 500  # rows per read in articles_since

FrontierState = Literal["queued", "done", "failed"]
FrontierKind = Literal["page", "sitemap"]
# Frontier priorities: sitemaps first, then pages reached through links, breadth-first, then the
# known articles queued for revalidation, in the order queued (the crawl's scheduler gives them
# a share of the page budget). A link to a queued revalidation URL turns it into a linked page.
_SITEMAP, _LINKED, _REVALIDATE = 0, 1, 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seeds (
    url TEXT PRIMARY KEY,
    added_at TEXT NOT NULL,
    last_crawled_at TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seeds TEXT NOT NULL,              -- JSON list, sorted: a resumed run must have the same seeds
    started_at TEXT NOT NULL,
    finished_at TEXT,                 -- NULL while running or after a kill
    outcome TEXT,                     -- 'finished', 'failed' or 'abandoned' (never ended)
    summary TEXT,                     -- JSON CrawlSummary
    site TEXT,                        -- the site crawled (NULL: a run from before schema 3)
    hosts TEXT,                       -- JSON list of the site's hosts
    error TEXT                        -- why a failed run failed
);
CREATE TABLE IF NOT EXISTS frontier (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('page', 'sitemap')),
    depth INTEGER NOT NULL,
    host TEXT NOT NULL,
    priority INTEGER NOT NULL,        -- 0 sitemaps, 1 linked pages, 2 revalidation (see below)
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed')),
    requested INTEGER NOT NULL DEFAULT 0, -- 1 once a request was sent: counts toward max_pages
    lastmod TEXT,                     -- from the sitemap or feed that listed the URL
    note TEXT                         -- why a URL failed or was skipped
);
CREATE INDEX IF NOT EXISTS frontier_order ON frontier (state, priority, depth);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    content_hash TEXT,
    content_type TEXT,
    fetched_at TEXT NOT NULL,
    article_id TEXT,                  -- the article this page produced, if any
    note TEXT                         -- why the page is or is not an article (extract.classify)
);
CREATE INDEX IF NOT EXISTS pages_site ON pages (site);
CREATE TABLE IF NOT EXISTS responses (
    url TEXT PRIMARY KEY,
    final_url TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    warc_file TEXT NOT NULL,          -- a file name in DATA_DIR/warc
    warc_offset INTEGER NOT NULL,
    warc_length INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,                -- the page the stored version was extracted from
    site TEXT NOT NULL,
    data TEXT NOT NULL,               -- Article as JSON
    gone INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL UNIQUE,
    fetched_at TEXT NOT NULL,
    http_status INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_site ON articles (site, gone);
"""
# Columns added since the table was first made: (table, column, declaration).
_ADDED_COLUMNS = (
    ("pages", "note", "TEXT"),
    ("runs", "site", "TEXT"),
    ("runs", "hosts", "TEXT"),
    ("runs", "error", "TEXT"),
)
# A failed fetch in a site's health: a server error, or a refusal to serve (429). Any other
# answer, a 404 included, says the site is up.
_FAILED_ANSWER = "(p.status >= 500 OR p.status = 429)"


class StoreOutdated(RuntimeError):
    """The store's schema is not this innosearch's, and this process may not change it."""


@dataclass
class StoredArticle:
    """One article as the indexer sees it."""

    seq: int  # grows every time an article is written or marked gone (global, monotonic)
    article: Article
    gone: bool
    fetched_at: str  # ISO 8601 UTC
    http_status: int


@dataclass
class Run:
    id: int
    resumed: bool


@dataclass
class FrontierItem:
    url: str
    kind: FrontierKind
    depth: int
    host: str
    lastmod: str | None = None
    # Queued by `enqueue_revalidation`, not reached through a link (so far) in this run.
    revalidate: bool = False


@dataclass
class PageState:
    """What the last fetch of a URL left behind, for conditional requests and change checks."""

    url: str
    final_url: str
    status: int
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    content_type: str | None
    fetched_at: str
    article_id: str | None
    note: str | None = None  # why the page is or is not an article, from its last HTML body


def _article_json(article: Article) -> str:
    return json.dumps(article.to_dict(), sort_keys=True, ensure_ascii=False)


class CrawlStore:
    """The SQLite crawl store; use as a context manager or call `close`."""

    def __init__(self, data_dir: str | Path, *, read_only: bool = False) -> None:
        """Opens (creating or upgrading it) the store in ``data_dir``; ``read_only`` opens an
        existing store of this schema without ever writing to it (FileNotFoundError if there is
        none, StoreOutdated if it needs an upgrade that only a writer may make)."""
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self.warc_dir = self.data_dir / WARC_DIR
        self._depth = 0
        self._archive: WarcArchive | None = None
        if read_only:
            if not self.path.is_file():
                raise FileNotFoundError(f"no crawl store in {self.data_dir}")
            self._db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (`transaction`), so a page's
            # writes commit together and reads never hold a write lock open.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreOutdated(
                    f"{self.path} has schema version {version}; this innosearch knows "
                    f"{SCHEMA_VERSION}. Upgrade innosearch."
                )
            if read_only:
                if version < SCHEMA_VERSION:
                    raise StoreOutdated(
                        f"{self.path} has schema version {version}, older than this "
                        f"innosearch's {SCHEMA_VERSION}: the next crawl, recrawl or index run "
                        "(or `innosearch migrate`) upgrades it"
                    )
                return
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if version < SCHEMA_VERSION:
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        """Creates the schema or upgrades an older one, in one transaction, so two processes
        opening a store at once cannot see half a schema and only one of them upgrades it.

        From schema 2: bodies left in the ``raw`` table (stores from before the WARC archive)
        move into the archive, and the site history of ``DATA_DIR/site-runs.jsonl`` moves into
        ``runs`` (the file is renamed ``site-runs.jsonl.imported`` once the upgrade commits).
        """
        with self.transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                return  # another process upgraded it meanwhile
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            for table, column, declaration in _ADDED_COLUMNS:
                columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            if self._has_table("raw"):
                for url, final_url, fetched_at, status, headers, body in self._db.execute(
                    "SELECT url, final_url, fetched_at, status, headers, body FROM raw "
                    "WHERE url NOT IN (SELECT url FROM responses)"
                ).fetchall():
                    self.save_raw(
                        url,
                        final_url=final_url,
                        fetched_at=fetched_at,
                        status=status,
                        headers=json.loads(headers),
                        body=bytes(body),
                    )
                self._db.execute("DROP TABLE raw")
            self._db.execute("DROP TABLE IF EXISTS sites")
            history = self.data_dir / HISTORY_FILE
            imported = self._import_history(history)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        if imported:
            history.rename(history.with_name(HISTORY_FILE + ".imported"))

    def _has_table(self, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def _import_history(self, path: Path) -> bool:
        """Adds each line of an old ``site-runs.jsonl`` as an ended run; True if there was one.
        A line that is not a JSON object naming its site (a torn last line) is skipped."""
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return False
        labels = ("site", "hosts", "command", "started_at", "finished_at", "seconds", "ok", "error")
        for line in lines:
            try:
                run = json.loads(line)
            except ValueError:
                continue
            if not isinstance(run, dict) or not isinstance(run.get("site"), str):
                continue
            finished = str(run.get("finished_at") or run.get("started_at") or "")
            self._db.execute(
                "INSERT INTO runs (seeds, started_at, finished_at, outcome, summary, site, hosts, "
                "error) VALUES ('[]', ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(run.get("started_at") or finished),
                    finished,
                    "finished" if run.get("ok") else "failed",
                    json.dumps({k: v for k, v in run.items() if k not in labels}),
                    run["site"],
                    json.dumps(list(run.get("hosts") or [])),
                    run.get("error"),
                ),
            )
        return True

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
        self._db.close()

    def __enter__(self) -> CrawlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # -- the indexer's and the CLI's API -------------------------------------------------------

    def articles_since(self, seq: int = 0) -> Iterator[StoredArticle]:
        """Articles written or marked gone after ``seq``, ordered by seq (gone ones included).

        Read in pages of `_PAGE` rows, so no cursor or read transaction stays open while the
        caller works (a long reader would stop WAL checkpoints), and an iterator dropped half
        way holds nothing.
        """
        while True:
            rows = self._db.execute(
                "SELECT seq, data, gone, fetched_at, http_status FROM articles WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (seq, _PAGE),
            ).fetchall()
            for row_seq, data, gone, fetched_at, status in rows:
                yield StoredArticle(
                    seq=row_seq,
                    article=Article.from_dict(json.loads(data)),
                    gone=bool(gone),
                    fetched_at=fetched_at,
                    http_status=status,
                )
                seq = row_seq
            if len(rows) < _PAGE:
                return

    def max_seq(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM articles").fetchone()[0])

    def count_pages(self) -> int:
        """Pages fetched (any HTTP answer), not counting robots.txt and sitemaps."""
        return int(self._db.execute("SELECT COUNT(*) FROM pages WHERE kind = 'page'").fetchone()[0])

    def count_articles(self) -> int:
        """Live articles: those not marked gone."""
        return int(self._db.execute("SELECT COUNT(*) FROM articles WHERE gone = 0").fetchone()[0])

    def seeds(self) -> list[str]:
        """Seeds of earlier crawls, oldest first, for ``recrawl``."""
        rows = self._db.execute("SELECT url FROM seeds ORDER BY added_at, url")
        return [url for (url,) in rows]

    def site_runs(self) -> list[dict[str, Any]]:
        """The sites' history: every crawl that ended, oldest first, as ``{"site", "hosts",
        "started_at", "finished_at", "ok", "error", **CrawlSummary numbers}``. A run still going
        (or killed, to be resumed) is not history yet."""
        rows = self._db.execute(
            "SELECT site, hosts, started_at, finished_at, outcome, error, summary FROM runs "
            "WHERE site IS NOT NULL AND outcome IN ('finished', 'failed') "
            "ORDER BY finished_at, id"
        )
        return [
            {
                **json.loads(summary or "{}"),
                "site": site,
                "hosts": json.loads(hosts or "[]"),
                "started_at": started_at,
                "finished_at": finished_at,
                "ok": outcome == "finished",
                "error": error,
            }
            for site, hosts, started_at, finished_at, outcome, error, summary in rows
        ]

    def site_health(self) -> list[dict[str, Any]]:
        """Per host: pages, live articles, the last answer that said the host is up (below
        500, not 429), how many of its pages answered a server error since, and the number of
        new articles the latest crawl of its site found."""
        rows = self._db.execute(
            f"""
            WITH up AS (SELECT p.site, MAX(p.fetched_at) AS last_success FROM pages p
                        WHERE NOT {_FAILED_ANSWER} GROUP BY p.site)
            SELECT p.site,
                   COUNT(*) FILTER (WHERE p.kind = 'page'),
                   (SELECT COUNT(*) FROM articles a WHERE a.site = p.site AND a.gone = 0),
                   up.last_success,
                   COUNT(*) FILTER (WHERE {_FAILED_ANSWER}
                                    AND p.fetched_at > COALESCE(up.last_success, ''))
            FROM pages p LEFT JOIN up ON up.site = p.site
            GROUP BY p.site ORDER BY p.site
            """
        ).fetchall()
        new_in_last_run: dict[str, int] = {}
        for run in self.site_runs():
            for host in run["hosts"]:
                new_in_last_run[host] = int(run.get("articles_new") or 0)
        keys = ("site", "pages", "articles", "last_success", "failures")
        return [
            {
                **dict(zip(keys, row, strict=True)),
                "last_new_articles": new_in_last_run.get(row[0], 0),
            }
            for row in rows
        ]

    # -- runs and the frontier (the crawler's side) --------------------------------------------

    def start_run(
        self, seeds: list[str], started_at: str, site: str = "", hosts: Iterable[str] = ()
    ) -> Run:
        """Resumes the unfinished run over the same seeds, or starts a fresh one, recorded in
        the history of ``site`` (default: the first seed's host) and its ``hosts`` (default:
        the seeds' hosts).

        A fresh run empties the frontier: the next crawl revisits everything, conditionally.
        An unfinished run over other seeds is closed as abandoned.
        """
        key = json.dumps(sorted(set(seeds)))
        label = (
            site or (site_of(seeds[0]) if seeds else ""),
            json.dumps(sorted(set(hosts) or {site_of(seed) for seed in seeds})),
        )
        with self.transaction():
            row = self._db.execute(
                "SELECT id, seeds FROM runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is not None and row[1] == key:
                self._db.execute(
                    "UPDATE runs SET site = ?, hosts = ? WHERE id = ?", (*label, row[0])
                )
                return Run(id=row[0], resumed=True)
            self._db.execute(
                "UPDATE runs SET finished_at = ?, outcome = 'abandoned' WHERE finished_at IS NULL",
                (started_at,),
            )
            self._db.execute("DELETE FROM frontier")
            cursor = self._db.execute(
                "INSERT INTO runs (seeds, started_at, site, hosts) VALUES (?, ?, ?, ?)",
                (key, started_at, *label),
            )
            for seed in seeds:
                self._db.execute(
                    "INSERT OR IGNORE INTO seeds (url, added_at) VALUES (?, ?)", (seed, started_at)
                )
            return Run(id=int(cursor.lastrowid or 0), resumed=False)

    def finish_run(
        self, run: Run, finished_at: str, summary: dict[str, Any], error: str | None = None
    ) -> None:
        """Ends a run: finished, or failed with ``error`` (the next crawl starts afresh)."""
        with self.transaction():
            self._db.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, summary = ?, error = ? WHERE id = ?",
                (
                    finished_at,
                    "failed" if error else "finished",
                    json.dumps(summary),
                    error,
                    run.id,
                ),
            )
            seeds = json.loads(
                self._db.execute("SELECT seeds FROM runs WHERE id = ?", (run.id,)).fetchone()[0]
            )
            self._db.executemany(
                "UPDATE seeds SET last_crawled_at = ? WHERE url = ?",
                [(finished_at, seed) for seed in seeds],
            )

    def enqueue(
        self,
        url: str,
        *,
        depth: int,
        host: str,
        kind: FrontierKind = "page",
        lastmod: str | None = None,
    ) -> bool:
        """Adds a URL to the frontier unless this run has seen it; True if it was new (or was
        queued for revalidation only, and is now a linked page)."""
        cursor = self._db.execute(
            "INSERT INTO frontier (url, kind, depth, host, priority, lastmod) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
            "depth = excluded.depth, priority = excluded.priority, lastmod = excluded.lastmod "
            f"WHERE frontier.state = 'queued' AND frontier.priority = {_REVALIDATE}",
            (url, kind, depth, host, _SITEMAP if kind == "sitemap" else _LINKED, lastmod),
        )
        return cursor.rowcount > 0

    def enqueue_revalidation(self, urls: Iterable[tuple[str, str]], depth: int) -> int:
        """Queues known pages (url, host) for revalidation, to be asked for in the order given;
        a URL this run has seen is left as it is. Returns how many were queued."""
        cursor = self._db.executemany(
            "INSERT OR IGNORE INTO frontier (url, kind, depth, host, priority) "
            f"VALUES (?, 'page', ?, ?, {_REVALIDATE})",
            [(url, depth, host) for url, host in urls],
        )
        return cursor.rowcount

    def revalidation_due(self, sites: Iterable[str], before: str) -> Iterator[str]:
        """Pages to revalidate on ``sites``: for each live article, the page it was extracted
        from (a redirect's first URL when that is where the crawl met it), when no page of it
        was fetched at ``before`` or later and this run has not seen it; least recently
        fetched first. Lazy past the sorting: a caller that wants a few stops early.

        Only the page the stored version came from can take an article down (see
        `crawler.crawl`), so only that page is asked for.
        """
        wanted = sorted(set(sites))
        marks = ", ".join("?" * len(wanted))
        rows = self._db.execute(
            "SELECT p.url, p.final_url, p.fetched_at, a.id, a.url FROM pages p "
            "JOIN articles a ON a.id = p.article_id "
            f"WHERE p.site IN ({marks}) AND p.kind = 'page' AND a.gone = 0",
            wanted,
        ).fetchall()
        checked: dict[str, str] = {}  # article id -> when a page of it was last fetched
        source: dict[str, str] = {}  # article id -> the page to ask for
        for url, final_url, fetched_at, article_id, article_url in rows:
            if article_url not in (url, final_url):
                continue  # a duplicate (print version...): its answer cannot take it down
            checked[article_id] = max(checked.get(article_id, ""), fetched_at)
            if article_id not in source or url == article_url:
                source[article_id] = url
        due = sorted((at, source[aid]) for aid, at in checked.items() if at < before)
        return (url for _at, url in due if self.frontier_state(url) is None)

    def queued(
        self, limit: int = 100, exclude_hosts: Iterable[str] = (), revalidation_only: bool = False
    ) -> list[FrontierItem]:
        """The next queued URLs: sitemaps first, then pages breadth-first in discovery order,
        then revalidation in the order queued (``revalidation_only``: those alone).

        ``exclude_hosts`` leaves out hosts that already have a request in flight, so the
        crawl's scheduler sees what it could start now.
        """
        excluded = sorted(set(exclude_hosts))
        marks = ", ".join("?" * len(excluded))
        host_filter = f"AND host NOT IN ({marks}) " if excluded else ""
        if revalidation_only:
            host_filter += f"AND priority = {_REVALIDATE} "
        rows = self._db.execute(
            f"SELECT url, kind, depth, host, lastmod, priority = {_REVALIDATE} FROM frontier "
            f"WHERE state = 'queued' {host_filter}ORDER BY priority, depth, rowid LIMIT ?",
            (*excluded, limit),
        )
        return [FrontierItem(*row[:5], revalidate=bool(row[5])) for row in rows]

    def mark(
        self, url: str, state: FrontierState, note: str | None = None, *, requested: bool = False
    ) -> None:
        """Sets a frontier URL's state; ``requested`` says a request was actually sent for it."""
        self._db.execute(
            "UPDATE frontier SET state = ?, note = ?, requested = MAX(requested, ?) WHERE url = ?",
            (state, note, int(requested), url),
        )

    def pages_requested(self) -> int:
        """Pages (not sitemaps) this run has sent a request for: the max_pages budget used."""
        return self.budget_used()[0]

    def budget_used(self) -> tuple[int, int]:
        """Pages (not sitemaps) this run has sent a request for, and how many of them were
        revalidations: how `crawler.crawl` shares max_pages between links and revalidation."""
        row = self._db.execute(
            f"SELECT COUNT(*), COUNT(*) FILTER (WHERE priority = {_REVALIDATE}) "
            "FROM frontier WHERE kind = 'page' AND requested = 1"
        ).fetchone()
        return int(row[0]), int(row[1])

    def frontier_state(self, url: str) -> FrontierState | None:
        row = self._db.execute("SELECT state FROM frontier WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def frontier_counts(self, kind: FrontierKind | None = None) -> dict[str, int]:
        """How many frontier URLs are in each state (of one kind, or all)."""
        sql = "SELECT state, COUNT(*) FROM frontier"
        params: tuple[str, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            params = (kind,)
        counts = {"queued": 0, "done": 0, "failed": 0}
        counts.update(dict(self._db.execute(sql + " GROUP BY state", params).fetchall()))
        return counts

    # -- per-URL fetch state and raw bodies ----------------------------------------------------

    def page_state(self, url: str) -> PageState | None:
        row = self._db.execute(
            "SELECT url, final_url, status, etag, last_modified, content_hash, content_type, "
            "fetched_at, article_id, note FROM pages WHERE url = ?",
            (url,),
        ).fetchone()
        return PageState(*row) if row else None

    def record_page(self, state: PageState, kind: FrontierKind = "page") -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pages (url, site, kind, final_url, status, etag, "
            "last_modified, content_hash, content_type, fetched_at, article_id, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                state.url,
                site_of(state.url),
                kind,
                state.final_url,
                state.status,
                state.etag,
                state.last_modified,
                state.content_hash,
                state.content_type,
                state.fetched_at,
                state.article_id,
                state.note,
            ),
        )

    def save_raw(
        self,
        url: str,
        *,
        final_url: str,
        fetched_at: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
    ) -> WarcLocation:
        """Archives the latest response of ``url`` in this process's WARC file and points at it.

        The record is flushed before this returns, so the pointer, committed with the caller's
        transaction, never refers to bytes still in a buffer. Earlier records stay in their
        files (the archive only grows); the store points at the newest.
        """
        if self._archive is None:
            self._archive = WarcArchive(self.warc_dir)
        location = self._archive.write_response(
            final_url, status=status, headers=headers, body=body, fetched_at=fetched_at
        )
        self._db.execute(
            "INSERT OR REPLACE INTO responses (url, final_url, fetched_at, status, warc_file, "
            "warc_offset, warc_length) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (url, final_url, fetched_at, status, location.file, location.offset, location.length),
        )
        return location

    def response_location(self, url: str) -> WarcLocation | None:
        row = self._db.execute(
            "SELECT warc_file, warc_offset, warc_length FROM responses WHERE url = ?", (url,)
        ).fetchone()
        return WarcLocation(*row) if row else None

    def has_raw(self, url: str) -> bool:
        """Whether a body of ``url`` was kept (without reading it)."""
        return self.response_location(url) is not None

    def raw(self, url: str) -> tuple[bytes, dict[str, str]] | None:
        """The stored body and headers of ``url``, or None if none was kept or its WARC record
        is damaged (logged as a warning)."""
        location = self.response_location(url)
        if location is None:
            return None
        response = read_response(self.warc_dir, location)
        return (response.body, response.headers) if response is not None else None

    def archived_pages(self) -> Iterator[tuple[str, ArchivedResponse | None]]:
        """Each page whose last fetch succeeded, with its archived response (None if damaged),
        in archive order so the WARC files are read front to back. For re-extraction."""
        rows = self._db.execute(
            "SELECT r.url, r.warc_file, r.warc_offset, r.warc_length FROM responses r "
            "JOIN pages p ON p.url = r.url "
            "WHERE p.kind = 'page' AND p.status BETWEEN 200 AND 299 "
            "ORDER BY r.warc_file, r.warc_offset"
        ).fetchall()
        for url, file, offset, length in rows:
            yield url, read_response(self.warc_dir, WarcLocation(file, offset, length))

    def link_page_article(self, url: str, article_id: str) -> None:
        """Records that the page at ``url`` produced ``article_id`` (so its 404 takes it down)."""
        self._db.execute("UPDATE pages SET article_id = ? WHERE url = ?", (article_id, url))

    def note_page(self, url: str, note: str) -> None:
        """Records why the page at ``url`` is or is not an article (re-extraction's verdict)."""
        self._db.execute("UPDATE pages SET note = ? WHERE url = ?", (note, url))

    def page_reasons(self) -> dict[str, int]:
        """How many fetched pages are not articles, by the kind of reason (listing, too short,
        noindex...: the note's part before its first colon), most common first."""
        rows = self._db.execute(
            "SELECT note FROM pages WHERE kind = 'page' AND article_id IS NULL AND note IS NOT NULL"
        )
        counts: dict[str, int] = {}
        for (note,) in rows:
            kind = note.split(":", 1)[0].strip()
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def frontier_note(self, url: str) -> str | None:
        """Why a frontier URL failed or was skipped (redirect loop, too large, ...), if noted."""
        row = self._db.execute("SELECT note FROM frontier WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    # -- articles ----------------------------------------------------------------------------------

    def article_source(self, article_id: str) -> tuple[str, bool] | None:
        """The page URL the stored article came from and whether it is gone, or None."""
        row = self._db.execute(
            "SELECT url, gone FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return (row[0], bool(row[1])) if row else None

    def _next_seq(self) -> int:
        # Rows are never deleted and every write takes max+1, so seq only ever grows.
        return self.max_seq() + 1

    def write_article(
        self, article: Article, *, fetched_at: str, http_status: int
    ) -> Literal["new", "updated", "unchanged"]:
        """Stores an article (live), taking a new seq only when its content or state changed."""
        data = _article_json(article)
        with self.transaction():
            row = self._db.execute(
                "SELECT data, gone FROM articles WHERE id = ?", (article.id,)
            ).fetchone()
            if row is not None and row[0] == data and not row[1]:
                return "unchanged"
            self._db.execute(
                "INSERT OR REPLACE INTO articles (id, url, site, data, gone, seq, fetched_at, "
                "http_status) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (
                    article.id,
                    article.url,
                    article.site,
                    data,
                    self._next_seq(),
                    fetched_at,
                    http_status,
                ),
            )
        return "new" if row is None else "updated"

    def mark_gone(self, article_id: str, *, fetched_at: str, http_status: int) -> bool:
        """Marks a live article gone (its page answered 404/410); True if it was live."""
        with self.transaction():
            cursor = self._db.execute(
                "UPDATE articles SET gone = 1, seq = ?, fetched_at = ?, http_status = ? "
                "WHERE id = ? AND gone = 0",
                (self._next_seq(), fetched_at, http_status, article_id),
            )
        return cursor.rowcount > 0
