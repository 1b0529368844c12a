"""The PostgreSQL index: the shared index for teams, beside the embedded Whoosh one.

`PostgresIndex(url, read_urls)` is the one object callers hold. Opened by a command that
writes, it creates or upgrades the schema (`indexer.postgres.schema`); opened by the web app or a
search, it only checks it. It writes on the primary (`indexer.postgres.write`: one transaction per
run) and searches through connection pools (`indexer.postgres.search`), round-robin over the read
replica URLs when there are any, so search load can grow by adding replicas while writes stay
on one server. Search sessions are read-only and time-limited: a search can neither change
the index nor hold a connection for long.

The answers are those of the Whoosh backend: `search` returns the INTERFACE.md object and
raises `QueryError` for what a user can fix; connection and version problems raise
`IndexAccessError` with one line for the user (passwords never appear in it).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool, PoolTimeout

from indexer import cite
from indexer.document import IndexSummary, Progress, Story
from indexer.errors import IndexAccessError
from indexer.postgres.schema import SCHEMA_VERSION, current_version, migrate
from indexer.postgres.search import BrowseCache, run_breakdown, run_search, run_stories
from indexer.postgres.write import Item, write_run
from indexer.querylang import SEARCH_SECONDS, QueryError, over_budget
from indexer.request import MAX_PAGE, MAX_PER_PAGE, SearchRequest

T = TypeVar("T")

# A search running longer is cancelled and reported as too broad (the same budget as Whoosh's).
SEARCH_TIMEOUT_MS = int(SEARCH_SECONDS * 1000)
CONNECT_TIMEOUT = 10.0  # seconds to wait for a server when opening and for a pooled connection
POOL_SIZE = 8  # per search server: the web server's default thread count
# Memory a search's sorts and hashes may use before spilling to disk. Collapsing copies sorts
# every matching row: at a million articles a common word matches 500,000 rows, and with
# PostgreSQL's default 4 MB such a search took 8.6 s instead of 1.2 s (bench/backends.py).
SEARCH_WORK_MEM = "64MB"

_DOCUMENT = (
    "SELECT id, url, site, site_name, title, body, published, year, chains, countries, authors, "
    "language, evidence, fetched_at, http_status, extraction_method, dup FROM documents "
    "WHERE id = %s"
)


def where(url: str) -> str:
    """A URL as `host:port/dbname` for messages: never the password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unreadable PostgreSQL URL"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


class PostgresIndex:
    """A PostgreSQL index: write on `url`, search on `read_urls` (round-robin) or on `url`."""

    name = "postgresql"

    def __init__(
        self,
        url: str,
        read_urls: Sequence[str] = (),
        *,
        pool_size: int = POOL_SIZE,
        migrate_schema: bool = False,
    ) -> None:
        """Connects, checks the schema and opens the search pools.

        An index that is missing or older than this innosearch is refused, unless
        `migrate_schema` (the commands that write) asks to create or upgrade it.
        """
        self.url = url
        self.read_urls = tuple(read_urls)
        with self._primary() as conn:
            if migrate_schema:
                migrate(conn)
            else:
                version = current_version(conn)
                if version != SCHEMA_VERSION:
                    raise IndexAccessError(
                        f"the PostgreSQL index at {where(url)} has schema version {version}, "
                        f"not {SCHEMA_VERSION}: run `innosearch migrate` (or `innosearch index`) "
                        "to create or upgrade it"
                    )
        self._pools: list[ConnectionPool] = []
        try:
            for number, read_url in enumerate(self.read_urls or (url,)):
                self._pools.append(_search_pool(read_url, number, pool_size))
        except BaseException:
            self.close()
            raise
        self._turn = itertools.cycle(range(len(self._pools)))
        self._turn_lock = threading.Lock()
        self._browse = BrowseCache()

    # ---- writing (on the primary) ---------------------------------------------------------------

    def write(
        self,
        items: Iterable[Item],
        progress: Progress | None = None,
        *,
        store_seq: int | None = None,
        replace: bool = False,
    ) -> IndexSummary:
        """Adds, replaces (by id) and deletes (gone) articles in one transaction.

        The items are `indexer.document.Item`s: (article, fetched_at, http_status, gone).
        """
        with self._primary() as conn:
            return write_run(conn, items, progress, store_seq=store_seq, replace=replace)

    def index_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary:
        """Brings the index up to date with the crawl store (the changes since the last run)."""
        last = store.max_seq()
        items = (
            (s.article, s.fetched_at, s.http_status, s.gone)
            for s in store.articles_since(self.store_seq())
        )
        return self.write(items, progress, store_seq=last)

    def rebuild_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary:
        """Re-enriches every stored article; searches see the old index until the commit."""
        last = store.max_seq()
        items = (
            (s.article, s.fetched_at, s.http_status, s.gone)
            for s in store.articles_since(0)
            if not s.gone
        )
        return self.write(items, progress, store_seq=last, replace=True)

    def store_seq(self) -> int:
        """The last crawl-store change this index has taken (0 for a new index)."""
        with self._primary() as conn:
            row = conn.execute("SELECT store_seq FROM index_state").fetchone()
            return int(row[0]) if row else 0

    # ---- reading (on the read pools) ------------------------------------------------------------

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """The INTERFACE.md search object; QueryError for a query or parameter to fix."""
        return self._read(lambda conn: run_search(conn, request, self._browse))

    def breakdown(
        self, request: SearchRequest, facet: str
    ) -> dict[tuple[int, tuple[str, ...]], int]:
        """Matching stories by (month YYYYMM or 0, the facet's values they carry)."""
        return self._read(lambda conn: run_breakdown(conn, request, facet))

    def stories(self, request: SearchRequest) -> list[Story]:
        """Every matching story (copies collapsed) with the countries it names."""
        return self._read(lambda conn: run_stories(conn, request))

    def _read(self, statement: Callable[[psycopg.Connection], T]) -> T:
        """Runs a search statement on a read connection; a query that runs out of time or that
        PostgreSQL cannot read is the user's to fix (QueryError), not a server error."""
        with self._reader() as conn:
            try:
                return statement(conn)
            except errors.QueryCanceled:
                raise over_budget() from None
            except errors.SyntaxError as e:
                raise QueryError(f"could not understand the query: {e.diag.message_primary}") from e

    def timeline(self, request: SearchRequest) -> dict[str, Any]:
        """The attention chart alone: stories per period for the query and filters."""
        result = self.search(replace(request, timeline=True, per_page=1, page=1))
        return {"query": request.q, "total": result["total"]} | result["timeline"]

    def export_rows(
        self, request: SearchRequest, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every matching story, best first, a page at a time (for CSV and JSON Lines)."""
        request.validate()
        sent = 0
        for page in range(1, MAX_PAGE + 1):
            result = self.search(replace(request, page=page, per_page=MAX_PER_PAGE))
            for row in result["results"]:
                if limit is not None and sent >= limit:
                    return
                row.pop("snippet", None)
                yield row
                sent += 1
            if page * MAX_PER_PAGE >= result["total"]:
                return

    def record_citation(self, sha256: str, ids: list[str]) -> bool:
        """Records a cited set on the primary (searches are read-only sessions)."""
        with self._primary() as conn:
            conn.execute(
                "INSERT INTO citations (sha256, stories, ids) VALUES (%s, %s, %s) "
                "ON CONFLICT (sha256) DO NOTHING",
                (sha256, len(ids), cite.pack(ids)),
            )
        return True

    def cited_ids(self, sha256: str) -> list[str] | None:
        """The ids cited under `sha256`, or None when this index never recorded them."""
        with self._reader() as conn:
            row = conn.execute("SELECT ids FROM citations WHERE sha256 = %s", (sha256,)).fetchone()
        return cite.unpack(row[0]) if row else None

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        """All stored fields of one article, for the article view (None when unknown)."""
        with self._reader() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            row = cur.execute(_DOCUMENT, (doc_id,)).fetchone()
        if row is None:
            return None
        row["text"] = row.pop("body")
        row["published"] = row["published"] or ""
        return dict(row)

    def doc_count(self) -> int:
        with self._reader() as conn:
            row = conn.execute("SELECT count(*) FROM documents").fetchone()
            return int(row[0]) if row else 0

    def generation(self) -> int:
        """A number that grows with every committed write run (for caches and `LiveIndex`)."""
        with self._reader() as conn:
            row = conn.execute("SELECT generation FROM index_state").fetchone()
            return int(row[0]) if row else 0

    def stats(self) -> dict[str, Any]:
        """Documents and generation (the size of a database is the database's business)."""
        return {
            "path": where(self.url),
            "backend": "postgresql",
            "exists": True,
            "documents": self.doc_count(),
            "bytes": 0,
            "generation": self.generation(),
        }

    def close(self) -> None:
        for pool in getattr(self, "_pools", ()):
            pool.close()
        self._pools = []

    def __enter__(self) -> PostgresIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- connections ----------------------------------------------------------------------------

    @contextmanager
    def _primary(self) -> Iterator[psycopg.Connection]:
        """A connection to the primary for one write run or migration.

        Writes are one run at a time (and rare), so they need no pool; the connection says
        who it is in pg_stat_activity.
        """
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=int(CONNECT_TIMEOUT),
                **_default_name(self.url, "innosearch-write"),
            )
        except psycopg.OperationalError as e:
            raise IndexAccessError(
                f"cannot connect to PostgreSQL at {where(self.url)}: {_first_line(e)}"
            ) from None
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _reader(self) -> Iterator[psycopg.Connection]:
        """A pooled search connection: the next read URL in turn (or the primary's pool)."""
        if not self._pools:
            raise IndexAccessError("the PostgreSQL index is closed")
        with self._turn_lock:
            pool = self._pools[next(self._turn) % len(self._pools)]
        try:
            with pool.connection(timeout=CONNECT_TIMEOUT) as conn:
                yield conn
        except PoolTimeout:
            raise IndexAccessError(
                f"no connection to PostgreSQL at {where(pool.conninfo)} within "
                f"{CONNECT_TIMEOUT:.0f} s"
            ) from None
        except psycopg.OperationalError as e:
            raise IndexAccessError(
                f"lost the connection to PostgreSQL at {where(pool.conninfo)}: {_first_line(e)}"
            ) from None


def _search_pool(url: str, number: int, size: int) -> ConnectionPool:
    """A pool of read-only sessions with a statement timeout; waits for its first connection
    so a wrong URL fails when the index is opened, not at the first search."""
    try:
        options = psycopg.conninfo.conninfo_to_dict(url).get("options") or ""
    except psycopg.ProgrammingError as e:
        raise IndexAccessError(f"unreadable PostgreSQL URL: {_first_line(e)}") from None
    options = (
        f"{options} -c default_transaction_read_only=on -c statement_timeout={SEARCH_TIMEOUT_MS}"
        f" -c work_mem={SEARCH_WORK_MEM}"
    ).strip()
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max(1, size),
        kwargs={"autocommit": True, "options": options, **_default_name(url, "innosearch-search")},
        name=f"innosearch-search-{number}",
        timeout=CONNECT_TIMEOUT,
        open=False,
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT)
    except PoolTimeout:
        pool.close()
        raise IndexAccessError(
            f"cannot connect to PostgreSQL at {where(url)} (for searches) within "
            f"{CONNECT_TIMEOUT:.0f} s"
        ) from None
    return pool


def _default_name(url: str, name: str) -> dict[str, str]:
    """application_name for pg_stat_activity, unless the URL sets its own."""
    if psycopg.conninfo.conninfo_to_dict(url).get("application_name"):
        return {}
    return {"application_name": name}


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
