"""The Whoosh schema: which fields exist, and which are searched, stored, sortable or unique.

The schema fixes facet and update behaviour up front: `id` is unique so re-crawls replace
documents in place; the facet fields are keywords whose postings give each value's documents;
`pubday` is a sortable integer column for date sorting and range filters.
"""

from __future__ import annotations

from math import log

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.scoring import BM25F

from indexer.whoosh.analysis import EnglishAnalyzer, FastPositions

# Bump when the schema or the enrichment changes in a way that needs `index --rebuild`.
SCHEMA_VERSION = 5
# Fields an index built before them takes in place, besides the stored-only ones (its documents
# simply lack them until written again): `named`, which no query searches.
ADDED_IN_PLACE = frozenset({"named"})


class BM25(BM25F):
    """Whoosh's BM25F with Lucene's idf, log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's own idf, log(N / (n + 1)) + 1, adds a constant 1 that flattens the difference
    between rare and common words; on long natural-language queries that cost 0.01 MAP.
    k1 = 1.2 and b = 0.4 (length normalisation milder than the textbook 0.75, as Anserini
    uses) were chosen on both collections together: CACM 0.340, NPL 0.293.
    """

    def __init__(self, B: float = 0.4, K1: float = 1.2, **field_b: float) -> None:
        super().__init__(B=B, K1=K1, **field_b)

    def idf(self, searcher: object, fieldname: str, text: bytes) -> float:
        parent = searcher.get_parent()  # type: ignore[attr-defined]
        df = parent.doc_frequency(fieldname, text)
        n = parent.doc_count_all()
        return log(1 + (n - df + 0.5) / (df + 0.5))


# The scoring every search uses (see indexer/whoosh/search.py). A word in the title weighs double
# (`field_boost` below), and each field is normalised by its own average length.
WEIGHTING = BM25()

# The facets that searches can count and filter by: request name -> index field.
FACET_FIELDS = {"year": "year", "chain": "chains", "country": "countries"}


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        url=ID(stored=True),
        site=ID(stored=True, sortable=True),
        # The name the site's pages declare (og:site_name...), shown before the host. Stored
        # only, so an index built without it gains it in place (see write.write_items).
        site_name=STORED(),
        title=_text(field_boost=2.0),
        text=_text(),
        published=ID(stored=True),
        pubday=NUMERIC(int, bits=32, sortable=True, signed=False),
        year=ID(stored=True),
        chains=KEYWORD(stored=True, commas=True, lowercase=True, scorable=False),
        countries=KEYWORD(stored=True, commas=True, lowercase=True, scorable=False),
        authors=STORED(),
        language=ID(stored=True),
        evidence=STORED(),
        fetched_at=STORED(),
        http_status=STORED(),
        extraction_method=STORED(),
        # Near-duplicates (indexer/duplicates.py): the group key, the id of the group's first
        # indexed article (its own id when it has no copy). The fingerprints that find copies
        # live beside the index (duplicates.PrintStore).
        dup=ID(stored=True, sortable=True),
        # The URL a copy names as its original (document.py): which copy of a group stands for
        # the story is chosen when the index is read (duplicates.original), from this column,
        # `pubday` and `dup`, so a copy arriving later never rewrites the others.
        named=ID(sortable=True),
    )


def _text(field_boost: float = 1.0) -> TEXT:
    """A stored, searchable text field analysed by indexer/whoosh/analysis.py, with positions for
    phrase queries."""
    field = TEXT(stored=True, analyzer=EnglishAnalyzer(), field_boost=field_boost)
    field.format = FastPositions(field_boost=field_boost)
    return field
