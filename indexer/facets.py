"""Facets: the values each document carries, and counts over a set of matching documents.

Whoosh's own `groupedby` rebuilds its document-to-values lists on every query (see
../shared/WHOOSH.md), so here each facet value's documents are read from the postings once per
index generation and kept; counting is then a set intersection per value.
"""

from __future__ import annotations

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


def read_values(searcher: Searcher, facet: Facet) -> dict[str, DocSet]:
    """For one facet, value -> the set of (live) document numbers carrying it."""
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
