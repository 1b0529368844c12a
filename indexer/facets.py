"""Facets: the values each document carries, and counts over a set of matching documents.

Whoosh's own `groupedby` rebuilds its document-to-values lists on every query (see
../shared/WHOOSH.md), so here each facet value's documents are read from the postings once per
index generation and kept; counting is then a set intersection per value.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def count(values: dict[str, DocSet], docs: DocSet | set[int], facet: Facet) -> dict[str, int]:
    """Counts per value within `docs`, most frequent first (years newest first)."""
    counts = {v: n for v, ds in values.items() if (n := len(ds & docs))}
    if facet.numeric:
        return dict(sorted(counts.items(), key=lambda kv: kv[0], reverse=True))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
