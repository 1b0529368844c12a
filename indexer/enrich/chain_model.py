"""The learned chain classifier: the lexicon's evidence and the article's words, weighed by a
linear model trained on the labelled articles.

The keyword rule of `indexer.enrich.taxonomy` scored 0.90 on the articles its terms were written
from and 0.76 on articles nobody had read (issue 15): hand-set thresholds learn the articles they
are tuned on. Here the lexicon stays the prior knowledge (which terms belong to which chain, how
telling each tier is), and a logistic regression trained on the labelled set decides how much
each kind of lexicon evidence counts per chain and which other words confirm or veto it
("crash" and "navy" beside "aircraft", "oil" beside "energy").

Each chain with enough labelled articles has its own regression over its lexicon features and
the words; a chain with a handful leans on one regression of the lexicon features shared by all
chains (what such evidence means for any chain). Weights are learned by
`indexer.enrich.train_chains`; each chain's threshold is 0 unless a maintainer raises it (precision)
or lowers it (recall) in the data file.

At run time nothing of scikit-learn is imported: the weights live in `data/chain_model.json`
(rebuilt by `python -m indexer.enrich.train_chains`), and scoring an article is a dictionary look-up
per word, so enrichment stays several times faster than indexing.
"""

from __future__ import annotations

import json
import math
import string
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from indexer.enrich import taxonomy
from indexer.enrich.lexicon import Hit, data_file

MODEL_FILE = "chain_model.json"

# Words: what lies between spaces, without the punctuation around it ("chips," is "chips",
# "high-speed" stays one word); a regex over the text would cost as much as the lexicon scan.
_PUNCTUATION = string.punctuation + "“”‘’—–…«»·•"
# The evidence of one chain: at most this many terms, each with at least this share of what
# weighed for the chain (a common word with a small weight, "said", is no reason to show).
EVIDENCE_TERMS = 6
EVIDENCE_SHARE = 0.05
# The lexicon features of one chain (see `lexicon_features`).
LEXICON_FEATURES = ("title", "lead", "body", "core", "distinct", "density", "window", "rule")


@dataclass(frozen=True)
class Model:
    """The shipped model as arrays: one row of weights per chain (in `chains` order), and
    the words' weights as a matrix with one row per word of `vocabulary`."""

    chains: tuple[str, ...]
    bias: np.ndarray  # per chain, less its threshold
    lexicon: tuple[tuple[float, ...], ...]  # per chain, the weights of LEXICON_FEATURES
    vocabulary: dict[str, int]  # word -> row of `words`
    words: np.ndarray  # vocabulary x chains
    stop_words: frozenset[str]


@dataclass(frozen=True)
class Features:
    """What the model reads of one article: the lexicon features and evidence per chain,
    and the article's weighted words (shared by all chains)."""

    lexicon: dict[str, tuple[float, ...]]
    terms: dict[str, Counter[str]]
    words: dict[str, float]


def model(path: Path | None = None) -> Model:
    """The model of `path` (default: the data file in use), loaded once."""
    return _load(path or data_file(MODEL_FILE))


@cache
def _load(path: Path) -> Model:
    data = json.loads(path.read_bytes())
    specs = data["chains"]
    chains = tuple(specs)
    vocabulary: dict[str, int] = {}
    for spec in specs.values():
        for word in spec["words"]:
            vocabulary.setdefault(word, len(vocabulary))
    words = np.zeros((len(vocabulary), len(chains)))
    for c, spec in enumerate(specs.values()):
        for word, weight in spec["words"].items():
            words[vocabulary[word], c] = weight
    return Model(
        chains=chains,
        bias=np.array([s["bias"] - s["threshold"] for s in specs.values()]),
        lexicon=tuple(tuple(s["lexicon"][n] for n in LEXICON_FEATURES) for s in specs.values()),
        vocabulary=vocabulary,
        words=words,
        stop_words=frozenset(data["stop_words"]),
    )


def lexicon_features(
    hits: Sequence[Hit], title_end: int, length: int
) -> tuple[dict[str, tuple[float, ...]], dict[str, Counter[str]]]:
    """Per chain, the strength of its lexicon evidence (log-scaled, see LEXICON_FEATURES),
    and the weight each of its terms contributed (for evidence).

    The same counts the keyword rule reads (title, opening, paragraph-sized windows, distinct
    terms, density), plus whether the rule itself fires, so the model can learn how far each
    deserves trust.
    """
    r = taxonomy.rules()
    s = r.scoring
    rule = taxonomy.score(hits, title_end, length)
    negated = {h.term.value for h in hits if h.term.kind == taxonomy.NEGATIVE}
    per_chain: dict[str, list[Hit]] = {}
    for h in hits:
        if h.term.kind == taxonomy.NEGATIVE:
            continue
        if h.term.value in negated and h.term.case_sensitive:
            continue  # abbreviations mislead in this article ("Amnesty ... (AI)")
        per_chain.setdefault(h.term.value, []).append(h)
    lead_end = title_end + s.lead_chars
    body_len = max(length - title_end, 1000)
    features: dict[str, tuple[float, ...]] = {}
    terms: dict[str, Counter[str]] = {}
    for cid, found in per_chain.items():
        title = lead = body = 0.0
        core = 0
        contribution: Counter[str] = Counter()
        for h in found:
            w = h.term.weight
            if h.start < title_end:
                title += w
            else:
                body += w
                if h.start < lead_end:
                    lead += w
            core += w >= s.core_weight
            contribution[h.term.label] += w
        window = taxonomy._best_window(
            [(h.start, h.term.weight, h.term.label) for h in found], s.window_chars, 1
        )
        values = (title, lead, body, core, len(contribution), body * 1000 / body_len, window)
        features[cid] = (*(math.log1p(v) for v in values), float(cid in rule))
        terms[cid] = contribution
    return features, terms


def word_features(
    title: str, body: str, stop_words: frozenset[str], vocabulary: Container[str] | None = None
) -> dict[str, float]:
    """The distinct words of the article (stop words left out), each 1 / sqrt(how many): a
    unit-length vector of presence. Only those in `vocabulary` when given (the others weigh
    nothing, but count in the length).

    Presence rather than counts: it did as well held out (a chain's words come back in any
    article about it) and is several times cheaper to compute, which keeps indexing fast.
    Phrases come from the lexicon; word pairs did no better held out.
    """
    words = {w.strip(_PUNCTUATION) for w in f"{title} {body}".lower().split()} - stop_words
    words = {w for w in words if len(w) > 1}
    if not words:
        return {}
    value = 1.0 / math.sqrt(len(words))
    if vocabulary is not None:
        words &= vocabulary.keys() if isinstance(vocabulary, dict) else set(vocabulary)
    return dict.fromkeys(words, value)


def features(
    title: str, body: str, hits: Sequence[Hit], title_end: int, length: int, m: Model
) -> Features:
    lexicon, terms = lexicon_features(hits, title_end, length)
    return Features(lexicon, terms, word_features(title, body, m.stop_words, m.vocabulary))


def classify(
    title: str,
    body: str,
    hits: Iterable[Hit],
    title_end: int,
    length: int,
    m: Model | None = None,
) -> dict[str, list[str]]:
    """{chain id: evidence, the most telling first} for the chains the model gives the article.

    Evidence names the terms that weighed most for the chain: the lexicon's terms share the
    lexicon's contribution in proportion to their weight in the article, and the article's
    own words count by their learned weight; both as written, so a maintainer can find them.
    """
    m = m or model()
    f = features(title, body, list(hits), title_end, length, m)
    words = list(f.words)
    value = f.words[words[0]] if words else 0.0  # presence: every word has the same value
    rows = m.words[[m.vocabulary[w] for w in words]] * value  # article's words x chains
    scores = (m.bias + rows.sum(axis=0)).tolist()
    lexicon = dict.fromkeys(range(len(m.chains)), 0.0)
    for c, cid in enumerate(m.chains):
        if cid in f.lexicon:
            lexicon[c] = sum(a * b for a, b in zip(m.lexicon[c], f.lexicon[cid], strict=True))
            scores[c] += lexicon[c]
    result: dict[str, list[str]] = {}
    for c, score in enumerate(scores):
        if score <= 0:
            continue
        cid = m.chains[c]
        weighed: Counter[str] = Counter()
        terms = f.terms.get(cid, Counter())
        total = sum(terms.values())
        if lexicon[c] > 0 and total:
            for label, weight in terms.items():
                weighed[label] += lexicon[c] * weight / total
        for i in np.flatnonzero(rows[:, c] > 0):
            weighed[words[i]] += rows[i, c]
        least = EVIDENCE_SHARE * sum(v for v in weighed.values() if v > 0)
        evidence = [t for t, v in weighed.most_common(EVIDENCE_TERMS) if v > 0 and v >= least]
        result[cid] = evidence or [t for t, _ in terms.most_common(EVIDENCE_TERMS)]
    return result
