"""The indexing fast path gives exactly the terms, positions and weights of the Whoosh chain
that queries use: otherwise a word indexed one way would be searched for another and missed."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.formats import Positions
from whoosh.lang.porter2 import stem as whoosh_porter2

from indexer.whoosh.analysis import TOKEN, EnglishAnalyzer, FastPositions, _stem
from tests.pg_server import Server

ANALYZER = EnglishAnalyzer()


def chain_postings(text: str, boost: float = 1.0) -> list[tuple]:
    """The postings of Whoosh's own Positions format over the analyzer's token chain: term,
    weight and positions (the frequency it gives counts every token; see `counted`)."""
    found = Positions(field_boost=boost).word_values(text, ANALYZER, mode="index")
    return sorted((term, weight, value) for term, _freq, weight, value in found)


def fast_postings(text: str, boost: float = 1.0) -> list[tuple]:
    found = FastPositions(field_boost=boost).word_values(text, ANALYZER, mode="index")
    return sorted((term, weight, value) for term, _freq, weight, value in found)


def counted(text: str) -> dict[str, int]:
    """What each term adds to the field's length when indexed."""
    found = FastPositions().word_values(text, ANALYZER, mode="index")
    return {term: freq for term, freq, _weight, _value in found}


def test_same_postings_on_real_news_pages(shared: Path) -> None:
    truth = json.loads((shared / "data/extraction/aeb/ground-truth.json").read_text("utf-8"))
    texts = [page["articleBody"] for page in truth.values() if page.get("articleBody")]
    assert len(texts) > 100
    for text in texts:
        assert fast_postings(text, 2.0) == chain_postings(text, 2.0)


# Endings that send a word down each of Snowball English's rules.
SUFFIXES = (
    "s",
    "es",
    "ed",
    "ing",
    "ly",
    "ness",
    "ational",
    "ization",
    "ator",
    "iveness",
    "fulness",
    "ousness",
    "biliti",
    "ement",
    "ism",
    "ous",
    "ive",
    "ize",
    "ance",
    "ence",
    "er",
    "ic",
    "able",
    "ible",
    "ant",
    "al",
    "ful",
    "eedly",
    "ingly",
    "ies",
    "ied",
    "logi",
)


def test_stems_are_whoosh_porter2_and_postgresqls(shared: Path, pg_server: Server) -> None:
    """The C stemmer must stem as Whoosh's porter2 did (indexes built before keep matching
    their queries) and as PostgreSQL's english_stem (both backends give the same answers),
    on the words of real news pages and those words with each ending."""
    truth = json.loads((shared / "data/extraction/aeb/ground-truth.json").read_text("utf-8"))
    real = {
        token.lower()
        for page in truth.values()
        for token in TOKEN.findall(page.get("articleBody") or "")
        if not token.isdigit()
    }
    words = sorted(real | {w + s for w in sorted(real)[::7] if w.isalpha() for s in SUFFIXES})
    assert len(words) > 50_000
    ours = [_stem(w) for w in words]
    assert [w for w, stem in zip(words, ours, strict=True) if stem != whoosh_porter2(w)] == []
    with psycopg.connect(pg_server.url("postgres")) as conn:
        lexized = conn.execute(
            "SELECT ts_lexize('english_stem', w) FROM unnest(%s::text[]) AS w", (words,)
        ).fetchall()
    differ = [
        w for w, stem, (pg,) in zip(words, ours, lexized, strict=True) if pg and pg[0] != stem
    ]
    assert differ == []
    assert _stem("added") == "ad"  # Snowball 3 gives "add": PostgreSQL 15 does not


def test_every_word_is_indexed_at_its_place() -> None:
    # Common words (stop words, one letter) are indexed too, marked, so that a query of only
    # common words and an exact phrase can find them; a word in capitals is indexed a second
    # time as written, at its place.
    assert EnglishAnalyzer.positions("The chips of the US, a chip") == {
        "~the": [0, 3],
        "chip": [1, 6],
        "~of": [2],
        "~us": [4],
        "US": [4],
        "~a": [5],
    }


def test_only_content_words_count_in_a_fields_length() -> None:
    """BM25 normalises by the length: counting stop words and acronym forms would move every
    ranking (bench/ranking.py) for words that ordinary queries never search."""
    assert counted("The chips of the US, a chip") == {
        "~the": 0,
        "chip": 2,
        "~of": 0,
        "~us": 0,
        "US": 0,
        "~a": 0,
    }
    assert counted("AI models") == {"ai": 1, "AI": 0, "model": 1}


def test_text_set_in_capitals_has_no_acronyms() -> None:
    # A wire headline in capitals says nothing of which words are acronyms.
    assert "IT" not in EnglishAnalyzer.positions("IT SAYS PROFITS ROSE")
    assert "IT" in EnglishAnalyzer.positions("IT")
    assert "IT" in EnglishAnalyzer.positions("IT says profits rose")


def test_accents_stems_and_one_letter_words() -> None:
    terms = EnglishAnalyzer.positions("Café semiconductors a x Über-fast 3.5 nm")
    assert set(terms) == {"cafe", "semiconductor", "~a", "~x", "uber", "fast", "3.5", "nm"}


def test_3_d_is_3d_and_c_plus_plus_is_a_word() -> None:
    assert EnglishAnalyzer.positions("3-D printing, 3D-printing in C++ and C#") == {
        "3d": [0, 2],
        "print": [1, 3],
        "~in": [4],
        "c++": [5],
        "~and": [6],
        "c#": [7],
    }


PIECES = [*"abcdeAÉİıΣσςßﬁ *.'-_,0123456789\n\t", "the ", "chips ", "Straße ", "naïve ", "ΟΔΟΣ "]
PIECES += ["US ", "IT ", "3-D ", "C++ ", "c# "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=80).map("".join) | st.text())
def test_same_postings_on_generated_text(text: str) -> None:
    assert fast_postings(text) == chain_postings(text)


def test_queries_still_use_the_chain() -> None:
    # Query parsing asks the analyzer for tokens, not positions: the ordinary Whoosh path.
    assert [t.text for t in ANALYZER("Semiconductors AND cafés", mode="query")] == [
        "semiconductor",
        "cafe",
    ]


def test_indexes_that_name_the_analyzers_old_module_stay_readable() -> None:
    """Whoosh pickles the schema with the analyzer's import path; indexes built before the
    module moved name `indexer.analysis` (their searches answered 500 until it was mapped)."""
    import pickle

    import indexer.whoosh  # noqa: F401  (maps the old path)
    from indexer.whoosh.analysis import EnglishAnalyzer as Moved

    assert pickle.loads(b"cindexer.analysis\nEnglishAnalyzer\n.") is Moved
