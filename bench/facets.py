"""Benchmark: industry chains and countries on the 500 hand-labelled articles, and the speed.

    .venv/bin/python bench/facets.py              # figures, every held-out error with its evidence
    .venv/bin/python bench/facets.py --quiet      # figures only

The labelled sets live outside the repository (``INNOSEARCH_SHARED``, default ``../shared``
next to the repo root): ``facets-dev.jsonl`` (100) and ``facets-train.jsonl`` (400).

What it prints, in order:
  * chains and countries by 5-fold cross-validation over all 500 (folds fixed by a seed): the
    chain model is rebuilt from each fold's training part
    (``indexer.enrich.train_chains.train``) and scored on the fold it never saw. The country rules
    are not learned, so their figure is just their figure on each fold. Reported: the mean micro-F1
    of the held-out folds, each fold's, and per value the precision, recall and F1 over all
    held-out predictions;
  * ``evaluate.py facets`` (the shared scorer, as a subprocess) on the held-out predictions;
  * the same for the shipped model on all 500, which it was trained on: that figure says
    nothing about new articles;
  * the keyword rule alone (``indexer.enrich.taxonomy``), the method the model replaced, beside it;
  * the year check, and enrichment speed on one core with the machine's load.

The error listing is for finding *kinds* of error (a boundary of TAXONOMY.md the model misses,
a label that disagrees with another), not for teaching the data particular articles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.enrich import chain_model, countries, enrich, prepare, taxonomy  # noqa: E402
from indexer.enrich.train_chains import LABEL_FILES, fold_numbers, load_rows, train, write  # noqa: E402

FOLDS = 5
SEED = 0  # fold assignment; the training's inner folds use their own seed
MIN_LABELLED = 10  # chains with this many labelled articles must reach MIN_F1
MIN_F1 = 0.6

Prediction = dict[str, dict[str, Any]]  # id -> {"chains", "countries", "evidence"}


def shared_dir() -> Path:
    return Path(os.environ.get("INNOSEARCH_SHARED") or REPO.parent / "shared").resolve()


def predict(rows: Sequence[dict[str, Any]], model: chain_model.Model | None = None) -> Prediction:
    """Chains (by `model`, default the shipped one) and countries of each row."""
    out: Prediction = {}
    for row in rows:
        title, body, scanned, title_end, caps = prepare(row["title"], row["text"])
        hits = list(taxonomy.rules().lexicon.scan(scanned, caps))
        chains = chain_model.classify(title, body, hits, title_end, len(scanned), model)
        found = countries.detect(scanned, caps)
        out[row["id"]] = {
            "chains": sorted(chains),
            "countries": sorted(found),
            "evidence": {**chains, **found},
        }
    return out


def rule_predict(rows: Sequence[dict[str, Any]]) -> Prediction:
    """The keyword rule alone (the method before the model), for comparison."""
    out: Prediction = {}
    for row in rows:
        _, _, scanned, title_end, caps = prepare(row["title"], row["text"])
        chains = taxonomy.classify(scanned, title_end, caps)
        out[row["id"]] = {"chains": sorted(chains), "countries": [], "evidence": chains}
    return out


def counts(rows: Sequence[dict[str, Any]], pred: Prediction, field: str) -> dict[str, list[int]]:
    """Per value [true positives, false positives, false negatives]; "" holds the totals."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        gold, got = set(row.get(field) or []), set(pred[row["id"]][field])
        for value, k in [*((v, 0) for v in gold & got), *((v, 1) for v in got - gold)] + [
            (v, 2) for v in gold - got
        ]:
            per[value][k] += 1
            per[""][k] += 1
    return per


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(tool: Path, rows: Sequence[dict[str, Any]], pred: Prediction) -> list[str]:
    """The shared scorer's printed lines for these rows and predictions."""
    with tempfile.TemporaryDirectory() as tmp:
        gold_path, pred_path = Path(tmp) / "gold.jsonl", Path(tmp) / "pred.jsonl"
        gold_path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        lines = [
            json.dumps({"id": k, "chains": v["chains"], "countries": v["countries"]}) + "\n"
            for k, v in pred.items()
        ]
        pred_path.write_text("".join(lines), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(tool), "facets", str(gold_path), str(pred_path)],
            capture_output=True,
            text=True,
            check=True,
        )
    return done.stdout.strip().splitlines()


def cross_validate(rows: list[dict[str, Any]]) -> tuple[Prediction, list[dict[str, float]]]:
    """Held-out predictions of every article, and each fold's micro-F1 per field."""
    assignment = fold_numbers(len(rows), FOLDS, SEED)
    held_out: Prediction = {}
    per_fold: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(FOLDS):
            train_rows = [r for r, f in zip(rows, assignment, strict=True) if f != k]
            test_rows = [r for r, f in zip(rows, assignment, strict=True) if f == k]
            path = Path(tmp) / f"fold{k}.json"
            write(train(train_rows), path)
            pred = predict(test_rows, chain_model.model(path))
            held_out.update(pred)
            per_fold.append(
                {f: prf(*counts(test_rows, pred, f)[""])[2] for f in ("chains", "countries")}
            )
            print(
                f"  fold {k + 1}: {len(train_rows)} to train, {len(test_rows)} held out: "
                f"chains F1 {per_fold[-1]['chains']:.3f}  "
                f"countries F1 {per_fold[-1]['countries']:.3f}",
                flush=True,
            )
    return held_out, per_fold


def per_value_table(rows: Sequence[dict[str, Any]], pred: Prediction, field: str) -> list[str]:
    """Lines `value  labelled  P  R  F1  (+fp -fn)` in TAXONOMY.md order for chains."""
    per = counts(rows, pred, field)
    labelled = defaultdict(int)
    for row in rows:
        for v in row.get(field) or []:
            labelled[v] += 1
    values = taxonomy.chain_ids() if field == "chains" else sorted(v for v in per if v)
    lines = []
    for value in values:
        tp, fp, fn = per.get(value, [0, 0, 0])
        p, r, f = prf(tp, fp, fn)
        lines.append(
            f"  {value:<20} labelled {labelled[value]:>3}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}"
            f"  (+{fp} -{fn})"
        )
    return lines


def weak_chains(rows: Sequence[dict[str, Any]], pred: Prediction) -> list[str]:
    """Chains with at least MIN_LABELLED labelled articles and an F1 below MIN_F1."""
    per = counts(rows, pred, "chains")
    labelled = defaultdict(int)
    for row in rows:
        for v in row["chains"]:
            labelled[v] += 1
    return [
        c
        for c in taxonomy.chain_ids()
        if labelled[c] >= MIN_LABELLED and prf(*per.get(c, [0, 0, 0]))[2] < MIN_F1
    ]


def errors(rows: Sequence[dict[str, Any]], pred: Prediction, field: str) -> list[str]:
    """Lines naming each false positive (with its evidence) and false negative."""
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        got = pred[row["id"]]
        predicted, gold = set(got[field]), set(row.get(field) or [])
        for value in sorted(predicted - gold):
            terms = ", ".join(got["evidence"].get(value, []))
            out[value].append(f"  + {row['id']:<18} {row['title'][:50]!r}  because: {terms}")
        for value in sorted(gold - predicted):
            out[value].append(f"  - {row['id']:<18} {row['title'][:50]!r}  missed")
    return [line for value in sorted(out) for line in (value, *out[value])]


def speed(rows: Sequence[dict[str, Any]], run: Callable[[dict[str, Any]], Any]) -> float:
    """Articles per second on one core, the data already loaded, over at least 2 seconds."""
    done, start = 0, time.perf_counter()
    while True:
        for row in rows:
            run(row)
        done += len(rows)
        elapsed = time.perf_counter() - start
        if elapsed >= 2.0:
            return done / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="no per-article error listing")
    args = parser.parse_args(argv)

    shared = shared_dir()
    paths = [shared / "data" / "labels" / name for name in LABEL_FILES]
    tool = shared / "tools" / "evaluate.py"
    if not all(p.is_file() for p in paths):
        print(
            f"error: no labelled sets in {shared}/data/labels (set INNOSEARCH_SHARED)",
            file=sys.stderr,
        )
        return 2
    rows = load_rows(paths)
    n_dev = len(load_rows(paths[:1]))

    print(f"== {FOLDS}-fold cross-validation over {len(rows)} labelled articles (seed {SEED})")
    held_out, per_fold = cross_validate(rows)
    for field in ("chains", "countries"):
        scores = [f[field] for f in per_fold]
        mean = sum(scores) / len(scores)
        print(
            f"{field}: mean held-out micro-F1 {mean:.3f} "
            f"(folds {', '.join(f'{s:.3f}' for s in scores)}; "
            f"min {min(scores):.3f}, max {max(scores):.3f})"
        )
    print("per chain, over all held-out predictions:")
    print("\n".join(per_value_table(rows, held_out, "chains")))
    weak = weak_chains(rows, held_out)
    print(
        f"chains with >= {MIN_LABELLED} labelled articles below F1 {MIN_F1}: "
        f"{', '.join(weak) or 'none'}"
    )
    print("evaluate.py facets, all held-out predictions together:")
    print("\n".join("  " + line for line in evaluate(tool, rows, held_out)))
    if not args.quiet:
        print("== held-out errors (+ false positive with its evidence, - false negative)")
        for field in ("chains", "countries"):
            print("\n".join(errors(rows, held_out, field)))
    print()

    shipped = predict(rows)
    print(
        f"== the shipped model on all {len(rows)}: it was trained on them, so this says "
        "nothing about new articles"
    )
    print("\n".join("  " + line for line in evaluate(tool, rows, shipped)))
    print(
        "== the keyword rule alone (indexer/enrich/taxonomy.py, before the model), for comparison"
    )
    rule = rule_predict(rows)
    dev, rest = rows[:n_dev], rows[n_dev:]
    for name, part in (
        (f"dev ({len(dev)}, its terms were written from these)", dev),
        (f"train ({len(rest)})", rest),
        (f"all {len(rows)}", rows),
    ):
        p, r, f = prf(*counts(part, rule, "chains")[""])
        print(f"  {name}: chains precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
    print()

    results = {r["id"]: enrich(r["title"], r["text"], r.get("published")) for r in rows}
    dated = [r for r in rows if r.get("published")]
    wrong = [r for r in dated if results[r["id"]].year != int(r["published"][:4])]
    undated_with_year = [r for r in rows if not r.get("published") and results[r["id"]].year]
    print("== year")
    for r in wrong:
        print(f"  wrong: {r['id']} published {r['published']} -> {results[r['id']].year}")
    print(
        f"year right for {len(dated) - len(wrong)}/{len(dated)} dated articles; "
        f"{len(undated_with_year)} undated articles given a year"
    )
    print()
    rate = speed(rows, lambda r: enrich(r["title"], r["text"], r.get("published")))
    load = os.getloadavg()[0]
    print(
        f"speed: {rate:,.0f} articles/s enriched on one core (year, chains, countries; "
        f"{len(rows)} labelled articles; load average {load:.2f} on {os.cpu_count()} cores)"
    )
    return 1 if wrong or weak else 0


if __name__ == "__main__":
    sys.exit(main())
