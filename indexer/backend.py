"""The two index backends behind one interface: an embedded Whoosh directory (the default) or a
shared PostgreSQL database.

`--index` (and `index_dir` / `INNOSEARCH_INDEX_DIR`) takes either a directory or a
`postgresql://` URL; `open_backend` returns an object with the same methods for both, so the
command line and the web app never ask which one they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from indexer.document import IndexSummary, Item, Progress
from indexer.postgres.index import PostgresIndex
from indexer.request import SearchRequest
from indexer.target import is_postgres_url
from indexer.whoosh.live import LiveIndex
from indexer.whoosh.search import export_rows, get_document, search, timeline
from indexer.whoosh.write import (
    index_from_store,
    rebuild_from_store,
    write_items,
)


class Backend(Protocol):
    """What callers may do with an index, whichever engine holds it."""

    def search(self, request: SearchRequest) -> dict[str, Any]: ...
    def timeline(self, request: SearchRequest) -> dict[str, Any]: ...
    def export_rows(
        self, request: SearchRequest, limit: int | None = None
    ) -> Iterator[dict[str, Any]]: ...
    def get_document(self, doc_id: str) -> dict[str, Any] | None: ...
    def doc_count(self) -> int: ...
    def generation(self) -> int: ...
    def write(self, items: Iterable[Item], progress: Progress | None = None) -> IndexSummary: ...
    def index_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary: ...
    def rebuild_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary: ...
    def close(self) -> None: ...


class WhooshIndex:
    """The embedded index in a directory: searches through a `LiveIndex` (one searcher per
    thread, refreshed on each commit), writes through `indexer.whoosh.write` (the one writer)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.live = LiveIndex(self.path)

    def search(self, request: SearchRequest) -> dict[str, Any]:
        return search(self.live, request)

    def timeline(self, request: SearchRequest) -> dict[str, Any]:
        return timeline(self.live, request)

    def export_rows(
        self, request: SearchRequest, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        return export_rows(self.live, request, limit)

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        return get_document(self.live, doc_id)

    def doc_count(self) -> int:
        return int(self.live.run(lambda s: s.doc_count()))

    def generation(self) -> int:
        return self.live.generation()

    def write(self, items: Iterable[Item], progress: Progress | None = None) -> IndexSummary:
        return write_items(self.path, items, progress)

    def index_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary:
        return index_from_store(self.path, store, progress)

    def rebuild_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary:
        return rebuild_from_store(self.path, store, progress)

    def close(self) -> None:
        self.live.close()


def open_backend(
    target: str | Path, read_urls: Sequence[str] = (), *, writable: bool = False
) -> WhooshIndex | PostgresIndex:
    """The index at `target`: a `postgresql://` URL (searches on `read_urls` when given) or a
    directory.

    Only a process that writes (`innosearch index`, `recrawl`, `worker`, `migrate`) opens it
    `writable`, which upgrades an older PostgreSQL schema; the web app and searches never
    change a schema, and an index that needs upgrading tells them which command does it.
    """
    if is_postgres_url(target):
        return PostgresIndex(str(target), read_urls, migrate_schema=writable)
    return WhooshIndex(target)
