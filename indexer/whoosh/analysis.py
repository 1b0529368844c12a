"""Text analysis: how titles and texts become index terms, with a fast path for indexing.

The analyzer is an ordinary Whoosh chain (a tokenizer, then `TermFilter`: lowercase, Porter2
stem, accent folding); queries and highlighting use it as such. Indexing uses
`EnglishAnalyzer.positions`, which gives the same terms at the same positions without Whoosh's
per-token `Token` objects and generator chain: on the first 3,000 articles of the benchmark
corpus, title and text, it takes 0.21 ms an article against 0.70 (warm stem caches), when
analysis was a quarter of a bulk build's CPU time (bench/speed.py).
tests/indexer/test_analysis.py checks that both paths agree on real and generated text.

Stemming and stop words (measured with bench/ranking.py, MAP on CACM / NPL, against Whoosh's
default StemmingAnalyzer, 0.267 / 0.278 with the other ranking changes, 0.314 / 0.287 with
these):
- Porter2 (Snowball English) instead of Whoosh's original Porter, which leaves stems such as
  "generat" beside "gener" and "operat" for "operating". Stemmed by Snowball's own C code
  (PyStemmer 2.2, Snowball 2.2), which gives the stems of Whoosh's pure-Python porter2 and of
  PostgreSQL 15's english_stem: the same on 338,450 words (every word of the news, IR and
  extraction sets, and 200,000 made of them with suffixes), 0 different, at a tenth of the
  CPU (stemming was 6% of a bulk build's). Snowball 3 (PyStemmer 3) stems some differently
  ("added" -> "add", where PostgreSQL 15 gives "ad"): the backends would stop agreeing, so it
  is not used; tests/indexer/test_analysis.py checks the three agree;
- the NLTK English stop list (127 words, shipped with Whoosh) added to Whoosh's short one:
  natural-language questions ("what articles deal with ...") stop matching on their filler.

What researchers type (issue 16), as Lucene/Elasticsearch do it (an analyzer that keeps stop
words, and query-time choices):
- stop words and one-letter words are indexed, like every word, at their true positions, so a
  query made only of them (`the who`, `being`) searches them, and a phrase matches exactly
  (``"department of energy"``); ordinary queries leave them out (`indexer.querylang`). They
  do not count in a field's length, so BM25's length normalisation sees the content words
  exactly as when they were dropped (the ranking figures do not move);
- a word written in capitals, 2 to 5 letters (`ACRONYM`: US, IT, AI), is indexed a second
  time as written, at the same position: a query `US` finds "US sanctions" and not "let us".
  This form does not count in the length either;
- `3-D` is one token, the same as `3D` (so `3D printing` finds "3D-printing" and "3-D
  printing"), and `C++`, `C#` are tokens of their own instead of a dropped letter.

Indexes store this class by its import path (Whoosh pickles the schema), so it must keep its
name and module (`indexer.whoosh` maps the path it had before, `indexer.analysis`, here). An
index built before stop words were indexed unpickles the analyzer it was built with (the
old chain): `EnglishAnalyzer.indexes_common_words` tells the two apart.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from operator import sub
from typing import Any

from Stemmer import Stemmer
from whoosh.analysis import CompositeAnalyzer, Filter, RegexTokenizer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.analysis.tokenizers import default_pattern
from whoosh.formats import Positions
from whoosh.lang.stopwords import stoplists
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

from indexer.querylang import ACRONYM, shouted

STOP_WORDS_EN = frozenset(STOP_WORDS | frozenset(stoplists["en"]))
# Shorter words are "common" like stop words: indexed, left out of ordinary queries.
MIN_LENGTH = 2
# Whoosh's tokenizer pattern (words, with inner dots: 3.5, U.S, and the * of a wildcard), its
# groups non-capturing so that findall() gives whole tokens.
_PLAIN = re.compile(default_pattern.pattern.replace("(", "(?:"))
# Whoosh's pattern after two forms of our own: a number, a hyphen and one letter (3-D, 2-D: the
# term of 3D), and a letter followed by ++ or # (C++, C#).
TOKEN = re.compile(
    r"(?<![\w*])(?:\d+-[^\W\d_](?![\w*])|[^\W\d_](?:\+\+|\#)(?![\w*+#]))|" + _PLAIN.pattern
)
# A text where neither form of our own can occur (no digit-hyphen-letter, no "++" or "#": 95%
# of the bench corpus's titles and texts) has exactly the tokens of Whoosh's pattern alone,
# which finds them in 60% of the time (TOKEN tries our forms at every place): tokenizing was
# two thirds of `EnglishAnalyzer.positions`. `_HYPHENED` starts with a literal, which the regex
# engine looks for at C speed.
_HYPHENED = re.compile(r"-(?<=\d-)[^\W\d_]")


def tokens_of(text: str) -> list[str]:
    """`TOKEN.findall(text)`, faster (see `_HYPHENED`)."""
    if "++" in text or "#" in text or _HYPHENED.search(text):
        return TOKEN.findall(text)
    return _PLAIN.findall(text)


# token as written -> term, shared by every analyzer in the process: a word in lower case gives
# its term; a token in capitals that is an acronym gives (its term, itself). Cleared when it
# grows past this many tokens (a corpus has tens of thousands of distinct words, junk such as
# numbers included).
_TERMS: dict[str, Any] = {}
_MAX_TERMS = 500_000
# The values of `_TERMS` whose token does not count in a field's length (`counts`: a common
# word's term, or an acronym of one: "US" -> ("~us", "US")). Never cleared: common words are a
# few hundred, and whether a value counts never changes.
_UNCOUNTED: set[Any] = set()
# position -> the encoding of a term seen at that position only (see FastPositions.encode)
ONE_PLACE: dict[int, bytes] = {}
# Marks the term of a common word ("~the", "~other"), which no token can start with: "others"
# stems to "other", and would otherwise match every "other" (a stop word) in the index, which
# moves the ranking (bench/ranking.py: CACM MAP 0.3394 unmarked, 0.3397 marked as before).
COMMON_MARK = "~"
# Snowball English (see the module docstring); `_TERMS` is the cache, so the stemmer keeps none.
_stem = Stemmer("english", 0).stemWord


def is_common(word: str) -> bool:
    """A lowercased token that ordinary queries leave out and field lengths do not count."""
    return len(word) < MIN_LENGTH or word in STOP_WORDS_EN


def term_of(word: str) -> str:
    """The index term of a lowercased token: its Porter2 stem, accents folded, 3-d as 3d, and
    `COMMON_MARK` before the term of a common word."""
    term = _TERMS.get(word)
    if term is None:
        if len(_TERMS) > _MAX_TERMS:
            _TERMS.clear()
        term = _stem(word.replace("-", "")).translate(accent_map)
        if is_common(word):
            term = COMMON_MARK + term
        if not counts(term):
            _UNCOUNTED.add(term)
        _TERMS[word] = term
    return term


def counts(term: str) -> bool:
    """Whether a term's occurrences count in its field's length: not a common word's, nor an
    acronym form (see the module docstring)."""
    return term[0] != COMMON_MARK and not term.isupper()


def _term(token: str) -> Any:
    """What `_TERMS` keeps for a token as written: its term, or (term, token) for an acronym
    (in `_UNCOUNTED` when its term does not count)."""
    term = found = term_of(token.lower())
    if ACRONYM.fullmatch(token):
        found = (term, token)
        if not counts(term):
            _UNCOUNTED.add(found)
    _TERMS[token] = found
    return found


class TermFilter(Filter):
    """Lowercase, stem and fold each token (`term_of`). In a query, common words are dropped
    unless the caller asks to keep them (``removestops=False``); when indexing, they are kept,
    and a word in capitals (`ACRONYM`) is given a second time as written, at its position,
    unless the text is set wholly in capitals (`shouted`)."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for t in tokens:
            word = t.text.lower()
            if t.mode == "query" and t.removestops and is_common(word):
                continue
            original = t.text
            t.text = term_of(word)
            yield t
            if t.mode == "index" and ACRONYM.fullmatch(original) and not t.shouted:
                t.text = original
                yield t


class EnglishAnalyzer(CompositeAnalyzer):
    """Tokens (`TOKEN`), then `TermFilter`: see the module docstring."""

    def __init__(self) -> None:
        super().__init__(RegexTokenizer(TOKEN), TermFilter())
        # An instance attribute, so it is pickled with a schema: an index built by the
        # analyzer that dropped stop words unpickles without it.
        self.indexes_common_words = True

    def __call__(self, value: str, **kwargs: Any) -> Iterator[Any]:
        """The chain's tokens; each knows whether its text is set in capitals (`shouted`),
        where a word in capitals is no acronym."""
        kwargs.setdefault("shouted", isinstance(value, str) and shouted(value))
        return super().__call__(value, **kwargs)

    @staticmethod
    def positions(text: str) -> dict[str, list[int]]:
        """Each term of `text` with its positions, as the Whoosh chain numbers them (every
        token's place); which of them count in the field's length is `counts`."""
        return EnglishAnalyzer.indexed(text)[0]

    @staticmethod
    def indexed(text: str) -> tuple[dict[str, list[int]], int]:
        """`positions`, and the field's length they give: its tokens whose terms `counts`
        (counted in C here rather than term by term in the writer)."""
        terms = _TERMS
        if len(terms) > _MAX_TERMS:
            terms.clear()
        tokens = tokens_of(text)
        mapped = list(map(terms.get, tokens))  # one look-up each, in C
        if None in mapped:  # tokens not seen before in this process: analysed once each
            for index, term in enumerate(mapped):
                if term is None:
                    mapped[index] = _term(tokens[index])
        length = len(mapped) - sum(map(_UNCOUNTED.__contains__, mapped))
        capitals = not shouted(text)
        found: dict[str, list[int]] = {}
        for pos, term in enumerate(mapped):
            if type(term) is tuple:  # an acronym: its term, and itself as written
                if capitals:
                    places = found.get(term[1])
                    if places is None:
                        found[term[1]] = [pos]
                    else:
                        places.append(pos)
                term = term[0]
            places = found.get(term)
            if places is None:
                found[term] = [pos]
            else:
                places.append(pos)
        return found, length


class FastPositions(Positions):
    """Whoosh's Positions format, taking its terms from `EnglishAnalyzer.positions` when it
    indexes (the postings are the same; see the module docstring).

    The frequency given with each term is what Whoosh adds up into the field's length (and
    nothing else: the posting's weight and positions carry the term's own count), so a term
    that does not count (`counts`: common words, acronym forms) gives 0.
    """

    def encode(self, poslist: list[int]) -> bytes:
        """Whoosh's encoding (the count, then the pickled gaps), the same bytes; a term seen
        once in a field (most of them) takes its bytes from a cache by position."""
        if len(poslist) == 1:
            place = poslist[0]
            known = ONE_PLACE.get(place)
            if known is None:
                known = ONE_PLACE[place] = pack_uint(1) + pickle.dumps([place], 2)
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
            freq = len(places)
            yield term, freq if counts(term) else 0, freq * boost, encode(places)
