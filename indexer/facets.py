"""Facets: the values each document carries, and counts over a set of matching documents.

Whoosh's own `groupedby` rebuilds its document-to-values lists on every query (see
../shared/WHOOSH.md), so here each facet value's documents are read from the postings once per
index generation and kept; counting is then a set intersection per value.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from whoosh.reading import IndexReader
from whoosh.searching import Searcher


@dataclass(frozen=True)
class Facet:
    """One facet: its name in requests and responses, its index field, and how values show."""

    name: str
    field: str
    upper: bool = False  # country codes are indexed lower-case and shown upper-case
    numeric: bool = False  # years sort as numbers and are given as integers

    def display(self, term: str) -> str:
        return term.upper() if self.upper else term

    def term(self, value: str) -> str:
        return value.strip().lower()


FACETS: dict[str, Facet] = {
    f.name: f
    for f in (
        Facet("year", "year", numeric=True),
        Facet("chain", "chains"),
        Facet("country", "countries", upper=True),
    )
}

DocSet = frozenset[int]


class FacetCache:
    """For each facet, value -> the set of (live) document numbers carrying it.

    Kept per index state (generation and segments), so every thread's searcher on the same
    commit shares one copy, and a new commit or a swapped-in rebuild starts a new one.
    """

    KEEP = 4  # index states kept: the current one and a few that old searchers may still use

    def __init__(self) -> None:
        self._by_state: dict[tuple[object, ...], dict[str, dict[str, DocSet]]] = {}
        self._lock = threading.Lock()

    def values(self, searcher: Searcher, facet: Facet) -> dict[str, DocSet]:
        reader = searcher.reader()
        key = _state_key(reader)
        with self._lock:
            per_state = self._by_state.get(key)
            if per_state is None:
                while len(self._by_state) >= self.KEEP:
                    self._by_state.pop(next(iter(self._by_state)))
                per_state = self._by_state[key] = {}
            if facet.name not in per_state:
                per_state[facet.name] = _read_values(searcher, facet)
            return per_state[facet.name]


def _state_key(reader: IndexReader) -> tuple[object, ...]:
    leaves = [sub for sub, _offset in reader.leaf_readers()] if not reader.is_atomic() else [reader]
    segments = tuple(sorted(str(leaf.segment().segment_id()) for leaf in leaves if leaf.segment()))
    return (reader.generation(), segments)


def _read_values(searcher: Searcher, facet: Facet) -> dict[str, DocSet]:
    reader = searcher.reader()
    values: dict[str, DocSet] = {}
    if facet.field not in reader.indexed_field_names():
        return values
    for raw in reader.lexicon(facet.field):
        term = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        docs = frozenset(_postings(reader, facet.field, term))
        if docs:
            values[facet.display(term)] = docs
    return values


def _postings(reader: IndexReader, field: str, term: str) -> list[int]:
    """Document numbers carrying a term, across segments, without deleted documents."""
    if reader.is_atomic():
        return list(reader.postings(field, term).all_ids())
    ids: list[int] = []
    for sub, offset in reader.leaf_readers():
        if (field, term) in sub:
            ids.extend(d + offset for d in sub.postings(field, term).all_ids())
    return ids


def count(values: dict[str, DocSet], docs: DocSet | set[int], facet: Facet) -> dict[str, int]:
    """Counts per value within `docs`, most frequent first (years newest first)."""
    counts = {v: n for v, ds in values.items() if (n := len(ds & docs))}
    if facet.numeric:
        return dict(sorted(counts.items(), key=lambda kv: kv[0], reverse=True))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
