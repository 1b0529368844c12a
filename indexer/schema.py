"""The Whoosh schema: which fields exist, and which are searched, stored, sortable or unique.

The schema fixes facet and update behaviour up front: `id` is unique so re-crawls replace
documents in place; the facet fields are keywords whose postings give each value's documents;
`pubday` is a sortable integer column for date sorting and range filters.
"""

from __future__ import annotations

from whoosh.analysis import CharsetFilter, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

# Bump when the schema or the enrichment changes in a way that needs `index --rebuild`.
SCHEMA_VERSION = 2

# Stemming, English stop words and accent folding: "semiconductors" finds "semiconductor",
# "cafe" finds "café".
_ANALYZER = StemmingAnalyzer() | CharsetFilter(accent_map)

# The facets that searches can count and filter by: request name -> index field.
FACET_FIELDS = {"year": "year", "chain": "chains", "country": "countries"}


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        url=ID(stored=True),
        site=ID(stored=True, sortable=True),
        title=TEXT(stored=True, analyzer=_ANALYZER, field_boost=2.0),
        text=TEXT(stored=True, analyzer=_ANALYZER),
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
        # Near-duplicates (indexer/duplicates.py): the group key (the id of the group's first
        # article, the article's own id when it has no copy), the MinHash band tokens that find
        # candidates, and the signature that confirms them.
        dup=ID(stored=True, sortable=True),
        lsh=KEYWORD(scorable=False),
        minhash=STORED(),
    )
