"""A searchable index for a long-running process: opened once, refreshed on each new commit.

Whoosh readers see the generation they were opened on. Opening the index per request races the
indexer's commits (a `_MAIN_n.toc` vanishes under the opener), so each thread keeps one searcher
and swaps it when the index directory holds a newer generation or was replaced by a rebuild.

A rebuild swaps the index link to a new version directory (see `indexer.whoosh.write`). The index is
opened on the link's resolved target, never through the link, so an open index keeps reading
its own version; the next search notices the new target and reopens. When a rebuild removes the
old version under a searcher, the missing file is retried on the new one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from indexer.errors import IndexAccessError
from indexer.whoosh.write import index_location

T = TypeVar("T")

# Attempts, with a growing pause (10 ms, 20 ms, ...: about 0.5 s in all), before a missing file
# is reported: a busy machine can take that long to finish the commit that removed it.
_RETRIES = 10


class LiveIndex:
    """The index as seen by searches: `run(fn)` calls `fn(searcher)` on a current searcher."""

    def __init__(self, index_dir: str | Path) -> None:
        self.path = Path(index_dir)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ix: whoosh_index.Index | None = None
        self._ix_key: tuple[str, int, int] | None = None
        self._searchers: list[Searcher] = []

    def run(self, fn: Callable[[Searcher], T]) -> T:
        """Runs `fn` on an up-to-date searcher; retries when a commit removes a file under it."""
        for attempt in range(_RETRIES):
            try:
                return fn(self._searcher())
            except (OSError, whoosh_index.EmptyIndexError) as e:
                # EmptyIndexError: the version was removed by a rebuild just after we resolved
                # the link to it; the retry resolves the link again.
                if attempt == _RETRIES - 1 or not _is_missing_file(e):
                    raise
                self._drop_thread_searcher()
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def generation(self) -> int:
        return self.run(lambda s: s.reader().generation())

    def close(self) -> None:
        with self._lock:
            for s in self._searchers:
                s.close()
            self._searchers.clear()
            if self._ix is not None:
                self._ix.close()
            self._ix = None

    def _searcher(self) -> Searcher:
        ix = self._index()
        current: Searcher | None = getattr(self._local, "searcher", None)
        if current is not None and getattr(self._local, "ix", None) is ix and current.up_to_date():
            return current
        fresh = ix.searcher()
        try:
            _pin_column_files(fresh)
        except BaseException:
            fresh.close()
            raise
        self._drop_thread_searcher()
        self._local.searcher, self._local.ix = fresh, ix
        with self._lock:
            self._searchers.append(fresh)
        return fresh

    def _index(self) -> whoosh_index.Index:
        """The index object, reopened when the link points at another version (a rebuild)."""
        for attempt in range(_RETRIES):
            try:
                return self._open_current()
            except (FileNotFoundError, IndexAccessError):
                # A version removed between resolving the link and opening it, or a plain
                # directory being migrated to a link: look again, then give up with the error.
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def _open_current(self) -> whoosh_index.Index:
        here = index_location(self.path)
        try:
            st = os.stat(here)
        except FileNotFoundError:
            raise IndexAccessError(
                f"no index at {self.path}: build one with `innosearch index`"
            ) from None
        key = (str(here), st.st_ino, st.st_dev)
        with self._lock:
            if self._ix is None or self._ix_key != key:
                if not whoosh_index.exists_in(here):
                    raise IndexAccessError(
                        f"no index at {self.path}: build one with `innosearch index`"
                    )
                # The old index object is not closed: other threads may still be searching it.
                self._ix, self._ix_key = whoosh_index.open_dir(here), key
            return self._ix

    def _drop_thread_searcher(self) -> None:
        old: Searcher | None = getattr(self._local, "searcher", None)
        if old is None:
            return
        self._local.searcher = None
        with self._lock:
            if old in self._searchers:
                self._searchers.remove(old)
        old.close()


def _pin_column_files(searcher: Searcher) -> None:
    """Opens every column file (stored fields, lengths, sort columns) of the searcher's
    segments now, instead of at first use as Whoosh does.

    A commit that merges segments deletes the old segments' files. Files a reader already holds
    open stay readable (POSIX keeps an unlinked file until it is closed), but Whoosh opens column
    files lazily and asks first whether they exist: a merge in between turns a document's stored
    fields into None (a 500 in the middle of a long export) and a missing `pubday` column into
    "undated". Opening them all here makes a searcher see its whole generation or fail at once
    with FileNotFoundError, which `LiveIndex.run` retries on the newer generation.
    """
    reader = searcher.reader()
    leaves = [leaf for leaf, _offset in reader.leaf_readers()]  # [(reader, 0)] when atomic
    for leaf in leaves:
        perdoc = getattr(leaf, "_perdoc", None)
        segment = getattr(leaf, "segment", lambda: None)()
        if perdoc is None or segment is None or not hasattr(perdoc, "_colfiles"):
            continue  # an empty index, or a codec without per-field column files
        prefix = segment.make_filename(".")
        names = [n for n in leaf._storage.list() if n.startswith(prefix) and n.endswith(".col")]
        fields = {n[len(prefix) : -len(".col")] for n in names}
        for field in sorted(fields, key=lambda f: f != "_stored"):
            if field not in perdoc._colfiles:
                perdoc._colfiles[field] = perdoc._get_column_file(field)
        # Answer "is there a column?" from what was pinned, not from the directory as it is now.
        perdoc.has_column = fields.__contains__


def _is_missing_file(error: Exception) -> bool:
    if isinstance(error, whoosh_index.EmptyIndexError | FileNotFoundError):
        return True
    return isinstance(error, OSError) and error.errno == 2
