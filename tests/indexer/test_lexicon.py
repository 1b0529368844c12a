"""One pass for all vocabularies: the Aho-Corasick scan finds exactly what a regex over each
vocabulary's trie finds, the longest term at each word start, overlaps between vocabularies
kept."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.enrich import countries, prepare, taxonomy
from indexer.enrich.lexicon import Lexicon, Term, scanner


def variants(row: dict) -> list[tuple[str, str]]:
    """The article as written, set wholly in capitals (a wire headline and text), and with a
    dotted capital I, whose lower case is two characters."""
    title, text = row.get("title") or "", row.get("text") or ""
    return [(title, text), (title.upper(), text.upper()), (title, f"İstanbul: {text}")]


def test_the_one_pass_finds_what_each_vocabularys_regex_finds(shared: Path) -> None:
    chains, names = taxonomy.rules().lexicon, countries.rules().lexicon
    both = scanner(chains, names)
    articles = 0
    for path in sorted((shared / "data" / "labels").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for title, text in variants(json.loads(line)):
                _, _, scanned, _, caps = prepare(title, text)
                chain_hits, country_hits = both.scan(scanned, caps)
                assert chain_hits == list(chains.scan_anycase(scanned, caps))
                assert country_hits == list(names.scan_anycase(scanned, caps))
            articles += 1
    assert articles >= 500


def test_a_term_of_one_vocabulary_inside_a_term_of_another_gives_both() -> None:
    industry = Lexicon([Term("Japan Display", "electronics", "Japan Display")])
    places = Lexicon(
        [
            Term("Japan", "JP", "Japan"),
            Term("Japanese", "JP", "Japanese"),
            Term("Sino-", "CN", "Sino-"),
        ]
    )
    found = scanner(industry, places).scan("Japan Display and Sino-Japanese trade")
    assert [(h.start, h.end, h.term.value) for h in found[0]] == [(0, 13, "electronics")]
    assert [(h.start, h.end, h.term.value) for h in found[1]] == [
        (0, 5, "JP"),
        (18, 23, "CN"),
        (23, 31, "JP"),
    ]


def test_the_longest_term_wins_and_words_are_whole() -> None:
    places = Lexicon([Term(s, s, s) for s in ("Guinea", "Papua New Guinea", "Oman")])
    hits = places.scan("Papua New Guinea, Guinea and Romania, not Omani; Oman.")
    assert [h.term.label for h in hits] == ["Papua New Guinea", "Guinea", "Oman"]
