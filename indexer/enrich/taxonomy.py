"""Industry chains: the twelve chain definitions and the "substantial part" rule.

The rule alone no longer decides: its counts and its verdict are features of the learned chain
model (`indexer.enrich.chain_model`), which generalises better to articles nobody tuned it on.

TAXONOMY.md gives an article a chain when a substantial part of it (a paragraph, or its main
subject) is about that chain, and says a passing word is not enough. The definitions (names,
weighted terms, misleading phrases) and the thresholds live in `data/chains.toml`; this module
loads them and applies the rule, so changing what counts never needs a code change.

The rule, in words: a chain needs at least one core term, and then one of
  * the title names the chain and the text backs it up (the article's main subject);
  * some paragraph-sized stretch of the text is dense with the chain's terms, several of
    them distinct (a paragraph about it);
  * the whole article keeps coming back to the chain: a high score, several distinct terms
    and enough of them per 1,000 characters (its main subject, without a telling title).
Terms in the title and the opening count more, because that is where journalists put the
subject.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from indexer.enrich.lexicon import Hit, Lexicon, Term, data_file, plural_forms

TIERS = {"core": 3.0, "strong": 2.0, "support": 1.0}
NEGATIVE = "negative"


@dataclass(frozen=True)
class Scoring:
    """The thresholds of the "substantial part" rule (see `[scoring]` in chains.toml)."""

    title_factor: float = 3.0
    lead_chars: int = 600
    lead_factor: float = 1.5
    core_weight: float = 3.0
    window_chars: int = 1500
    window_score: float = 7.0
    window_distinct: int = 2
    article_score: float = 10.0
    article_distinct: int = 3
    article_density: float = 2.0
    title_score: float = 3.0
    title_body_score: float = 3.0


@dataclass(frozen=True)
class Chain:
    """One industry chain as defined in TAXONOMY.md."""

    id: str
    name: str


@dataclass(frozen=True)
class ChainRules:
    """The chain definitions compiled for matching."""

    chains: tuple[Chain, ...]
    lexicon: Lexicon
    scoring: Scoring


def _spellings(term: str) -> set[str]:
    """The term, its plural, and its hyphen/space twin ("high-speed" / "high speed")."""
    forms = {term}
    if " " in term:
        forms.add(term.replace(" ", "-"))
    for form in list(forms):
        head, _, last = form.rpartition(" ")
        forms.update((head + " " if head else "") + p for p in plural_forms(last))
    return forms


def _terms(data: dict) -> list[Term]:
    terms: list[Term] = []
    for chain_id, spec in data.get("chains", {}).items():
        for tier, weight in TIERS.items():
            for term in spec.get(tier, []):
                terms += [Term(s, chain_id, term, tier, weight) for s in _spellings(term)]
        for phrase in spec.get(NEGATIVE, []):
            terms += [Term(s, chain_id, phrase, NEGATIVE, 0.0) for s in _spellings(phrase)]
    return terms


def rules(path: Path | None = None) -> ChainRules:
    """The compiled data of `path` (default: the editable data file in use), loaded once."""
    return _compile(path or data_file("chains.toml"))


@cache
def _compile(path: Path) -> ChainRules:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    chains = tuple(Chain(cid, spec["name"]) for cid, spec in data.get("chains", {}).items())
    return ChainRules(chains, Lexicon(_terms(data)), Scoring(**data.get("scoring", {})))


def chain_ids() -> list[str]:
    """The chain ids in the order of TAXONOMY.md's table."""
    return [c.id for c in rules().chains]


def chain_for(text: str) -> str | None:
    """The chain a user meant by an id, a name or one of the chain's terms, in any case
    ("Integrated circuits", "chips", "vaccine"), or None: what a refused value suggests."""
    wanted = text.strip()
    for chain in rules().chains:
        if wanted.lower() in (chain.id, chain.name.lower()):
            return chain.id
    for hit in rules().lexicon.scan(wanted):
        if (hit.start, hit.end) == (0, len(wanted)) and hit.term.kind != NEGATIVE:
            return hit.term.value
    return None


def _best_window(weighted: list[tuple[int, float, str]], size: int, min_distinct: int) -> float:
    """The highest score of any stretch of `size` characters holding enough distinct terms."""
    best = 0.0
    labels: Counter[str] = Counter()
    score = 0.0
    lo = 0
    for pos, weight, label in weighted:
        labels[label] += 1
        score += weight
        while pos - weighted[lo][0] > size:
            _, w, old = weighted[lo]
            score -= w
            labels[old] -= 1
            if not labels[old]:
                del labels[old]
            lo += 1
        if len(labels) >= min_distinct:
            best = max(best, score)
    return best


def score(hits: Iterable[Hit], title_end: int, length: int) -> dict[str, list[str]]:
    """Apply the "substantial part" rule to lexicon hits over `title + text`.

    `title_end` is where the title stops in the scanned string and `length` its total length.
    Returns {chain id: its terms, the most telling first} for the chains the article carries.
    """
    r = rules()
    s = r.scoring
    per_chain: dict[str, list[Hit]] = {}
    negated: set[str] = set()
    for hit in hits:
        if hit.term.kind == NEGATIVE:
            negated.add(hit.term.value)
        else:
            per_chain.setdefault(hit.term.value, []).append(hit)

    lead_end = title_end + s.lead_chars
    body_len = max(length - title_end, 1)
    result: dict[str, list[str]] = {}
    for chain in r.chains:
        found = per_chain.get(chain.id)
        if not found:
            continue
        if chain.id in negated:  # abbreviations mislead in this article ("Amnesty ... (AI)")
            found = [h for h in found if not h.term.case_sensitive]
        if not any(h.term.weight >= s.core_weight for h in found):
            continue
        weighted: list[tuple[int, float, str]] = []
        title = body = 0.0
        for h in found:
            if h.start < title_end:
                w = h.term.weight * s.title_factor
                title += w
            else:
                w = h.term.weight * (s.lead_factor if h.start < lead_end else 1.0)
                body += w
            weighted.append((h.start, w, h.term.label))
        contribution: Counter[str] = Counter()
        for _, w, label in weighted:
            contribution[label] += w
        distinct = len(contribution)
        total = title + body
        density = total * 1000 / max(body_len, 1000)
        about = (
            (title >= s.title_score and body >= s.title_body_score)
            or _best_window(weighted, s.window_chars, s.window_distinct) >= s.window_score
            or (
                total >= s.article_score
                and distinct >= s.article_distinct
                and density >= s.article_density
            )
        )
        if about:
            result[chain.id] = [label for label, _ in contribution.most_common()]
    return result


def classify(text: str, title_end: int = 0, caps_until: int = 0) -> dict[str, list[str]]:
    """Chains of `text` (title first, ending at `title_end`), with their evidence.

    `caps_until` is the length of a leading headline set wholly in capitals, if any.
    """
    return score(rules().lexicon.scan(text, caps_until), title_end, len(text))
