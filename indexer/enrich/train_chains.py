"""Build the chain model (`indexer/enrich/data/chain_model.json`) from the labelled articles.

    python -m indexer.enrich.train_chains       # from ../shared/data/labels/facets-*.jsonl
    python -m indexer.enrich.train_chains --labels a.jsonl b.jsonl --out model.json

The build is reproducible: the same labelled files give the same file, byte for byte on one
machine (fixed fold seeds, a deterministic solver, rounded weights, sorted keys), and the same
predictions anywhere. No network: scikit-learn fits a logistic regression, and only its weights
are written (see `indexer.enrich.chain_model` for what they mean and how they are applied).

What is learned, from the labelled articles alone (see bench/facets.py for held-out figures):
  * a pooled regression over the lexicon features of every (article, chain) pair, with a bias
    per chain: what lexicon evidence means for any chain;
  * per chain with at least MIN_POSITIVES labelled articles, its own regression over its
    lexicon features and the article's words, positives weighted as much
    as negatives. Its score is the mean of the two (OWN), which held out did better than
    either alone (5-fold micro-F1 over three fold seeds: own 0.80, mean 0.82); a chain with
    fewer articles keeps the pooled score, as its own few would teach noise;
  * word weights smaller than PRUNE are not shipped, which keeps the file small (bench/facets.py
    measures the model as shipped). Every threshold is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.linear_model import LogisticRegression

from indexer.enrich import chain_model, prepare, taxonomy
from indexer.enrich.chain_model import LEXICON_FEATURES, Features
from indexer.enrich.lexicon import PACKAGE_DATA

REPO = Path(__file__).resolve().parent.parent
LABEL_FILES = ("facets-dev.jsonl", "facets-train.jsonl")

C = 10.0  # inverse regularisation strength
MIN_DF = 2  # a word must occur in this many training articles to get a weight
MIN_POSITIVES = 3  # a chain needs this many labelled articles for a model of its own
PRUNE = 0.05  # smaller word weights are not shipped
OWN = 0.5  # a chain's score: this share of its own model, the rest of the pooled one
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)


def default_labels() -> list[Path]:
    shared = Path(os.environ.get("INNOSEARCH_SHARED") or REPO.parent / "shared")
    return [shared / "data" / "labels" / name for name in LABEL_FILES]


def load_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def featurize(row: dict[str, Any]) -> Features:
    """What the model reads of one labelled article, computed as enrichment computes it."""
    title, body, scanned, title_end, caps_until = prepare(row.get("title"), row.get("text"))
    hits = list(taxonomy.rules().lexicon.scan(scanned, caps_until))
    lexicon, terms = chain_model.lexicon_features(hits, title_end, len(scanned))
    words = chain_model.word_features(title, body, STOP_WORDS)
    return Features(lexicon, terms, words)


def fold_numbers(n: int, k: int, seed: int) -> list[int]:
    """Fold number of each of n items: k folds of near-equal size, shuffled by `seed`."""
    folds = [i % k for i in range(n)]
    random.Random(seed).shuffle(folds)
    return folds


def _lexicon_matrix(feats: Sequence[Features], cid: str) -> np.ndarray:
    empty = (0.0,) * len(LEXICON_FEATURES)
    return np.array([f.lexicon.get(cid, empty) for f in feats])


def _own_model(
    words: sparse.csr_matrix, feats: Sequence[Features], gold: np.ndarray, cid: str
) -> LogisticRegression:
    """One chain's regression over its lexicon features and the article's words; positives
    and negatives weigh alike, so 0 is the natural threshold."""
    x = sparse.hstack([sparse.csr_matrix(_lexicon_matrix(feats, cid)), words]).tocsr()
    model = LogisticRegression(C=C, class_weight="balanced", solver="lbfgs", max_iter=5000)
    return model.fit(x, gold)


def _pooled_model(feats: Sequence[Features], labels: np.ndarray, chains: list[str]):
    """One regression over (article, chain) pairs of the lexicon features alone, with a bias
    per chain: what lexicon evidence means for any chain, for chains with few labels."""
    k = len(chains)
    x = np.vstack(
        [
            np.hstack([_lexicon_matrix(feats, cid), np.tile(np.eye(k)[c], (len(feats), 1))])
            for c, cid in enumerate(chains)
        ]
    )
    y = np.concatenate([labels[:, c] for c in range(k)])
    return LogisticRegression(C=C, solver="lbfgs", max_iter=5000).fit(x, y)


def train(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The model data (the content of chain_model.json) learned from labelled rows."""
    chains = taxonomy.chain_ids()
    feats = [featurize(r) for r in rows]
    labels = np.array([[c in (r.get("chains") or []) for c in chains] for r in rows], dtype=int)
    df: dict[str, int] = {}
    for f in feats:
        for w in f.words:
            df[w] = df.get(w, 0) + 1
    vocabulary = sorted(w for w, n in df.items() if n >= MIN_DF)
    column = {w: i for i, w in enumerate(vocabulary)}
    cells = [
        (i, column[w], x) for i, f in enumerate(feats) for w, x in f.words.items() if w in column
    ]
    rows_i, cols_i, values = zip(*cells, strict=True) if cells else ((), (), ())
    words = sparse.csr_matrix((values, (rows_i, cols_i)), shape=(len(feats), len(vocabulary)))
    pooled = _pooled_model(feats, labels, chains)
    n_lex = len(LEXICON_FEATURES)

    def r(x: float) -> float:
        return round(float(x), 4)

    out_chains = {}
    for c, cid in enumerate(chains):
        positives = int(labels[:, c].sum())
        # The pooled regression's view of this chain: its lexicon weights and this chain's bias.
        lexicon = pooled.coef_[0][:n_lex]
        bias = pooled.intercept_[0] + pooled.coef_[0][n_lex + c]
        kept: dict[str, float] = {}
        if positives >= MIN_POSITIVES:
            # Averaging two linear scores is one linear score: fold them into one weight set.
            own = _own_model(words, feats, labels[:, c], cid)
            coef = own.coef_[0]
            lexicon = OWN * coef[:n_lex] + (1 - OWN) * lexicon
            bias = OWN * own.intercept_[0] + (1 - OWN) * bias
            for i, w in enumerate(vocabulary):
                if abs(OWN * coef[n_lex + i]) >= PRUNE:
                    kept[w] = r(OWN * coef[n_lex + i])
        out_chains[cid] = {
            "model": "own and pooled" if kept else "pooled",
            "positives": positives,
            "bias": r(bias),
            "threshold": 0.0,
            "lexicon": {name: r(lexicon[k]) for k, name in enumerate(LEXICON_FEATURES)},
            "words": dict(sorted(kept.items())),
        }
    return {
        "about": (
            "built by `python -m indexer.enrich.train_chains`: see indexer/enrich/chain_model.py"
        ),
        "articles": len(rows),
        "settings": {
            "C": C,
            "min_df": MIN_DF,
            "min_positives": MIN_POSITIVES,
            "own": OWN,
            "prune": PRUNE,
        },
        "stop_words": sorted(STOP_WORDS),
        "chains": out_chains,
    }


def write(data: dict[str, Any], path: Path) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=0, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", nargs="+", type=Path, help="labelled JSON lines files")
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA / chain_model.MODEL_FILE)
    args = parser.parse_args(argv)
    paths = args.labels or default_labels()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(
            f"error: no labelled file at {', '.join(missing)} (set INNOSEARCH_SHARED)",
            file=sys.stderr,
        )
        return 1
    rows = load_rows(paths)
    write(train(rows), args.out)
    print(f"wrote {args.out} from {len(rows)} labelled articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
