"""The query language on both backends: what a user types, what it finds, and how a mistake
explains itself. One suite, run on Whoosh and on PostgreSQL; where PostgreSQL cannot do what
Whoosh does (listed in `indexer.querylang`), the test says so and checks the clear error."""

from __future__ import annotations

from typing import Any

import pytest

from indexer import QueryError, SearchRequest
from indexer.backend import WhooshIndex, open_backend
from indexer.whoosh.query import parse_query
from indexer.whoosh.schema import make_schema


def found(backend: Any, q: str, **kwargs: Any) -> set[str]:
    result = backend.search(SearchRequest(q=q, per_page=50, **kwargs))
    return {r["id"] for r in result["results"]}


def is_postgres(backend: Any) -> bool:
    return not isinstance(backend, WhooshIndex)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("chip AND (nanjing OR germany)", {"chips-nanjing"}),
        ("(vaccine OR hydrogen) NOT solar", {"vaccine"}),
        ("(vaccine OR hydrogen) AND trial", {"vaccine"}),
        ("semiconductor -markup", {"chips-nanjing"}),
        ("semiconductor ANDNOT markup", {"chips-nanjing"}),
        ('"wafer fabs"', {"chips-nanjing"}),
        ('"fabs wafer"', set()),  # a phrase keeps its order...
        ('"chip companies"~3', {"chips-nanjing"}),  # ...proximity allows words between
        ("title:vaccine", {"vaccine"}),
        ('title:"innovation week"', {"cafe-innovation"}),
        ("title:(vaccine OR battery)", {"vaccine", "ev-batteries"}),
        ("site:auto.example.org", {"ev-batteries"}),
        ("chain:nev", {"ev-batteries"}),
        ("chain:nev country:de", {"ev-batteries"}),
        ("country:de", {"ev-batteries"}),
        ("year:2020", {"vaccine"}),
        ("battery year:2022", {"ev-batteries"}),
        ("year:[2022 TO 2023]", {"ev-batteries", "ai-models"}),
        ("date:2021-10", {"chips-nanjing"}),
        ("date:[2022-01 TO 2023-05-11]", {"ev-batteries", "ai-models"}),
        ("date:[TO 2019]", {"cafe-innovation"}),
        ("date:2021 OR date:[2022-01 TO 2022-06]", {"chips-nanjing", "ev-batteries"}),
        ("electr*", {"ev-batteries", "nodate"}),
        ("semicond*", {"chips-nanjing", "xss"}),
        ("batter?", {"ev-batteries", "nodate"}),  # "batteri", stem of batteries
        ("Semiconductors", {"chips-nanjing", "xss"}),  # stemming, any case
        ("CAFÉ", {"cafe-innovation"}),  # accent folding
        ("cafe", {"cafe-innovation"}),
    ],
)
def test_query_language_finds_what_it_says(backend: Any, q: str, expected: set[str]) -> None:
    if is_postgres(backend) and "?" in q:  # PostgreSQL: * only at the end of a word
        with pytest.raises(QueryError, match="only at the end of a word"):
            found(backend, q)
        return
    assert found(backend, q) == expected


def test_any_word_switch(backend: Any) -> None:
    assert found(backend, "vaccine hydrogen") == set()
    assert found(backend, "vaccine hydrogen", any_word=True) == {"vaccine", "nodate"}
    # NOT still excludes when words are ORed (Whoosh used to OR it in as one more word)
    assert found(backend, "(vaccine hydrogen) NOT trial", any_word=True) == {"nodate"}


def test_negation_with_facets(backend: Any) -> None:
    assert "vaccine" not in found(backend, "NOT chain:biomedicine")


@pytest.mark.parametrize(
    ("q", "says", "fix"),
    [
        ('"chip factory', "unbalanced quote", '"chip factory"'),
        ("(chips OR fabs", "never closed", "(chips OR fabs)"),
        ("chips)", "closes nothing", "chips"),
        ("chips AND", "either end", "chips"),
        ("OR chips", "either end", "chips"),
        ("chips NOT", "either end", "chips"),
        ("chips AND OR fabs", "two operators", "chips AND fabs"),
        ("NOT", "only operators", None),
        ("AND OR", "only operators", None),
        ("a* chips", "too broad", "chips"),
        ("text:* chips", "too broad", "chips"),
        (":* chip", "too broad", "chip"),
        ("()", "empty brackets", None),
        ("+++ ~", "no word", None),
        ("date:2021-13", "not a real date", None),
        ("date:[2022 TO 2020]", "swap", None),
        ("year:recent", "not a year", None),
        ("chips\x00fabs", "control characters", "chips fabs"),
        ("x" * 1001, "too long", None),
    ],
)
def test_mistakes_explain_themselves_and_suggest_a_fix(
    backend: Any, q: str, says: str, fix: str | None
) -> None:
    with pytest.raises(QueryError) as caught:
        found(backend, q)
    assert says in str(caught.value)
    assert caught.value.fix == fix


def test_odd_but_harmless_input_is_searched_not_refused(backend: Any) -> None:
    odd = ["\ufffd chips", "chips \u202e", "🙂 chip", "title:", "foo:bar chips", "chips~"]
    odd += ["it's", "o'brien \\ 'x' & | ! <->", "C++ ::", "chip's*"]
    for q in odd:
        backend.search(SearchRequest(q=q + " chip"))  # no exception, no SQL error


def test_repeated_words_weigh_more_as_in_lucene() -> None:
    """Whoosh ranks with BM25F, where a word typed twice counts twice; PostgreSQL's
    ts_rank_cd has no weights per query word."""
    parsed = parse_query("pooch prieve Pooch", make_schema(), any_word=True)
    boosts = {leaf.text: leaf.boost for leaf in parsed.leaves()}
    assert boosts == {"pooch": 2.0, "priev": 1.0}


# ---- words as researchers type them (issue 16) ---------------------------------------------------


@pytest.fixture
def typed(typed_index: str) -> Any:
    """tests/fixtures/typed.jsonl indexed by each backend."""
    index = open_backend(typed_index)
    yield index
    index.close()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("US", {"us-sanctions"}),  # in capitals: the acronym, not "let us"
        ("US sanctions", {"us-sanctions"}),
        ("IT services", {"it-services"}),
        ("IT", {"it-services"}),
        ("C++", {"cpp"}),
        ("3D printing", {"printing-joined", "printing-apart"}),
        ("3-D printing", {"printing-joined", "printing-apart"}),
        ("3d", {"printing-joined", "printing-apart"}),
        ('"department of energy"', {"doe"}),  # a phrase keeps its common words
        ("department energy", {"doe", "dfe"}),  # ordinary words leave them out
        ("the department of energy", {"doe", "dfe"}),
    ],
)
def test_words_researchers_type_are_searched_as_typed(typed: Any, q: str, expected: set) -> None:
    assert found(typed, q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("the who", {"the-who"}),
        ("being", {"the-who"}),
        ("this", {"the-who"}),
        ("us", {"let-us", "us-sanctions"}),  # in lower case, the common word: "US" too
        ('"the who"', {"the-who"}),
    ],
)
def test_a_query_of_only_common_words_searches_them(typed: Any, q: str, expected: set) -> None:
    assert found(typed, q) == expected


def test_capitals_in_a_query_written_all_in_capitals_say_nothing(typed: Any) -> None:
    assert found(typed, "CLOUD SERVICES") == {"it-lower"}
    assert found(typed, "AI") == set()  # no article writes AI


def test_an_index_built_before_common_words_asks_for_a_rebuild(tmp_path: Any) -> None:
    """A Whoosh index whose analyzer dropped common words keeps answering ordinary queries;
    a query that needs them says which command makes them searchable."""
    from whoosh import index as whoosh_index

    from indexer.whoosh.schema import make_schema

    schema = make_schema()
    for name in ("title", "text"):  # as the analyzer before issue 16 is unpickled
        del schema[name].analyzer.__dict__["indexes_common_words"]
    ix = whoosh_index.create_in(tmp_path, schema)
    with ix.writer() as writer:
        writer.add_document(id="1", title="US chips", text="The US makes chips.")
    ix.close()
    old = WhooshIndex(tmp_path)
    try:
        assert found(old, "chips") == {"1"}
        for q in ("US", "the"):
            with pytest.raises(QueryError, match="innosearch index --rebuild"):
                found(old, q)
    finally:
        old.close()
