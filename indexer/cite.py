"""Citable result sets: a search's stories fingerprinted, recorded, and checked again later.

The fingerprint is the SHA-256 of the sorted ids of the matching stories (copies of one story
collapsed, as the search counts them), each id followed by a line feed, in UTF-8: anyone can
recompute it from an export (`jq -r .id export.jsonl | LC_ALL=C sort | sha256sum`).

A fingerprint says whether a set is the same, not how it changed; so a citation also records
its ids, keyed by the fingerprint (content-addressed: citing the same set twice records it
once), in the index's citation store: `citations.sqlite` beside a Whoosh index (it outlives
`--rebuild`, which replaces the index's folder), the `citations` table of a PostgreSQL one.
Opening a citation later compares the stories the same search gives now with the recorded
ones: exactly how many were added and removed, whatever happened to the index meanwhile
(re-crawls, deletions, rebuilds). A citation the store does not hold (made on another server)
is still checked by its fingerprint and count.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.request import SearchRequest

SHA256_HEX = 64


def fingerprint(ids: Iterable[str]) -> str:
    """The SHA-256 (hex) of the sorted ids, each followed by a line feed."""
    digest = hashlib.sha256()
    for doc_id in sorted(ids):
        digest.update(doc_id.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def now() -> str:
    """The time of a citation: UTC to the second, as ISO 8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def citation(
    request: SearchRequest, ids: list[str], generation: int, backend: str
) -> dict[str, Any]:
    """What a citation states: the search, the index version and time, the count, the hash."""
    return {
        "query": request.q,
        "any": request.any_word,
        "filters": request.filters,
        "country_all": request.country_all,
        "from": request.date_from.isoformat() if request.date_from else None,
        "to": request.date_to.isoformat() if request.date_to else None,
        "index": {"backend": backend, "generation": generation},
        "cited_at": now(),
        "stories": len(ids),
        "sha256": fingerprint(ids),
    }


def compare(
    ids: list[str], sha256: str, stories: int | None, cited: list[str] | None
) -> dict[str, Any]:
    """The same search now against a citation (its fingerprint and count, and its recorded
    ids when the store holds them): the same set, or how many stories were added and removed.
    Without the ids only the count tells, and then only the net change."""
    now_sha = fingerprint(ids)
    out: dict[str, Any] = {
        "same": now_sha == sha256,
        "stories_then": stories if cited is None else len(cited),
        "stories_now": len(ids),
        "recorded": cited is not None,
    }
    if cited is not None:
        current, then = set(ids), set(cited)
        out["added"], out["removed"] = len(current - then), len(then - current)
    elif out["same"]:
        out["added"] = out["removed"] = 0
    return out


def cite_search(index: Any, request: SearchRequest) -> tuple[dict[str, Any], list[str]]:
    """The citation of a search on `index` (a Backend) now, and its story ids."""
    ids = [story.id for story in index.stories(request)]
    return citation(request, ids, index.generation(), index.name), ids


def pack(ids: list[str]) -> bytes:
    """Sorted ids, compressed: story ids of one site share long prefixes."""
    return zlib.compress("\n".join(sorted(ids)).encode("utf-8", "surrogatepass"), 6)


def unpack(blob: bytes) -> list[str]:
    text = zlib.decompress(blob).decode("utf-8", "surrogatepass")
    return text.split("\n") if text else []


class CitationStore:
    """The citation store of a Whoosh index: a SQLite file beside the index's link, written by
    the web app and the command line (one short transaction a citation; WAL, so readers never
    wait). The index itself stays written by the command line only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, sha256: str, ids: list[str]) -> bool:
        """Records a cited set; False when the store cannot be written (a read-only folder):
        the citation still holds, it can only be checked by fingerprint and count."""
        try:
            with self._connect() as db, db:
                db.execute(
                    "INSERT OR IGNORE INTO citations (sha256, stories, ids, cited_at) "
                    "VALUES (?, ?, ?, ?)",
                    (sha256, len(ids), pack(ids), now()),
                )
            return True
        except sqlite3.Error:
            return False

    def ids(self, sha256: str) -> list[str] | None:
        """The ids cited under `sha256`, or None when this store never recorded them."""
        if not self.path.exists():
            return None
        try:
            with self._connect() as db:
                row = db.execute("SELECT ids FROM citations WHERE sha256 = ?", (sha256,)).fetchone()
        except sqlite3.Error:
            return None
        return unpack(row[0]) if row else None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS citations (sha256 TEXT PRIMARY KEY, "
                "stories INTEGER NOT NULL, ids BLOB NOT NULL, cited_at TEXT NOT NULL)"
            )
            yield db
        finally:
            db.close()
