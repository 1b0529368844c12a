"""Hostile queries, generated: any text either runs on a real index or raises QueryError with a
message, never anything else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import QueryError, SearchRequest
from indexer.whoosh import LiveIndex, search

OPERATORS = [
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    '"',
    "*",
    "?",
    "~",
    "^",
    ":",
    "[",
    "]",
    "{",
    "}",
    "title:",
    "chain:",
    "country:",
    "site:",
    "TO",
    "\\",
    "-",
    "+",
    "'",
]
WORDS = ["chip", "semiconductor", "innovation", "café", "nanjing", "ai", "2021", ""]

query_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(OPERATORS + WORDS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(OPERATORS + WORDS), max_size=12).map("".join),
)


@pytest.fixture(scope="module")
def index(built_index: Path) -> Iterator[LiveIndex]:
    live = LiveIndex(built_index)
    yield live
    live.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=query_text, any_word=st.booleans())
def test_any_text_runs_or_explains_itself(index: LiveIndex, q: str, any_word: bool) -> None:
    try:
        result = search(index, SearchRequest(q=q, any_word=any_word))
    except QueryError as e:
        assert str(e).strip()
        return
    assert result["total"] >= 0 and len(result["results"]) <= result["total"]
    for hit in result["results"]:
        assert "<script" not in hit["snippet"].lower()
