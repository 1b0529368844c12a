"""Match many editable terms against a text in one regex pass.

The chain and country vocabularies hold thousands of surface forms. Trying them one by one
would cost one regex scan per term per article; instead every form goes into a character
trie that is compiled into a single regex, so a text is scanned once and the longest form
wins at each position ("Papua New Guinea" before "Guinea", "computer virus" before "virus").

Case is part of the data: a term written in lower case matches any case, a term written
with capitals ("AI", "US", "Turkey") must match those capitals. Text set wholly in capitals
(wire-service headlines) is accepted for such terms only when they are long enough not to be
ordinary words ("SOVIET" yes, "IT" or "US" no).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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
        if not self._by_key:
            self._regex = self._regex_anycase = re.compile(r"(?!x)x")
            return
        body = _trie_regex(sorted(self._by_key))
        # A term ends at a word boundary, except combining forms ("Sino-"), which end on the
        # hyphen and must be followed directly by a word.
        pattern = r"(?<!\w)(?:" + body + r")(?:(?<=-)(?=\w)|(?<!-)(?!\w))"
        # The trie holds lower-case forms: matched against the lower-cased text it runs twice
        # as fast as with IGNORECASE (bench/facets.py), which is kept for the rare text whose
        # length lower-casing changes (a dotted capital I), where positions would shift.
        self._regex = re.compile(pattern)
        self._regex_anycase = re.compile(pattern, re.IGNORECASE)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def scan(self, text: str, caps_until: int = 0) -> Iterator[Hit]:
        """Yield hits in text order.

        `caps_until` marks a prefix of the text (a headline) known to be set in capitals;
        elsewhere capital passages are recognised from the surrounding characters.
        """
        lowered = text.lower()
        if len(lowered) == len(text):
            matches = self._regex.finditer(lowered)
        else:
            matches = self._regex_anycase.finditer(text)
        for m in matches:
            found = text[m.start() : m.end()]
            for term in self._by_key[found.lower()]:
                if self._case_ok(term, found, text, m.start(), m.end(), caps_until):
                    yield Hit(m.start(), m.end(), term)

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
