"""The indexing fast path gives exactly the terms, positions and weights of the Whoosh chain
that queries use: otherwise a word indexed one way would be searched for another and missed."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.formats import Positions

from indexer.whoosh.analysis import EnglishAnalyzer, FastPositions

ANALYZER = EnglishAnalyzer()


def chain_postings(text: str, boost: float = 1.0) -> list[tuple]:
    """The postings of Whoosh's own Positions format over the analyzer's token chain."""
    return sorted(Positions(field_boost=boost).word_values(text, ANALYZER, mode="index"))


def fast_postings(text: str, boost: float = 1.0) -> list[tuple]:
    return sorted(FastPositions(field_boost=boost).word_values(text, ANALYZER, mode="index"))


def test_same_postings_on_real_news_pages(shared: Path) -> None:
    truth = json.loads((shared / "data/extraction/aeb/ground-truth.json").read_text("utf-8"))
    texts = [page["articleBody"] for page in truth.values() if page.get("articleBody")]
    assert len(texts) > 100
    for text in texts:
        assert fast_postings(text, 2.0) == chain_postings(text, 2.0)


def test_positions_close_the_gaps_left_by_stop_words() -> None:
    # "The" is a stop word before the first kept word, so "chips" keeps its place (1); "of"
    # and "the" after it leave no gap (Whoosh's StopFilter renumbers), so "world" follows.
    assert EnglishAnalyzer.positions("The chips of the world, the chips") == {
        "chip": [1, 3],
        "world": [2],
    }


def test_accents_stems_and_one_letter_words() -> None:
    terms = EnglishAnalyzer.positions("Café semiconductors a x Über-fast 3.5 nm")
    assert set(terms) == {"cafe", "semiconductor", "uber", "fast", "3.5", "nm"}


PIECES = [*"abcdeAÉİıΣσςßﬁ *.'-_,0123456789\n\t", "the ", "chips ", "Straße ", "naïve ", "ΟΔΟΣ "]


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
