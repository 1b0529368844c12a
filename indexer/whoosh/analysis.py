"""Text analysis: how titles and texts become index terms, with a fast path for indexing.

The analyzer is an ordinary Whoosh chain (tokenize, lowercase, drop stop words, stem, fold
accents); queries and highlighting use it as such. Indexing uses `EnglishAnalyzer.positions`,
which gives the same terms at the same positions without Whoosh's per-token `Token` objects and
generator chain: on the first 3,000 articles of the benchmark corpus, title and text, it takes
0.21 ms an article against 0.70 (warm stem caches), when analysis was a quarter of a bulk
build's CPU time (bench/speed.py). tests/indexer/test_analysis.py checks that both paths agree
on real and generated text.

Stemming and stop words (measured with bench/ranking.py, MAP on CACM / NPL, against Whoosh's
default StemmingAnalyzer, 0.267 / 0.278 with the other ranking changes, 0.314 / 0.287 with
these):
- Porter2 (Snowball English) instead of Whoosh's original Porter, which leaves stems such as
  "generat" beside "gener" and "operat" for "operating";
- the NLTK English stop list (127 words, shipped with Whoosh) added to Whoosh's short one:
  natural-language questions ("what articles deal with ...") stop matching on their filler.
  The price: "who" or "most" alone cannot be searched for.

Indexes store this class by its import path (Whoosh pickles the schema), so it must keep its
name and module (`indexer.whoosh` maps the path it had before, `indexer.analysis`, here).
"""

from __future__ import annotations

import pickle
import re
from operator import sub
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.analysis.filters import STOP_WORDS
from whoosh.analysis.tokenizers import default_pattern
from whoosh.formats import Positions
from whoosh.lang.porter2 import stem as porter2
from whoosh.lang.stopwords import stoplists
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

STOP_WORDS_EN = frozenset(STOP_WORDS | frozenset(stoplists["en"]))
# Whoosh's StopFilter also drops one-character tokens.
MIN_LENGTH = 2
# Whoosh's tokenizer pattern, its group made non-capturing so that findall() gives whole tokens.
_TOKEN = re.compile(default_pattern.pattern.replace("(", "(?:"))
# token as written -> term (or _DROPPED for a stop word or a single character), shared by every
# analyzer in the process; cleared when it grows past this many tokens (a corpus has tens of
# thousands of distinct words, junk such as numbers included).
_DROPPED: Any = object()  # a marker no term can be
_TERMS: dict[str, str] = {}
_MAX_TERMS = 500_000
# position -> the encoding of a term seen at that position only (see FastPositions.encode)
_ONE_PLACE: dict[int, bytes] = {}


class EnglishAnalyzer(CompositeAnalyzer):
    """Whoosh's tokenizer, lowercase, English stop words, Porter2 stems, accent folding."""

    def __init__(self) -> None:
        super().__init__(
            RegexTokenizer(),
            LowercaseFilter(),
            StopFilter(stoplist=STOP_WORDS_EN, minsize=MIN_LENGTH),
            StemFilter(stemfn=porter2),
            CharsetFilter(accent_map),
        )

    @staticmethod
    def positions(text: str) -> dict[str, list[int]]:
        """Each term of `text` with its positions, as the Whoosh chain would number them.

        Like StopFilter's renumbering, the first kept word keeps its place among all tokens and
        each later kept word takes the next number, so stop words leave no gaps after it.
        """
        terms = _TERMS
        if len(terms) > _MAX_TERMS:
            terms.clear()
        tokens = _TOKEN.findall(text)
        mapped = list(map(terms.get, tokens))  # one look-up each, in C
        if None in mapped:  # words not seen before in this process: stemmed once each
            for index, term in enumerate(mapped):
                if term is None:
                    mapped[index] = _term(tokens[index])
        kept = [term for term in mapped if term is not _DROPPED]
        found: dict[str, list[int]] = {}
        if kept:
            first = mapped.index(kept[0])  # the first kept word keeps its place
            for pos, term in enumerate(kept, first):
                places = found.get(term)
                if places is None:
                    found[term] = [pos]
                else:
                    places.append(pos)
        return found


def _term(token: str) -> str:
    """The term of a token (or _DROPPED), kept for the token as written and in lower case."""
    terms = _TERMS
    word = token.lower()
    term = terms.get(word)
    if term is None:
        if len(word) < MIN_LENGTH or word in STOP_WORDS_EN:
            term = terms[word] = _DROPPED
        else:
            term = terms[word] = porter2(word).translate(accent_map)
    terms[token] = term
    return term


class FastPositions(Positions):
    """Whoosh's Positions format, taking its terms from `EnglishAnalyzer.positions` when it
    indexes (the postings are the same; see the module docstring)."""

    def encode(self, poslist: list[int]) -> bytes:
        """Whoosh's encoding (the count, then the pickled gaps), the same bytes; a term seen
        once in a field (most of them) takes its bytes from a cache by position."""
        if len(poslist) == 1:
            place = poslist[0]
            known = _ONE_PLACE.get(place)
            if known is None:
                known = _ONE_PLACE[place] = pack_uint(1) + pickle.dumps([place], 2)
            return known
        gaps = [poslist[0], *map(sub, poslist[1:], poslist)]
        return pack_uint(len(gaps)) + pickle.dumps(gaps, 2)

    def word_values(self, value, analyzer, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("mode") != "index" or not isinstance(analyzer, EnglishAnalyzer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        encode = self.encode
        for term, places in analyzer.positions(value).items():
            yield term, len(places), len(places) * boost, encode(places)
