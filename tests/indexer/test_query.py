"""The query language: what a user types, what it finds, and how a mistake explains itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer import LiveIndex, QueryError, SearchRequest, search
from indexer.query import parse_query
from indexer.schema import make_schema


@pytest.fixture
def index(built_index: Path) -> Iterator[LiveIndex]:
    live = LiveIndex(built_index)
    yield live
    live.close()


def found(index: LiveIndex, q: str, **kwargs: object) -> set[str]:
    result = search(index, SearchRequest(q=q, per_page=50, **kwargs))  # type: ignore[arg-type]
    return {r["id"] for r in result["results"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("chip AND (nanjing OR germany)", {"chips-nanjing"}),
        ("(vaccine OR hydrogen) NOT solar", {"vaccine"}),
        ('"wafer fabs"', {"chips-nanjing"}),
        ('"fabs wafer"', set()),  # a phrase keeps its order...
        ('"chip companies"~3', {"chips-nanjing"}),  # ...proximity allows words between
        ("title:vaccine", {"vaccine"}),
        ("site:auto.example.org", {"ev-batteries"}),
        ("chain:nev", {"ev-batteries"}),
        ("country:de", {"ev-batteries"}),
        ("year:2020", {"vaccine"}),
        ("year:[2022 TO 2023]", {"ev-batteries", "ai-models"}),
        ("date:2021-10", {"chips-nanjing"}),
        ("date:[2022-01 TO 2023-05-11]", {"ev-batteries", "ai-models"}),
        ("date:[TO 2019]", {"cafe-innovation"}),
        ("electr*", {"ev-batteries", "nodate"}),
        ("batter?", {"ev-batteries", "nodate"}),  # "batteri", stem of batteries
        ("Semiconductors", {"chips-nanjing", "xss"}),  # stemming, any case
        ("CAFÉ", {"cafe-innovation"}),  # accent folding
    ],
)
def test_query_language_finds_what_it_says(index: LiveIndex, q: str, expected: set[str]) -> None:
    assert found(index, q) == expected


def test_any_word_switch(index: LiveIndex) -> None:
    assert found(index, "vaccine hydrogen") == set()
    assert found(index, "vaccine hydrogen", any_word=True) == {"vaccine", "nodate"}


@pytest.mark.parametrize(
    ("q", "says", "fix"),
    [
        ('"chip factory', "unbalanced quote", '"chip factory"'),
        ("(chips OR fabs", "never closed", "(chips OR fabs)"),
        ("chips)", "closes nothing", "chips"),
        ("chips AND", "either end", "chips"),
        ("OR chips", "either end", "chips"),
        ("chips AND OR fabs", "two operators", "chips AND fabs"),
        ("NOT", "only operators", None),
        ("AND OR", "only operators", None),
        ("a* chips", "too broad", "chips"),
        ("()", "empty brackets", None),
        ("the of", "too common", None),
        ("date:2021-13", "not a real date", None),
        ("date:[2022 TO 2020]", "swap", None),
        ("chips\x00fabs", "control characters", "chips fabs"),
        ("x" * 1001, "too long", None),
    ],
)
def test_mistakes_explain_themselves_and_suggest_a_fix(q: str, says: str, fix: str | None) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(q, make_schema())
    assert says in str(caught.value)
    assert caught.value.fix == fix


def test_repeated_words_weigh_more_as_in_lucene() -> None:
    parsed = parse_query("pooch prieve Pooch", make_schema(), any_word=True)
    boosts = {leaf.text: leaf.boost for leaf in parsed.leaves()}
    assert boosts == {"pooch": 2.0, "priev": 1.0}


def test_odd_but_harmless_input_is_searched_not_refused(index: LiveIndex) -> None:
    for q in ("\ufffd chips", "chips \u202e", "🙂 chip", "title:", "foo:bar chips", "chips~"):
        search(index, SearchRequest(q=q))  # no exception
