"""Benchmark: enrichment (chains, countries, year) on the hand-labelled dev set, and its speed.

    .venv/bin/python bench/facets.py              # scores, every error with its evidence, speed
    .venv/bin/python bench/facets.py --quiet      # scores and speed only

The labelled set lives outside the repository (``INNOSEARCH_SHARED``, default ``../shared``
next to the repo root) and the scoring is done by the shared ``tools/evaluate.py`` run as a
subprocess, so the figures are computed exactly as the issue's targets are.

The error listing is for finding *kinds* of error (a misleading term, a missing demonym, a
threshold too low), to be fixed with general rules in ``indexer/data/*.toml``, never by
teaching the data particular articles.
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.enrich import Enrichment, enrich  # noqa: E402


def shared_dir() -> Path:
    return Path(os.environ.get("INNOSEARCH_SHARED") or REPO.parent / "shared").resolve()


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(tool: Path, gold: Path, pred: Path) -> list[str]:
    """The evaluator's printed lines (per-facet summaries, then the headline)."""
    done = subprocess.run(
        [sys.executable, str(tool), "facets", str(gold), str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()


def errors(
    rows: list[dict[str, Any]], results: dict[str, Enrichment], field: str
) -> dict[str, list[str]]:
    """Per facet value, lines naming each false positive (with its evidence) and negative."""
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        got = results[row["id"]]
        predicted, gold = set(getattr(got, field)), set(row.get(field) or [])
        for value in sorted(predicted - gold):
            terms = ", ".join(got.evidence.get(value, []))
            out[value].append(f"  + {row['id']:<18} {row['title'][:50]!r}  because: {terms}")
        for value in sorted(gold - predicted):
            out[value].append(f"  - {row['id']:<18} {row['title'][:50]!r}  missed")
    return out


def speed(rows: list[dict[str, Any]], min_seconds: float = 2.0) -> float:
    """Articles per second on one core, the vocabularies already compiled."""
    done, start = 0, time.perf_counter()
    while True:
        for row in rows:
            enrich(row["title"], row["text"], row.get("published"))
        done += len(rows)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="no per-article error listing")
    args = parser.parse_args(argv)

    shared = shared_dir()
    gold_path = shared / "data" / "labels" / "facets-dev.jsonl"
    tool = shared / "tools" / "evaluate.py"
    if not gold_path.exists():
        print(f"error: no labelled set at {gold_path} (set INNOSEARCH_SHARED)", file=sys.stderr)
        return 2
    rows = load_jsonl(gold_path)

    start = time.perf_counter()
    results = {r["id"]: enrich(r["title"], r["text"], r.get("published")) for r in rows}
    first_pass = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        pred = Path(tmp) / "facets-pred.jsonl"
        with pred.open("w", encoding="utf-8") as out:
            for key, got in results.items():
                line = {"id": key, "chains": got.chains, "countries": got.countries}
                out.write(json.dumps(line) + "\n")
        lines = evaluate(tool, gold_path, pred)

    if not args.quiet:
        for field in ("chains", "countries"):
            print(f"== {field} errors (+ false positive, - false negative)")
            for value, found in sorted(errors(rows, results, field).items()):
                print(f"{value}")
                print("\n".join(found))
            print()

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
    print("== evaluate.py facets")
    print("\n".join(lines))
    rate = speed(rows)
    print(f"speed: {rate:,.0f} articles/s (first pass incl. loading data: {first_pass:.2f} s)")
    return 0 if not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
