"""Benchmark: our extractor against trafilatura (text) and htmldate (dates), same scorer, one run.

    .venv/bin/python bench/extraction.py                 # everything, side by side
    .venv/bin/python bench/extraction.py --ours-only     # quick loop while tuning
    .venv/bin/python bench/extraction.py --worst 15      # also list our worst pages

The data lives outside the repository (``INNOSEARCH_SHARED``, default ``../shared`` next to the
repo root) and the scoring is done by the shared ``tools/evaluate.py`` run as a subprocess, so
our figures are computed exactly like the reference figures in ``data/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.extract import extract  # noqa: E402


def shared_dir() -> Path:
    return Path(os.environ.get("INNOSEARCH_SHARED") or REPO.parent / "shared").resolve()


def load_set(folder: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Gold records and raw page bytes by id."""
    gold = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {
        key: gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()) for key in gold
    }
    return gold, pages


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def score(evaluate: Path, task: str, gold: Path, pred: Path) -> list[str]:
    """The evaluator's printed lines (summary, then the headline figure)."""
    done = subprocess.run(
        [sys.executable, str(evaluate), task, str(gold), str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()


def timed(
    func: Callable[[str, bytes], Any], pages: dict[str, bytes], urls: dict[str, str]
) -> tuple[dict[str, Any], float]:
    results: dict[str, Any] = {}
    start = time.perf_counter()
    for key, body in pages.items():
        results[key] = func(urls.get(key, ""), body)
    return results, time.perf_counter() - start


_TOKEN = re.compile(r"\w+")


def _shingle_f1(gold: str, pred: str) -> tuple[float, float, float]:
    """Per-page figures for the --worst listing only (the headline uses evaluate.py)."""

    def shingles(text: str) -> Counter[tuple[str, ...]]:
        toks = _TOKEN.findall(text or "")
        return Counter(
            tuple(toks[i : i + 4]) for i in range(max(1, len(toks) - 3)) if toks[i : i + 4]
        )

    g, p = shingles(gold), shingles(pred)
    tp = sum((g & p).values())
    prec = tp / sum(p.values()) if p else (1.0 if not g else 0.0)
    rec = tp / sum(g.values()) if g else 1.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours-only", action="store_true", help="skip trafilatura and htmldate")
    parser.add_argument("--worst", type=int, default=0, help="list our N worst text pages")
    args = parser.parse_args(argv)

    shared = shared_dir()
    evaluate = shared / "tools" / "evaluate.py"
    text_dir, date_dir = shared / "data" / "extraction" / "aeb", shared / "data" / "dates"
    if not evaluate.exists() or not text_dir.exists() or not date_dir.exists():
        print(f"shared data not found under {shared} (set INNOSEARCH_SHARED)", file=sys.stderr)
        return 2
    text_gold, text_pages = load_set(text_dir)
    date_gold, date_pages = load_set(date_dir)
    text_urls = {k: v.get("url", "") for k, v in text_gold.items()}
    date_urls = {k: v.get("url", "") for k, v in date_gold.items()}

    tmp = Path(tempfile.mkdtemp(prefix="innosearch-bench-"))
    rows: list[tuple[str, str, str]] = []

    ours_text, t1 = timed(lambda url, body: extract(body, url=url), text_pages, text_urls)
    ours_dates, t2 = timed(lambda url, body: extract(body, url=url), date_pages, date_urls)
    pages_per_s = (len(text_pages) + len(date_pages)) / (t1 + t2)
    write_jsonl(tmp / "ours-text.jsonl", [{"id": k, "text": a.text} for k, a in ours_text.items()])
    write_jsonl(
        tmp / "ours-dates.jsonl",
        [{"id": k, "published": a.published} for k, a in ours_dates.items()],
    )
    ours_t = score(evaluate, "extraction", text_dir / "ground-truth.json", tmp / "ours-text.jsonl")
    ours_d = score(evaluate, "dates", date_dir / "ground-truth.json", tmp / "ours-dates.jsonl")
    rows.append(("innosearch", " | ".join(ours_t), " | ".join(ours_d)))

    if not args.ours_only:
        import trafilatura
        from htmldate import find_date

        def traf(url: str, body: bytes) -> str:
            return trafilatura.extract(body, url=url, output_format="txt") or ""

        def hdate(url: str, body: bytes) -> str | None:
            return find_date(body, url=url, extensive_search=True, original_date=True)

        traf_text, _ = timed(traf, text_pages, text_urls)
        ref_dates, _ = timed(hdate, date_pages, date_urls)
        write_jsonl(tmp / "traf-text.jsonl", [{"id": k, "text": t} for k, t in traf_text.items()])
        write_jsonl(
            tmp / "htmldate.jsonl", [{"id": k, "published": d} for k, d in ref_dates.items()]
        )
        ref_t = score(
            evaluate, "extraction", text_dir / "ground-truth.json", tmp / "traf-text.jsonl"
        )
        ref_d = score(evaluate, "dates", date_dir / "ground-truth.json", tmp / "htmldate.jsonl")
        rows.append(("trafilatura / htmldate", " | ".join(ref_t), " | ".join(ref_d)))

        # Why the extractor works on lxml directly: BeautifulSoup's tree (even on the lxml
        # parser) costs more than the whole 50 pages/s budget before any extraction starts.
        import warnings

        from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

        warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
        everything = {**text_pages, **date_pages}

        def soup_only(url: str, body: bytes) -> None:
            BeautifulSoup(body, "lxml")  # the tree is dropped at once: only the parse is timed

        _, soup_seconds = timed(soup_only, everything, {})
        soup_rate = len(everything) / soup_seconds

    print(f"predictions in {tmp}")
    for name, text_line, date_line in rows:
        print(f"\n{name}")
        print(f"  text  ({text_dir.name}): {text_line}")
        print(f"  dates ({date_dir.name}): {date_line}")
    total = len(text_pages) + len(date_pages)
    print(
        f"\ninnosearch speed: {pages_per_s:.1f} pages/s (text + metadata, one core, {total} pages)"
    )
    if not args.ours_only:
        print(f"BeautifulSoup(lxml) parse alone: {soup_rate:.1f} pages/s (no extraction)")

    if args.worst:
        scored = []
        for key, gold in text_gold.items():
            prec, rec, f1 = _shingle_f1(gold.get("articleBody", ""), ours_text[key].text)
            scored.append((f1, prec, rec, key, ours_text[key].extraction_method, text_urls[key]))
        print(f"\nworst {args.worst} text pages (f1 precision recall id method url):")
        for f1, prec, rec, key, method, url in sorted(scored)[: args.worst]:
            print(f"  {f1:.2f} {prec:.2f} {rec:.2f} {key[:12]} {method:8} {url[:80]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
