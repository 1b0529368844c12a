"""Writing the index: the only module that opens a Whoosh writer.

Whoosh allows one writer at a time, so only the command line writes (never the web app). Each
run ends in one commit, the atomic step: a run that dies before it leaves the last committed
index searchable, and re-running it is harmless because documents are keyed by their id.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.fields import STORED
from whoosh.index import LockError

from crawler.article import Article
from indexer import enrich as enrichment
from indexer.document import IndexSummary, Item, Progress, to_document
from indexer.duplicates import DuplicateFinder, PrintStore, fingerprint
from indexer.errors import IndexAccessError
from indexer.whoosh.codec import FastW3Codec
from indexer.whoosh.schema import ADDED_IN_PLACE, SCHEMA_VERSION, make_schema
from indexer.whoosh.subwriters import SubWriterDied, WatchedMpWriter

STATE_FILE = "innosearch-state.json"


def open_index(index_dir: str | Path, create: bool = False) -> whoosh_index.Index:
    """Opens the index, or creates an empty one when `create` is set.

    The index object is bound to the version directory current at this moment (see
    `index_location`), so a rebuild swapping in another version never changes what it reads.
    """
    path = Path(index_dir)
    here = index_location(path)
    if whoosh_index.exists_in(here):
        return whoosh_index.open_dir(here)
    if not create:
        raise IndexAccessError(f"no index at {path}: build one with `innosearch index`")
    here = _new_version(path)
    here.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(here, make_schema())
    _write_state(here, _new_state())
    _point(path, here)
    return ix


# ---- where the index lives: a link swapped atomically -------------------------------------------
#
# The index directory (`index/` by default) holds `versions/<UTC time>/`, one Whoosh index each,
# and `current`, a symbolic link to the live version. A rebuild writes a new version beside the
# live one and swaps the link with rename(2), which replaces it in one step: every open() of
# `index/current/...` sees the old version or the new one, never nothing. Readers resolve the
# link once and keep reading their version (`LiveIndex` reopens when the target changes); old
# versions are removed after the swap (Linux keeps files that are still open readable until
# they are closed). Anything else in the directory (the repository's README) is left alone.

CURRENT = "current"
VERSIONS = "versions"


def index_location(index_dir: str | Path) -> Path:
    """The directory holding the live index: the target of `current`, or (an index written
    before versions) the directory itself."""
    link = Path(index_dir) / CURRENT
    return Path(os.path.realpath(link)) if link.is_symlink() else Path(index_dir)


def versions_dir(index_dir: str | Path) -> Path:
    return Path(index_dir) / VERSIONS


def remove_index(index_dir: str | Path) -> None:
    """Deletes an index: its link, its versions and any index files written before versions."""
    path = Path(index_dir)
    (path / CURRENT).unlink(missing_ok=True)
    shutil.rmtree(versions_dir(path), ignore_errors=True)
    _remove_unversioned(path)


def _remove_unversioned(index_dir: Path) -> None:
    """Removes the files of an index written directly into the directory (before versions)."""
    for entry in index_dir.iterdir() if index_dir.is_dir() else ():
        if entry.is_file() and (
            entry.name.startswith(("_MAIN_", "MAIN_", "_dummy", PrintStore.FILE))
            or entry.name == STATE_FILE
        ):
            entry.unlink(missing_ok=True)


def _new_version(index_dir: Path) -> Path:
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    return versions_dir(index_dir) / stamp


def _point(index_dir: Path, target: Path) -> None:
    """Points `index_dir/current` at `target` in one atomic step (rename over the old link)."""
    link = index_dir / CURRENT
    tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, index_dir), tmp)
    os.replace(tmp, link)


def _remove_old_versions(index_dir: Path, keep: Path) -> None:
    versions = versions_dir(index_dir)
    for entry in versions.iterdir() if versions.is_dir() else ():
        if entry.name != keep.name:
            shutil.rmtree(entry, ignore_errors=True)
    for leftover in index_dir.glob(f".{CURRENT}.*.tmp"):
        leftover.unlink(missing_ok=True)
    _remove_unversioned(index_dir)


def index_articles(
    index_dir: str | Path, articles: Iterable[Article], progress: Progress | None = None
) -> IndexSummary:
    """Adds or replaces the given articles (by id) in one commit."""
    return write_items(index_dir, ((a, None, None, False) for a in articles), progress)


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
    summary = write_items(path, items, progress)
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
        whoosh_index.create_in(fresh, make_schema()).close()
        _write_state(fresh, _new_state())
        summary = index_from_store(fresh, store, progress)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _point(live, fresh)  # the atomic step: searches move from the old version to this one
    _remove_old_versions(live, keep=fresh)
    return summary


def write_items(
    index_dir: str | Path,
    items: Iterable[Item],
    progress: Progress | None,
) -> IndexSummary:
    started = time.monotonic()
    ix = open_index(index_dir, create=True)
    here = index_location(index_dir)
    state = _read_state(here)
    version = int(state.get("schema_version", 0))
    schema = make_schema()
    missing = set(schema.names()) - set(ix.schema.names())
    # A stored-only field (site_name), or one no query searches (ADDED_IN_PLACE), is added to
    # an older index in place: its documents simply lack it until they are written again. A
    # searched field needs a rebuild.
    addable = sorted(
        name for name in missing if type(schema[name]) is STORED or name in ADDED_IN_PLACE
    )
    if missing - set(addable) or (version < SCHEMA_VERSION and ix.doc_count_all()):
        ix.close()
        raise IndexAccessError(
            f"the index at {index_dir} was built by an older innosearch (format {version}, "
            f"this one writes {SCHEMA_VERSION}): run `innosearch index --rebuild`, or index "
            "into a new directory"
        )
    if state.get("enrichment") != enrichment.version() and ix.doc_count_all():
        ix.close()
        raise IndexAccessError(
            f"the index at {index_dir} was enriched with other facet data (the chain model or "
            "a file in indexer/enrich/data changed since): run `innosearch index --rebuild`, or "
            "index into a new directory"
        )
    items, bulk = _bulk(ix, items)
    bulk = bulk and not addable  # sub-writers take the schema of the last commit
    cleanup = contextlib.ExitStack()
    if bulk:
        enrichment.enrich("", "", None)  # loaded once, before the sub-writers fork
        cleanup.enter_context(_fewer_collections())
    try:
        writer = WatchedMpWriter(ix, **_BULK_WRITER) if bulk else ix.writer(**_WRITER)
    except LockError:
        cleanup.close()
        ix.close()
        raise IndexAccessError(f"another process is writing the index at {index_dir}") from None
    for name in addable:
        writer.add_field(name, schema[name])
    summary = IndexSummary()
    prints = PrintStore(here)
    duplicates = DuplicateFinder(prints)
    # Whoosh cannot replace a document added in the same run, so an id that comes again
    # (a JSON lines file that repeats a record) is held back and written after the commit,
    # where it replaces the first: the last version wins, as with the PostgreSQL backend.
    seen: set[str] = set()
    again: dict[str, Item] = {}
    try:
        for item in items:
            article, fetched_at, status, gone = item
            if article.id in seen:
                again[article.id] = item
                continue
            seen.add(article.id)
            if gone:
                summary.removed += writer.delete_by_term("id", article.id)
                duplicates.remove(article.id)
                continue
            dup = duplicates.group(article.id, fingerprint(article.text))
            if bulk:  # into an empty index: nothing to replace (repeats are handled below)
                writer.add_article(article, fetched_at, status, dup)
            else:
                writer.update_document(**to_document(article, fetched_at, status), dup=dup)
            summary.added += 1
            if progress and summary.added % 500 == 0:
                progress(summary.added)
        # The prints are written (not committed) while the sub-writers write their segments,
        # instead of after them on one core (1.4 s of a 43 s build of 25,000 articles).
        prints.write()
        writer.commit()
        prints.commit()  # after the index: see PrintStore
        if state.get("enrichment") != enrichment.version():  # was empty: now built with this
            _write_state(here, {**_read_state(here), "enrichment": enrichment.version()})
    except SubWriterDied as e:
        writer.cancel()
        raise IndexAccessError(str(e)) from None
    except BaseException:
        writer.cancel()
        raise
    finally:
        cleanup.close()
        prints.close()
        summary.total = ix.doc_count()
        ix.close()
    if again:
        replaced = write_items(index_dir, again.values(), None)
        summary.removed += replaced.removed
        summary.total = replaced.total
    summary.seconds = time.monotonic() - started
    return summary


# A build into an empty index of at least BULK_MIN articles (`index --from-jsonl`, `--rebuild`)
# writes with one Whoosh sub-writer process per core, each making its own segment, kept as is
# (no final merge): on this 2-core machine 1.8x the articles per second of one writer (see
# bench/speed.py), because Whoosh's analysis and posting writing are pure Python. Smaller runs
# and updates of a live index keep one writer: starting processes would cost more than it saves.
#
# Segments are written as separate files, not one compound file: a searcher on a compound file
# maps and keeps it whole (about 290 MB per searcher at 50,000 articles, ../shared/WHOOSH.md), and
# the server keeps one searcher per thread, so its peak memory grew with its threads.
#
# Each sub-writer holds its postings in memory by term up to `limitmb` (about 90 bytes a
# posting, about 140 an article since common words are indexed; indexer/whoosh/segment.py);
# there it finishes its segment and starts another (indexer/whoosh/subwriters.py), so a build
# of any size stays within the limit.
# Every segment is one more for each search to open and read, so the limit is as large as the
# machine allows: all sub-writers together a fifth of its memory, each between 256 MB and 2 GB
# (on this 23 GB machine 2 GB: about 172,000 articles of bench/corpus.py a segment at 032ffe5,
# so a build of 25,000 writes one segment a sub-writer and a million six; docs/scaling.md).
BULK_MIN = 2000
_PROCS = max(2, os.cpu_count() or 2)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cycle collector, left at its default, runs every 700 allocations and walks
    the young objects each time; a bulk build allocates millions (tokens, postings) that form
    few cycles. For the build, what the process already holds (modules, the chain model) is
    frozen out of the collector and the first generation collects every 50,000 allocations;
    the sub-writers, forked meanwhile, inherit both. 856 -> 904 articles/s for the whole
    `index --from-jsonl` of 25,000 (bench/speed.py --load-only, load 0.8-1.3), peak memory the
    same (395 MB). A long-running process (schedule, worker) gets its settings back after."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _pool_mb(procs: int) -> int:
    try:
        total_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError):
        return 512
    return max(256, min(2048, total_mb // (5 * procs)))


_WRITER: dict[str, Any] = {"limitmb": 256, "compound": False, "codec": FastW3Codec()}
_BULK_WRITER: dict[str, Any] = {
    "codec": FastW3Codec(),
    "procs": _PROCS,
    "multisegment": True,
    "limitmb": _pool_mb(_PROCS),
    "batchsize": 200,
    "compound": False,
}


def _bulk(ix: whoosh_index.Index, items: Iterable[Item]) -> tuple[Iterable[Item], bool]:
    """The items (unchanged), and whether this run is a bulk build (see BULK_MIN)."""
    if ix.doc_count_all():
        return items, False
    iterator = iter(items)
    head = list(itertools.islice(iterator, BULK_MIN))
    return itertools.chain(head, iterator), len(head) >= BULK_MIN


def _new_state() -> dict[str, Any]:
    """The state of an empty index: its format, no crawl-store change taken, and the version
    of the enrichment data its facets come from (see `indexer.enrich.version`)."""
    return {"schema_version": SCHEMA_VERSION, "store_seq": 0, "enrichment": enrichment.version()}


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
