"""Writing the index: the only module that opens a Whoosh writer.

Whoosh allows one writer at a time, so only the command line writes (never the web app). Each
run ends in one commit, the atomic step: a run that dies before it leaves the last committed
index searchable, and re-running it is harmless because documents are keyed by their id.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import LockError

from crawler.article import Article
from indexer.enrich import enrich
from indexer.schema import SCHEMA_VERSION, make_schema

STATE_FILE = "innosearch-state.json"


class IndexAccessError(RuntimeError):
    """An index problem to report to the user as one line (missing, locked, wrong version)."""


@dataclass
class IndexSummary:
    added: int = 0
    removed: int = 0
    total: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.added / self.seconds if self.seconds else 0.0


Progress = Callable[[int], None]


def open_index(index_dir: str | Path, create: bool = False) -> whoosh_index.Index:
    """Opens the index, or creates an empty one when `create` is set."""
    path = Path(index_dir)
    if whoosh_index.exists_in(path):
        return whoosh_index.open_dir(path)
    if not create:
        raise IndexAccessError(f"no index at {path}: build one with `innosearch index`")
    path.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(path, make_schema())
    _write_state(path, {"schema_version": SCHEMA_VERSION, "store_seq": 0})
    return ix


def to_document(
    article: Article, fetched_at: str | None = None, http_status: int | None = None
) -> dict[str, Any]:
    """Turns an article into the fields of one index document, enriching it on the way."""
    facets = enrich(article.title, article.text, article.published)
    published = article.published or ""
    doc: dict[str, Any] = {
        "id": article.id,
        "url": article.canonical_url or article.url,
        "site": article.site,
        "title": article.title,
        "text": article.text,
        "published": published,
        "chains": ",".join(facets.chains),
        "countries": ",".join(facets.countries),
        "authors": list(article.authors),
        "language": article.language or "",
        "evidence": facets.evidence,
        "fetched_at": fetched_at or "",
        "http_status": http_status,
        "extraction_method": article.extraction_method,
    }
    if facets.year:
        doc["year"] = str(facets.year)
    if published[:10].replace("-", "").isdigit() and len(published) >= 10:
        doc["pubday"] = int(published[:10].replace("-", ""))
    return doc


def index_articles(
    index_dir: str | Path, articles: Iterable[Article], progress: Progress | None = None
) -> IndexSummary:
    """Adds or replaces the given articles (by id) in one commit."""
    return _write(index_dir, ((a, None, None, False) for a in articles), progress)


def index_from_store(
    index_dir: str | Path, store: Any, progress: Progress | None = None
) -> IndexSummary:
    """Brings the index up to date with the crawl store: new, changed and gone articles.

    The store numbers every change (`seq`); the index remembers the last one it took, so each
    run reads only what changed since.
    """
    path = Path(index_dir)
    open_index(path, create=True).close()
    since = int(_read_state(path).get("store_seq", 0))
    last = store.max_seq()
    items = ((s.article, s.fetched_at, s.http_status, s.gone) for s in store.articles_since(since))
    summary = _write(path, items, progress)
    state = _read_state(path)
    state["store_seq"] = last
    _write_state(path, state)
    return summary


def rebuild_from_store(
    index_dir: str | Path, store: Any, progress: Progress | None = None
) -> IndexSummary:
    """Builds a fresh index beside the live one, then swaps it in.

    Needed when the schema or the taxonomy data changes; searches keep using the old index
    until the swap.
    """
    live = Path(index_dir)
    fresh = live.with_name(live.name + ".rebuild")
    shutil.rmtree(fresh, ignore_errors=True)
    summary = index_from_store(fresh, store, progress)
    old = live.with_name(live.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if live.exists():
        live.rename(old)
    fresh.rename(live)
    shutil.rmtree(old, ignore_errors=True)
    return summary


def _write(
    index_dir: str | Path,
    items: Iterable[tuple[Article, str | None, int | None, bool]],
    progress: Progress | None,
) -> IndexSummary:
    started = time.monotonic()
    ix = open_index(index_dir, create=True)
    try:
        writer = ix.writer(limitmb=256)
    except LockError:
        ix.close()
        raise IndexAccessError(f"another process is writing the index at {index_dir}") from None
    summary = IndexSummary()
    try:
        for article, fetched_at, status, gone in items:
            if gone:
                summary.removed += writer.delete_by_term("id", article.id)
                continue
            writer.update_document(**to_document(article, fetched_at, status))
            summary.added += 1
            if progress and summary.added % 500 == 0:
                progress(summary.added)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        summary.total = ix.doc_count()
        ix.close()
    summary.seconds = time.monotonic() - started
    return summary


def _read_state(index_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((index_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_state(index_dir: Path, state: dict[str, Any]) -> None:
    """Writes the state file atomically: a crash leaves the old one or the new one."""
    tmp = index_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, index_dir / STATE_FILE)
