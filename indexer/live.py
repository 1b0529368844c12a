"""A searchable index for a long-running process: opened once, refreshed on each new commit.

Whoosh readers see the generation they were opened on. Opening the index per request races the
indexer's commits (a `_MAIN_n.toc` vanishes under the opener), so each thread keeps one searcher
and swaps it when the index directory holds a newer generation or was replaced by a rebuild.
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

from indexer.write import IndexAccessError

T = TypeVar("T")

_RETRIES = 5


class LiveIndex:
    """The index as seen by searches: `run(fn)` calls `fn(searcher)` on a current searcher."""

    def __init__(self, index_dir: str | Path) -> None:
        self.path = Path(index_dir)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ix: whoosh_index.Index | None = None
        self._ix_key: tuple[int, int] | None = None
        self._searchers: list[Searcher] = []

    def run(self, fn: Callable[[Searcher], T]) -> T:
        """Runs `fn` on an up-to-date searcher; retries when a commit removes a file under it."""
        for attempt in range(_RETRIES):
            try:
                return fn(self._searcher())
            except (FileNotFoundError, OSError) as e:
                if attempt == _RETRIES - 1 or not _is_missing_file(e):
                    raise
                self._drop_thread_searcher()
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def generation(self) -> int:
        return self._searcher().reader().generation()

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
        self._drop_thread_searcher()
        self._local.searcher, self._local.ix = fresh, ix
        with self._lock:
            self._searchers.append(fresh)
        return fresh

    def _index(self) -> whoosh_index.Index:
        """The index object, reopened when the directory was swapped by a rebuild."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise IndexAccessError(f"no index at {self.path}") from None
        key = (st.st_ino, st.st_dev)
        with self._lock:
            if self._ix is None or self._ix_key != key:
                if not whoosh_index.exists_in(self.path):
                    raise IndexAccessError(
                        f"no index at {self.path}: build one with `innosearch index`"
                    )
                self._ix, self._ix_key = whoosh_index.open_dir(self.path), key
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


def _is_missing_file(error: OSError) -> bool:
    return isinstance(error, FileNotFoundError) or error.errno == 2
