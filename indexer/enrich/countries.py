"""Country detection: which ISO 3166-1 countries an article names (TAXONOMY.md, "country").

The names come from pycountry (every ISO short, official and common name); adjectives,
demonyms, short forms, old names, combining forms ("Sino-") and the guards against false
friends come from `data/countries.toml`, which maintainers edit without touching code.

A country counts when its name or adjective appears anywhere, in any role ("Sea of Japan",
"Chinese food", "a German engineer", "Bank of China"). Cities, provinces and acronyms of
organisations are simply not in the vocabulary, so "Nanjing" or "AFP" give nothing.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry

from indexer.enrich.lexicon import Hit, Lexicon, Term, data_file, plural_forms

NAME, ADJECTIVE, PREFIX, PREFIX_ALONE, GUARD = "name", "adjective", "prefix", "prefix-alone", ""

# A capitalised word directly before or after a hit, with only spaces between.
_WORD_BEFORE = re.compile(r"([A-Z][\w'’.-]*) +$")
_WORD_AFTER = re.compile(r"^ +([A-Z][\w'’-]*)")
DISPLAY_FILE = "country_names.toml"  # display names only: not part of the enrichment version
_NO_PLURAL = ("ese", "ish", "ch", "sh", "ss", "man", "men", "x", "s", "i-Kiribati")


@dataclass(frozen=True)
class CountryRules:
    """Everything country detection needs, compiled once from pycountry and the data file."""

    lexicon: Lexicon
    person_names: frozenset[str]
    place_words: frozenset[str]
    other_sense: dict[str, tuple[str, ...]]
    # code -> the name a reader knows it by ("South Korea", "Soviet Union"): what the page shows
    names: dict[str, str]
    # a name, abbreviation or adjective in lower case -> code: what a user may type for a code
    by_name: dict[str, str]


def _variants(name: str) -> set[str]:
    """The spellings of a name that appear in English text: with and without accents, with
    straight or curly apostrophes."""
    forms = {name}
    ascii_form = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    if ascii_form.strip():
        forms.add(ascii_form)
    for form in list(forms):
        forms.add(form.replace("'", "’"))
        forms.add(form.replace("’", "'"))
    return forms


def _iso_names(ignored: set[str]) -> dict[str, set[str]]:
    """The names pycountry knows, cleaned of its catalogue punctuation.

    "Bolivia, Plurinational State of" becomes "Bolivia" (unless another country is called
    that); "Falkland Islands (Malvinas)" becomes "Falkland Islands"; official names written
    with a comma are catalogue inversions ("Taiwan, Province of China") and are skipped.
    """
    names: dict[str, set[str]] = {}
    # "Congo, The Democratic Republic of the" must not take "Congo", the name of another one.
    whole = {c.name for c in pycountry.countries if "," not in c.name}
    for country in pycountry.countries:
        found = names.setdefault(country.alpha_2, set())
        head = country.name.split(",")[0]
        candidates = [head] if head == country.name or head not in whole else []
        for attr in ("official_name", "common_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                candidates.append(value)
        for raw in candidates:
            name = re.sub(r"\s*\(.*?\)", "", raw).strip()
            name = re.sub(r"^the ", "", name)
            if name and name not in ignored:
                found.add(name)
    return names


def _terms(data: dict) -> list[Term]:
    terms: list[Term] = []
    ignored = set(data.get("ignore", {}).get("names", []))
    names = _iso_names(ignored)
    for table in ("names", "endonyms", "former"):
        for code, extra in data.get(table, {}).items():
            names.setdefault(code, set()).update(extra)
    for code, forms in names.items():
        for name in forms:
            terms += [Term(v, code, name, NAME) for v in _variants(name)]
    for code, forms in data.get("adjectives", {}).items():
        for adjective in forms:
            spellings = {adjective}
            if not adjective.endswith(_NO_PLURAL):
                spellings.update(plural_forms(adjective))
            for spelling in spellings:
                terms += [Term(v, code, adjective, ADJECTIVE) for v in _variants(spelling)]
    alone = data.get("prefixes_alone", {})
    for form, code in data.get("prefixes", {}).items():
        kind = PREFIX_ALONE if alone.get(form) == code else PREFIX
        terms.append(Term(form + "-", code, form + "-", kind))
    for phrase in data.get("guards", {}).get("phrases", []):
        head, _, last = phrase.rpartition(" ")
        spellings = {phrase} | {(head + " " if head else "") + p for p in plural_forms(last)}
        for spelling in spellings:
            terms += [Term(v, "", phrase, GUARD) for v in _variants(spelling)]
    return terms


def rules(path: Path | None = None) -> CountryRules:
    """The compiled data of `path` (default: the editable data file in use), loaded once."""
    return _compile(path or data_file("countries.toml"))


@cache
def _compile(path: Path) -> CountryRules:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    ambiguous = data.get("ambiguous", {})
    terms = _terms(data)
    return CountryRules(
        lexicon=Lexicon(terms),
        person_names=frozenset(ambiguous.get("person_names", [])),
        place_words=frozenset(ambiguous.get("place_words", [])),
        other_sense={k: tuple(v) for k, v in ambiguous.get("other_sense", {}).items()},
        names=_display_names(data),
        by_name={t.surface.lower(): t.value for t in terms if t.kind in (NAME, ADJECTIVE)},
    )


def _display_names(data: dict) -> dict[str, str]:
    """Every code detection can give, with its usual English name: the [display] name of
    country_names.toml, else pycountry's common name when it has one ("Taiwan", not "Taiwan,
    Province of China"), else its name; a former state by the first name countries.toml gives
    it."""
    names = {c.alpha_2: str(getattr(c, "common_name", None) or c.name) for c in pycountry.countries}
    for code, forms in data.get("former", {}).items():
        names.setdefault(code, forms[0])
    with open(data_file(DISPLAY_FILE), "rb") as fh:
        return names | tomllib.load(fh).get("display", {})


def name_of(code: str) -> str:
    """The English name of a code (the code itself when unknown), for pages and exports."""
    return rules().names.get(code.upper(), code)


def code_for(text: str) -> str | None:
    """The code a user meant by a code, a name or an adjective in any case ("cn", "China",
    "Chinese", "South Korea"), or None."""
    known = rules()
    if text.upper() in known.names:
        return text.upper()
    return known.by_name.get(text.strip().lower())


def _in_person_name(text: str, hit: Hit, place_words: frozenset[str]) -> bool:
    """ "Michael Jordan", "Chad Smith": a capitalised neighbour that is not a place word."""
    before = _WORD_BEFORE.search(text, max(0, hit.start - 40), hit.start)
    if before and before.group(1) not in place_words:
        return True
    after = _WORD_AFTER.match(text[hit.end : hit.end + 40])
    return bool(after and after.group(1) not in place_words)


def resolve(hits: list[Hit], text: str, caps_until: int = 0) -> dict[str, list[str]]:
    """Turn lexicon hits into {country code: terms that named it}, applying the guards."""
    r = rules()
    evidence: dict[str, list[str]] = {}
    for i, hit in enumerate(hits):
        term = hit.term
        if term.kind == GUARD:
            continue
        if term.kind in (PREFIX, PREFIX_ALONE):
            following = hits[i + 1] if i + 1 < len(hits) else None
            partnered = (
                following is not None
                and following.start == hit.end
                and following.term.kind != GUARD
            )
            if not partnered and term.kind == PREFIX:
                continue
        elif term.kind == NAME:
            if (
                term.label in r.person_names
                and hit.start >= caps_until
                and _in_person_name(text, hit, r.place_words)
            ):
                continue
            senses = r.other_sense.get(term.label)
            if senses and any(s in text for s in senses):
                continue
        labels = evidence.setdefault(term.value, [])
        if term.label not in labels:
            labels.append(term.label)
    return evidence


def detect(text: str, caps_until: int = 0) -> dict[str, list[str]]:
    """Countries named in `text`, each with the terms that named it.

    `caps_until` is the length of a leading headline set wholly in capitals, if any.
    """
    hits = list(rules().lexicon.scan(text, caps_until))
    return resolve(hits, text, caps_until)
