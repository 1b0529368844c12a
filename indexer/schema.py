"""The Whoosh schema: which fields exist, and which are searched, stored, sortable or unique.

The schema fixes facet and update behaviour up front: `id` is unique so re-crawls replace
documents in place; the facet fields are keywords whose postings give each value's documents;
`pubday` is a sortable integer column for date sorting and range filters.
"""

from __future__ import annotations

from math import log

from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.filters import STOP_WORDS
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.lang.porter2 import stem as porter2
from whoosh.lang.stopwords import stoplists
from whoosh.scoring import BM25F
from whoosh.support.charset import accent_map

# Bump when the schema or the enrichment changes in a way that needs `index --rebuild`.
SCHEMA_VERSION = 3

# Stemming, English stop words and accent folding: "semiconductors" finds "semiconductor",
# "cafe" finds "café". Measured with bench/ranking.py (MAP on CACM / NPL), against Whoosh's
# default StemmingAnalyzer (0.267 / 0.278 with the other changes below, 0.314 / 0.287 with them):
# - Porter2 (Snowball English) instead of Whoosh's original Porter, which leaves stems such as
#   "generat" beside "gener" and "operat" for "operating";
# - the NLTK English stop list (127 words, shipped with Whoosh) added to Whoosh's short one:
#   natural-language questions ("what articles deal with ...") stop matching on their filler.
#   The price: "who" or "most" alone cannot be searched for.
STOP_WORDS_EN = frozenset(STOP_WORDS | frozenset(stoplists["en"]))
_ANALYZER = (
    RegexTokenizer()
    | LowercaseFilter()
    | StopFilter(stoplist=STOP_WORDS_EN)
    | StemFilter(stemfn=porter2)
    | CharsetFilter(accent_map)
)


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


# The scoring every search uses (see indexer/search.py). A word in the title weighs double
# (`field_boost` below), and each field is normalised by its own average length.
WEIGHTING = BM25()

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
