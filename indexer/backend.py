"""The two index backends behind one interface: an embedded Whoosh directory (the default) or a
shared PostgreSQL database.

`--index` (and `index_dir` / `INNOSEARCH_INDEX_DIR`) takes either a directory or a
`postgresql://` URL; `open_backend` returns an object with the same methods for both, so the
command line and the web app never ask which one they hold.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from crawler.fetch import utc_now
from indexer.cite import CitationStore
from indexer.document import IndexSummary, Item, Progress, Story
from indexer.errors import IndexAccessError
from indexer.request import SearchRequest
from indexer.target import is_postgres_url
from indexer.whoosh.live import LiveIndex
from indexer.whoosh.search import (
    breakdown,
    export_rows,
    get_document,
    search,
    stories,
    timeline,
)
from indexer.whoosh.write import (
    index_from_store,
    index_location,
    rebuild_from_store,
    write_items,
)


class Backend(Protocol):
    """What callers may do with an index, whichever engine holds it."""

    name: str  # "whoosh" or "postgresql": what a citation names

    def search(self, request: SearchRequest) -> dict[str, Any]: ...
    def timeline(self, request: SearchRequest) -> dict[str, Any]: ...
    def breakdown(
        self, request: SearchRequest, facet: str
    ) -> dict[tuple[int, tuple[str, ...]], int]: ...
    def stories(self, request: SearchRequest) -> list[Story]: ...
    def export_rows(
        self, request: SearchRequest, limit: int | None = None
    ) -> Iterator[dict[str, Any]]: ...
    def get_document(self, doc_id: str) -> dict[str, Any] | None: ...
    def record_citation(self, sha256: str, ids: list[str]) -> bool: ...
    def cited_ids(self, sha256: str) -> list[str] | None: ...
    def doc_count(self) -> int: ...
    def generation(self) -> int: ...
    def stats(self) -> dict[str, Any]: ...
    def write(self, items: Iterable[Item], progress: Progress | None = None) -> IndexSummary: ...
    def index_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary: ...
    def rebuild_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary: ...
    def close(self) -> None: ...


class WhooshIndex:
    """The embedded index in a directory: searches through a `LiveIndex` (one searcher per
    thread, refreshed on each commit), writes through `indexer.whoosh.write` (the one writer)."""

    name = "whoosh"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.live = LiveIndex(self.path)
        # Beside the index's link, not in its version folder, which `--rebuild` replaces.
        self.citations = CitationStore(self.path.parent / f"{self.path.name}.citations.sqlite")

    def search(self, request: SearchRequest) -> dict[str, Any]:
        return search(self.live, request)

    def timeline(self, request: SearchRequest) -> dict[str, Any]:
        return timeline(self.live, request)

    def breakdown(
        self, request: SearchRequest, facet: str
    ) -> dict[tuple[int, tuple[str, ...]], int]:
        return breakdown(self.live, request, facet)

    def stories(self, request: SearchRequest) -> list[Story]:
        return stories(self.live, request)

    def export_rows(
        self, request: SearchRequest, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        return export_rows(self.live, request, limit)

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        return get_document(self.live, doc_id)

    def record_citation(self, sha256: str, ids: list[str]) -> bool:
        return self.citations.record(sha256, ids)

    def cited_ids(self, sha256: str) -> list[str] | None:
        return self.citations.ids(sha256)

    def doc_count(self) -> int:
        return int(self.live.run(lambda s: s.doc_count()))

    def generation(self) -> int:
        return self.live.generation()

    def stats(self) -> dict[str, Any]:
        """Documents, generation, bytes on disk, the version directory and the time (and age)
        of the last commit; "exists" False when there is no index yet. A commit or a rebuild
        happening meanwhile is retried by the LiveIndex, not reported as an error."""
        out: dict[str, Any] = {"path": str(self.path), "exists": False, "documents": 0, "bytes": 0}
        try:
            documents, generation = self.live.run(
                lambda s: (s.doc_count(), s.reader().generation())
            )
        except IndexAccessError:
            return out
        here = index_location(self.path)
        out.update(exists=True, documents=documents, generation=generation)
        if here != self.path:
            out["version"] = here.name
        files = _scan(here)
        out["bytes"] = sum(size for _name, size, _mtime in files)
        commits = [mtime for name, _size, mtime in files if name.endswith(".toc")]
        if commits:
            out["updated_at"] = utc_now(at=max(commits))
            out["age_hours"] = round((time.time() - max(commits)) / 3600, 2)
        return out

    def write(self, items: Iterable[Item], progress: Progress | None = None) -> IndexSummary:
        return write_items(self.path, items, progress)

    def index_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary:
        return index_from_store(self.path, store, progress)

    def rebuild_from_store(self, store: Any, progress: Progress | None = None) -> IndexSummary:
        return rebuild_from_store(self.path, store, progress)

    def close(self) -> None:
        self.live.close()


def _scan(folder: Path) -> list[tuple[str, int, float]]:
    """(name, size, mtime) of the files in `folder`, skipping any a commit removes meanwhile."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            st = entry.stat()
        except FileNotFoundError:
            continue
        if entry.is_file():
            found.append((entry.name, st.st_size, st.st_mtime))
    return found


def describe(target: str | Path) -> str:
    """How messages and `stats` name the index at `target`: its directory, or a PostgreSQL
    URL's host:port/dbname (never its password)."""
    if not is_postgres_url(target):
        return str(target)
    from indexer.postgres.index import where  # see open_backend

    return where(str(target))


def write_lock_file(target: str | Path) -> Path | None:
    """The file a writer of the index at `target` holds locked while it writes (a Whoosh
    directory takes one writer at a time), or None for PostgreSQL, where each write run is one
    transaction."""
    return None if is_postgres_url(target) else Path(target) / "write.lock"


def migrate(target: str | Path) -> str:
    """Creates or upgrades the schema of the index at `target` where it has one (`innosearch
    migrate`); says what it did."""
    if not is_postgres_url(target):
        return (
            f"{target}: a Whoosh index needs no migration (`innosearch index` refuses an older "
            "one and says to run `innosearch index --rebuild`)"
        )
    from indexer.postgres.index import PostgresIndex  # see open_backend
    from indexer.postgres.schema import SCHEMA_VERSION

    PostgresIndex(str(target), migrate_schema=True).close()
    return f"the PostgreSQL index is at schema version {SCHEMA_VERSION}"


def open_backend(
    target: str | Path,
    read_urls: Sequence[str] = (),
    *,
    writable: bool = False,
    site_names: Mapping[str, str] | None = None,
) -> Backend:
    """The index at `target`: a `postgresql://` URL (searches on `read_urls` when given) or a
    directory.

    Only a process that writes (`innosearch index`, `recrawl`, `worker`, `migrate`) opens it
    `writable`, which upgrades an older PostgreSQL schema; the web app and searches never
    change a schema, and an index that needs upgrading tells them which command does it.
    `site_names` (host -> name, from the configuration) name the sites in what it answers.

    The PostgreSQL backend is imported only here, for a URL: psycopg and its modules are a
    quarter of a second of every command's start, which a Whoosh index never needs.
    """
    if is_postgres_url(target):
        from indexer.postgres.index import PostgresIndex

        backend: Backend = PostgresIndex(str(target), read_urls, migrate_schema=writable)
    else:
        backend = WhooshIndex(target)
    return NamedSites(backend, site_names) if site_names else backend


class NamedSites:
    """A backend whose answers give each story's site the name the configuration gives it
    (`[[sites]]` `name`), over the one its pages declare (the index's `site_name`).

    Applied as the index is read rather than stored when it is written, so a name added or
    changed in innosearch.toml shows on every story at once, without re-indexing.
    """

    def __init__(self, backend: Backend, names: Mapping[str, str]) -> None:
        self.backend = backend
        self.names = dict(names)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.backend, attribute)

    def _named(self, row: dict[str, Any]) -> dict[str, Any]:
        for story in [row, *row.get("also", ())]:
            story["site_name"] = self.names.get(story.get("site", "")) or story.get("site_name")
        return row

    def search(self, request: SearchRequest) -> dict[str, Any]:
        result = self.backend.search(request)
        result["results"] = [self._named(row) for row in result["results"]]
        return result

    def export_rows(
        self, request: SearchRequest, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        return map(self._named, self.backend.export_rows(request, limit))

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        document = self.backend.get_document(doc_id)
        return document and self._named(document)
