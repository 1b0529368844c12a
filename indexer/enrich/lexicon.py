"""Match many editable terms against a text in one pass.

The chain and country vocabularies hold thousands of surface forms. Trying them one by one
would cost one regex scan per term per article; instead every form goes into one Aho-Corasick
automaton (`Scanner`, shared by both vocabularies), so a text is scanned once, and the longest
form wins at each word start ("Papua New Guinea" before "Guinea", "computer virus" before
"virus").

Case is part of the data: a term written in lower case matches any case, a term written
with capitals ("AI", "US", "Turkey") must match those capitals. Text set wholly in capitals
(wire-service headlines) is accepted for such terms only when they are long enough not to be
ordinary words ("SOVIET" yes, "IT" or "US" no).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, KeysView, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import ahocorasick_rs

PACKAGE_DATA = Path(__file__).parent / "data"

# How far around a hit we look to decide that a passage is set in capitals.
_CAPS_CONTEXT = 40
_LOWER = re.compile(r"[a-z]")


@dataclass(frozen=True, slots=True)
class Term:
    """One matchable surface form and what it stands for.

    `value` is the facet value (a chain id, a country code) or "" for a guard phrase, which
    only exists to swallow text that would otherwise match a shorter, misleading term.
    `label` is the term as written in the data file: it is what evidence reports, so a
    maintainer can find and fix it.
    """

    surface: str
    value: str
    label: str
    kind: str = "term"
    weight: float = 1.0

    @property
    def case_sensitive(self) -> bool:
        """Capitals in the data file mean the capitals are required."""
        return self.surface != self.surface.lower()


@dataclass(frozen=True, slots=True)
class Hit:
    """A term found at [start, end) of the scanned text."""

    start: int
    end: int
    term: Term


def plural_forms(word: str) -> list[str]:
    """Regular English plurals of the last word, so data files list each term once."""
    if not word or not word[-1].isalpha():
        return []
    if word[-1].isupper():  # abbreviations: EVs, ICs
        return [word + "s"]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return [word + "es"]
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return [word[:-1] + "ies"]
    return [word + "s"]


def _trie_regex(words: Iterable[str]) -> str:
    """Compile words into a regex whose alternatives share prefixes, longest first."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:  # the word may stop here: try the longer continuation first (greedy ?)
            body = "(?:" + body + ")?"
        return body

    return build(trie)


class Lexicon:
    """A compiled set of terms; `scan` yields the accepted, non-overlapping hits."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._by_key: dict[str, list[Term]] = {}
        for term in terms:
            self._by_key.setdefault(term.surface.lower(), []).append(term)

    def keys(self) -> KeysView[str]:
        """The lower-case forms of the terms."""
        return self._by_key.keys()

    @cached_property
    def _regex_anycase(self) -> re.Pattern[str]:
        if not self._by_key:
            return re.compile(r"(?!x)x")
        body = _trie_regex(sorted(self._by_key))
        return re.compile(r"(?<!\w)(?:" + body + r")(?:(?<=-)(?=\w)|(?<!-)(?!\w))", re.IGNORECASE)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def scan(self, text: str, caps_until: int = 0) -> list[Hit]:
        """The hits in text order: at each word start the longest term, the next match
        starting at or after the end of the previous one (see `Scanner`).

        `caps_until` marks a prefix of the text (a headline) known to be set in capitals;
        elsewhere capital passages are recognised from the surrounding characters.
        """
        return scanner(self).scan(text, caps_until)[0]

    def scan_anycase(self, text: str, caps_until: int = 0) -> Iterator[Hit]:
        """`scan` by a regex over the trie of the terms, ignoring case: for the rare text
        whose length lower-casing changes (a dotted capital I), where the automaton, which
        reads the lower-cased text, would give shifted positions."""
        for m in self._regex_anycase.finditer(text):
            yield from self.hits(text, m.start(), m.end(), caps_until)

    def hits(self, text: str, start: int, end: int, caps_until: int) -> Iterator[Hit]:
        """The hits of the terms spelled as text[start:end]."""
        found = text[start:end]
        for term in self._by_key[found.lower()]:
            if self._case_ok(term, found, text, start, end, caps_until):
                yield Hit(start, end, term)

    @staticmethod
    def _case_ok(term: Term, found: str, text: str, start: int, end: int, caps: int) -> bool:
        """Whether `found` is an acceptable spelling of `term` at this place."""
        if not term.case_sensitive:
            return True
        if found == term.surface:
            # Exact capitals, but inside text set in capitals a short form may be an
            # ordinary word ("IT", "US"): trust it only when it could not be one.
            return (
                not found.isupper()
                or _safe_in_caps(term.surface)
                or not _in_caps(text, start, end, caps)
            )
        # Another spelling of a capitalised term: only its rendering in capitals, in capitals.
        return found.isupper() and _safe_in_caps(term.surface) and _in_caps(text, start, end, caps)


class Scanner:
    """Several lexicons matched in one pass over the text, each with exactly the hits its own
    regex finds: the longest term at each word start, the next match starting at or after the
    end of the previous one.

    Enrichment looks for chain terms and country names in every article. An Aho-Corasick
    automaton of all their lower-case forms (ahocorasick-rs, in Rust) reports every occurrence
    in one pass, overlaps included, in a fifth of the time of one regex pass over a trie of
    the same terms (bench/facets.py); the few dozen occurrences of an article are then checked
    for the word boundaries and chosen per lexicon as the regex would, so a chain term that
    contains a country name ("Japan" in a longer phrase) still gives both.
    """

    def __init__(self, lexicons: Sequence[Lexicon]) -> None:
        self.lexicons = tuple(lexicons)
        forms = [set(lexicon.keys()) for lexicon in self.lexicons]
        keys = sorted(set().union(*forms))
        self._owners = [[i for i, mine in enumerate(forms) if key in mine] for key in keys]
        self._combining = [key.endswith("-") for key in keys]
        self._automaton = ahocorasick_rs.AhoCorasick(keys) if keys else None

    def scan(self, text: str, caps_until: int = 0) -> list[list[Hit]]:
        """The hits of each lexicon in text order (see `Lexicon.scan`)."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a dotted capital I: positions would shift
            return [list(lexicon.scan_anycase(text, caps_until)) for lexicon in self.lexicons]
        spans: list[list[tuple[int, int]]] = [[] for _ in self.lexicons]
        matches = self._automaton.find_matches_as_indexes(lowered, True) if self._automaton else ()
        size = len(lowered)
        for key, start, end in matches:
            if start and _is_word(lowered[start - 1]):
                continue
            # A term ends at a word boundary, except combining forms ("Sino-"), which end on
            # the hyphen and must be followed directly by a word.
            if (end < size and _is_word(lowered[end])) != self._combining[key]:
                continue
            for i in self._owners[key]:
                spans[i].append((start, -end))  # sorted: by start, the longest first
        found: list[list[Hit]] = []
        for lexicon, candidates in zip(self.lexicons, spans, strict=True):
            hits: list[Hit] = []
            resume = 0
            for start, minus_end in sorted(candidates):
                if start >= resume:
                    resume = -minus_end
                    hits.extend(lexicon.hits(text, start, resume, caps_until))
            found.append(hits)
        return found


def _is_word(ch: str) -> bool:
    """Whether the regex \\w takes this character (the word boundaries of a term)."""
    return ch.isalnum() or ch == "_"


@cache
def scanner(*lexicons: Lexicon) -> Scanner:
    """The one-pass scanner of these lexicons, built once."""
    return Scanner(lexicons)


def _safe_in_caps(surface: str) -> bool:
    """Long words, dotted abbreviations ("U.S.") and forms with digits ("5G") read the same
    in a headline set in capitals; two- and three-letter words ("US", "IT") do not."""
    letters = sum(ch.isalpha() for ch in surface)
    return letters > 3 or "." in surface or any(ch.isdigit() for ch in surface)


def _in_caps(text: str, start: int, end: int, caps_until: int) -> bool:
    if start < caps_until:
        return True
    window = text[max(0, start - _CAPS_CONTEXT) : end + _CAPS_CONTEXT]
    return _LOWER.search(window) is None


def data_file(name: str) -> Path:
    """The editable data file `name`: from INNOSEARCH_TAXONOMY_DIR when it holds one, so
    maintainers can keep their own edited copies outside the installed package, else ours."""
    return _data_file(name, os.environ.get("INNOSEARCH_TAXONOMY_DIR") or "")


@cache
def _data_file(name: str, custom: str) -> Path:
    # Cached: enrichment asks for its rules several times per article.
    if custom and (Path(custom) / name).is_file():
        return Path(custom) / name
    return PACKAGE_DATA / name
