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
from indexer.duplicates import DuplicateFinder, fingerprint
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
    """Opens the index, or creates an empty one when `create` is set.

    The index object is bound to the version directory current at this moment (see
    `index_location`), so a rebuild swapping in another version never changes what it reads.
    A new index is created as a link to a version directory, ready for atomic rebuilds; an
    existing empty directory is indexed in place (it becomes a link at its first rebuild).
    """
    path = Path(index_dir)
    here = index_location(path)
    if whoosh_index.exists_in(here):
        return whoosh_index.open_dir(here)
    if not create:
        raise IndexAccessError(f"no index at {path}: build one with `innosearch index`")
    if path.is_symlink() or not path.exists():
        here = _new_version(path)
    here.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(here, make_schema())
    _write_state(here, {"schema_version": SCHEMA_VERSION, "store_seq": 0})
    if here != path:
        _point(path, here)
    return ix


# ---- where the index lives: a link swapped atomically -------------------------------------------
#
# `index` is a symbolic link to `index.versions/<UTC time>`. A rebuild writes a new version beside
# the live one and swaps the link with rename(2), which replaces it in one step: every open()
# of `index/...` sees the old version or the new one, never nothing. Readers resolve the link once
# and keep reading their version (`LiveIndex` reopens when the target changes); old versions are
# removed after the swap (Linux keeps files that are still open readable until closed).

VERSIONS = ".versions"


def index_location(index_dir: str | Path) -> Path:
    """The directory holding the current index: the link's target, or the directory itself."""
    path = Path(index_dir)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def versions_dir(index_dir: str | Path) -> Path:
    path = Path(index_dir)
    return path.with_name(path.name + VERSIONS)


def remove_index(index_dir: str | Path) -> None:
    """Deletes an index: the link and all its versions, or a plain directory."""
    path = Path(index_dir)
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(versions_dir(path), ignore_errors=True)


def _new_version(index_dir: Path) -> Path:
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    return versions_dir(index_dir) / stamp


def _point(link: Path, target: Path) -> None:
    """Makes `link` point at `target` in one atomic step (a plain directory is migrated)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    if link.is_symlink() or not link.exists():
        os.replace(tmp, link)
        return
    # A plain directory from before versions: exchange it with the link in one step where the
    # kernel can (Linux renameat2), else move it aside first (a gap of microseconds).
    if not _exchange(tmp, link):
        os.rename(link, tmp.with_name(tmp.name + ".old"))
        os.rename(tmp, link)
        tmp = tmp.with_name(tmp.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two paths atomically with renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, bytes(a), at_fdcwd, bytes(b), rename_exchange)
    return done == 0


def _remove_old_versions(index_dir: Path, keep: Path) -> None:
    versions = versions_dir(index_dir)
    for entry in versions.iterdir() if versions.is_dir() else ():
        if entry.name != keep.name:
            shutil.rmtree(entry, ignore_errors=True)
    for leftover in index_dir.parent.glob(f".{index_dir.name}.*.tmp"):
        if leftover.is_symlink():
            leftover.unlink(missing_ok=True)


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
    path = index_location(path)  # the writes and the state file go to one version
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
    """Builds a fresh index beside the live one, then swaps it in atomically.

    Needed when the schema or the taxonomy data changes; searches keep using the old version
    until the swap and never see a moment without an index. Callers must not run two writes
    on one index at once (the CLI holds a lock beside the index for that).
    """
    live = Path(index_dir)
    fresh = _new_version(live)
    fresh.mkdir(parents=True)
    try:
        summary = index_from_store(fresh, store, progress)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _point(live, fresh)  # the atomic step: searches move from the old version to this one
    _remove_old_versions(live, keep=fresh)
    return summary


def _write(
    index_dir: str | Path,
    items: Iterable[tuple[Article, str | None, int | None, bool]],
    progress: Progress | None,
) -> IndexSummary:
    started = time.monotonic()
    ix = open_index(index_dir, create=True)
    missing = set(make_schema().names()) - set(ix.schema.names())
    if missing:
        ix.close()
        raise IndexAccessError(
            f"the index at {index_dir} was built by an older innosearch (it lacks "
            f"{', '.join(sorted(missing))}): run `innosearch index --rebuild`, or index "
            "into a new directory"
        )
    try:
        writer = ix.writer(limitmb=256)
    except LockError:
        ix.close()
        raise IndexAccessError(f"another process is writing the index at {index_dir}") from None
    summary = IndexSummary()
    searcher = ix.searcher()
    duplicates = DuplicateFinder(searcher)
    try:
        for article, fetched_at, status, gone in items:
            if gone:
                summary.removed += writer.delete_by_term("id", article.id)
                continue
            doc = to_document(article, fetched_at, status)
            print_ = fingerprint(article.text)
            doc["dup"] = duplicates.group(article.id, print_)
            if print_ is not None:
                doc["lsh"], doc["minhash"] = " ".join(print_.bands), print_.signature
            writer.update_document(**doc)
            summary.added += 1
            if progress and summary.added % 500 == 0:
                progress(summary.added)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        searcher.close()
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
