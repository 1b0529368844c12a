"""Writing the PostgreSQL index: one transaction per run, upserts by id, deletes for gone pages.

The same contract as the Whoosh writer (`indexer.whoosh.write.write_items`): each run is atomic
(searches see the last committed run until this one commits, and a run that dies leaves it
untouched), documents are keyed by id so re-running is harmless, and articles are enriched by the
same `to_document`. Near-duplicate groups use the same MinHash fingerprints and threshold; the LSH
band tokens are a text[] column with a GIN index, so finding candidates is one `&&` query per
batch of articles. A run sees its own uncommitted rows, so copies within one run group too.

Each group keeps exactly one row flagged `representative`: its original
(`indexer.duplicates.original`, the rule the Whoosh backend applies when it reads). After each
batch, and after deletes, the writer re-chooses the original of every group the run touched
(the groups of new and replaced rows, the groups replaced rows left, the groups of deleted rows)
and flips only the flags that change, in the same transaction: a search never sees a story
with no original or two.

One writer at a time: a transaction-scoped advisory lock refuses a second concurrent run with
a clear message, like Whoosh's write lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from crawler.article import Article
from indexer import enrich as enrichment
from indexer.document import IndexSummary, Item, Progress, to_document
from indexer.duplicates import Copy, Fingerprint, fingerprint, group_key, original
from indexer.errors import IndexAccessError
from indexer.postgres.schema import WRITE_LOCK

BATCH = 500  # articles per round of candidate lookup and upsert
ANALYZE_AFTER = 1000  # changes in one run from which the run refreshes the planner's statistics


_COLUMNS = (
    *("id", "url", "site", "site_name", "title", "body", "published", "pubday", "year"),
    *("chains", "countries", "authors", "language", "evidence", "fetched_at", "http_status"),
    *("extraction_method", "dup", "lsh", "minhash", "named", "representative"),
)
_UPSERT = (
    f"INSERT INTO documents ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "id")
)


def write_run(
    conn: psycopg.Connection,
    items: Iterable[Item],
    progress: Progress | None = None,
    store_seq: int | None = None,
    replace: bool = False,
) -> IndexSummary:
    """Applies one run of changes in one transaction and bumps the index generation.

    `store_seq` (the crawl store's last change) is recorded in the same transaction, so the
    next incremental run starts exactly where this committed one ended. `replace` empties the
    index first (a rebuild): readers keep seeing the old documents until the commit.
    """
    started = time.monotonic()
    summary = IndexSummary()
    with conn.transaction():
        row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (WRITE_LOCK,)).fetchone()
        if not row or not row[0]:
            raise IndexAccessError("another process is writing the PostgreSQL index")
        # The candidate lookup must use the GIN index on `lsh`: the planner knows nothing of the
        # rows this run has inserted so far (they are not analysed until committed) and would
        # scan every row, comparing each one's 16 bands with the thousands of a batch.
        conn.execute("SET LOCAL enable_seqscan = off")
        built = conn.execute(
            "SELECT enrichment, EXISTS (SELECT 1 FROM documents) FROM index_state"
        ).fetchone()
        if not replace and built and built[1] and built[0] != enrichment.version():
            raise IndexAccessError(
                "the PostgreSQL index was enriched with other facet data (the chain model or a "
                "file in indexer/enrich/data changed since): run `innosearch index --rebuild`"
            )
        if replace:
            conn.execute("DELETE FROM documents")
        batch = _Batch(conn)
        for article, fetched_at, status, gone in items:
            if gone:
                batch.flush()  # an earlier change to this article in the run comes first
                cur = conn.execute(
                    "DELETE FROM documents WHERE id = %s RETURNING dup", (article.id,)
                )
                summary.removed += cur.rowcount
                batch.touched.update(row[0] for row in cur.fetchall())
                continue
            batch.add(article, fetched_at, status)
            summary.added += 1
            if len(batch) >= BATCH:
                batch.flush()
            if progress and summary.added % 500 == 0:
                progress(summary.added)
        batch.flush()
        if summary.added + summary.removed >= ANALYZE_AFTER:
            # Fresh statistics in the same commit, so the first searches after a big run are
            # planned for the index as it now is (ANALYZE sees this transaction's own rows).
            conn.execute("ANALYZE documents")
        conn.execute(
            "UPDATE index_state SET generation = generation + 1, "
            "store_seq = COALESCE(%s, store_seq), written_at = now(), enrichment = %s",
            (store_seq, enrichment.version()),
        )
        total = conn.execute("SELECT count(*) FROM documents").fetchone()
        summary.total = int(total[0]) if total else 0
    summary.seconds = time.monotonic() - started
    return summary


class _Batch:
    """Articles waiting to be grouped and upserted together."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.pending: list[tuple[dict[str, Any], Fingerprint | None]] = []
        self.touched: set[str] = set()  # groups whose original must be chosen again

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, article: Article, fetched_at: str | None, status: int | None) -> None:
        self.pending.append((to_document(article, fetched_at, status), fingerprint(article.text)))

    def flush(self) -> None:
        """Groups and upserts the pending articles, then settles the groups touched so far."""
        if self.pending:
            self._upsert()
        self._settle()

    def _upsert(self) -> None:
        ids = [doc["id"] for doc, _ in self.pending]
        left = self.conn.execute("SELECT dup FROM documents WHERE id = ANY(%s)", (ids,))
        self.touched.update(row[0] for row in left.fetchall())
        known = self._candidates()
        rows = []
        for doc, print_ in self.pending:
            key = (
                doc["id"]
                if print_ is None
                else group_key(doc["id"], print_, _candidates(print_, known))
            )
            if print_ is not None:
                entry = (doc["id"], print_.signature, key)
                for band in print_.bands:
                    # Newest first: a later version of an article replaces what the index held.
                    known.setdefault(band, []).insert(0, entry)
            rows.append(_row(doc, key, print_))
            self.touched.add(key)
        self.conn.cursor().executemany(_UPSERT, rows)
        self.pending.clear()

    def _settle(self) -> None:
        """Flags the original of each touched group, and only it (one query to read the
        groups, one to flip the flags that change; a new article with no copy is written
        flagged and changes nothing)."""
        if not self.touched:
            return
        rows = self.conn.execute(
            "SELECT id, dup, url, named, pubday, representative FROM documents WHERE dup = ANY(%s)",
            (sorted(self.touched),),
        ).fetchall()
        self.touched.clear()
        groups: dict[str, dict[Copy, bool]] = {}
        for doc_id, key, url, named, day, flagged in rows:
            number = day.year * 10000 + day.month * 100 + day.day if day else 0
            groups.setdefault(key, {})[Copy(doc_id, key, url, named, number)] = flagged
        flip = [
            copy.id
            for members in groups.values()
            for first in [original(list(members))]
            for copy, flagged in members.items()
            if flagged != (copy is first)
        ]
        if flip:
            self.conn.execute(
                "UPDATE documents SET representative = NOT representative WHERE id = ANY(%s)",
                (flip,),
            )

    def _candidates(self) -> dict[str, list[tuple[str, bytes, str]]]:
        """Indexed articles sharing a band with any pending one: band -> (id, signature, key)."""
        bands = sorted({b for _, p in self.pending if p is not None for b in p.bands})
        known: dict[str, list[tuple[str, bytes, str]]] = {}
        if not bands:
            return known
        rows = self.conn.execute(
            "SELECT id, minhash, dup, lsh FROM documents WHERE lsh && %s AND minhash IS NOT NULL",
            (bands,),
        ).fetchall()
        for doc_id, signature, dup, lsh in rows:
            for band in lsh:
                known.setdefault(band, []).append((doc_id, bytes(signature), dup or doc_id))
        return known


def _candidates(print_: Fingerprint, known: dict[str, Any]) -> Iterator[tuple[str, bytes, str]]:
    """The known articles sharing a band with `print_`, each once."""
    seen: set[str] = set()
    for band in print_.bands:
        for candidate in known.get(band, ()):
            if candidate[0] not in seen:
                seen.add(candidate[0])
                yield candidate


def _row(doc: dict[str, Any], key: str, print_: Fingerprint | None) -> tuple[Any, ...]:
    """The documents row of one enriched article (PostgreSQL text cannot hold NUL: dropped)."""
    pubday = None
    if doc.get("pubday"):
        day = int(doc["pubday"])
        try:
            pubday = date(day // 10000, day // 100 % 100, day % 100)
        except ValueError:
            pubday = None
    values = {
        **doc,
        "body": doc["text"],
        "site_name": doc["site_name"] or None,
        "published": doc["published"] or None,
        "pubday": pubday,
        "year": int(doc["year"]) if doc.get("year") else None,
        "chains": [c for c in doc["chains"].split(",") if c],
        "countries": [c.upper() for c in doc["countries"].split(",") if c],
        "authors": Jsonb(_clean(doc["authors"])),
        "evidence": Jsonb(_clean(doc["evidence"])),
        "dup": key,
        "lsh": list(print_.bands) if print_ else [],
        "minhash": print_.signature if print_ else None,
        "named": doc.get("named", ""),
        # A first copy stands for its story until another copy is settled as the original.
        "representative": key == doc["id"],
    }
    return tuple(
        _clean(values[c]) if c not in ("authors", "evidence") else values[c] for c in _COLUMNS
    )


def _clean(value: Any) -> Any:
    """Drops NUL characters, which neither text nor jsonb accepts, from nested strings."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value
