"""Benchmark: our extractor against trafilatura (text) and htmldate (dates), same scorer, one run.

    .venv/bin/python bench/extraction.py                 # everything, side by side
    .venv/bin/python bench/extraction.py --ours-only     # quick loop while tuning
    .venv/bin/python bench/extraction.py --worst 15      # also list our worst pages

The data lives outside the repository (``INNOSEARCH_SHARED``, default ``../shared`` next to the
repo root) and the scoring is done by the shared ``tools/evaluate.py`` run as a subprocess, so
our figures are computed exactly like the reference figures in ``data/README.md``.

Beside the totals it prints the text F1 per kind of publisher (``bench/site_kinds.toml``, ours
and trafilatura side by side, so a rule that helps one kind of page and hurts another shows),
which evidence gave our dates and how often it was right, and htmldate as a second opinion
where we give no date (its import time and cost per page too, since using it at run time would
make it a dependency of every crawl).
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
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.extract import extract  # noqa: E402
from crawler.extract.dates import published_with_source  # noqa: E402
from crawler.extract.encoding import decode_html  # noqa: E402

SITE_KINDS = Path(__file__).with_name("site_kinds.toml")


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


def score_subset(
    evaluate: Path, task: str, gold: dict[str, Any], keys: list[str], rows: list[dict[str, Any]]
) -> list[str]:
    """The evaluator's lines for the pages ``keys`` only (gold and predictions cut alike)."""
    wanted = set(keys)
    with tempfile.TemporaryDirectory(prefix="innosearch-bench-") as folder:
        gold_path, pred_path = Path(folder) / "gold.json", Path(folder) / "pred.jsonl"
        gold_path.write_text(json.dumps({k: gold[k] for k in keys}), encoding="utf-8")
        write_jsonl(pred_path, [row for row in rows if row["id"] in wanted])
        return score(evaluate, task, gold_path, pred_path)


def timed(
    func: Callable[[str, bytes], Any], pages: dict[str, bytes], urls: dict[str, str]
) -> tuple[dict[str, Any], float]:
    """Results by key and the CPU seconds they took (one core, whatever else the machine runs)."""
    results: dict[str, Any] = {}
    start = time.process_time()
    for key, body in pages.items():
        results[key] = func(urls.get(key, ""), body)
    return results, time.process_time() - start


def site_kind(url: str, kinds: dict[str, list[str]]) -> str:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    for kind, hosts in kinds.items():
        if any(host == h or host.endswith("." + h) for h in hosts):
            return kind
    return "other"


def import_seconds(module: str) -> float:
    """Wall time of importing ``module`` in a fresh interpreter (what a worker pays once)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


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
    text_truth, date_truth = text_dir / "ground-truth.json", date_dir / "ground-truth.json"

    def run(url: str, body: bytes) -> Any:
        return extract(body, url=url)

    ours_text, t1 = timed(run, text_pages, text_urls)
    ours_dates, t2 = timed(run, date_pages, date_urls)
    pages_per_s = (len(text_pages) + len(date_pages)) / (t1 + t2)
    text_rows = [{"id": k, "text": a.text} for k, a in ours_text.items()]
    date_rows = [{"id": k, "published": a.published} for k, a in ours_dates.items()]
    write_jsonl(tmp / "ours-text.jsonl", text_rows)
    write_jsonl(tmp / "ours-dates.jsonl", date_rows)
    ours_t = score(evaluate, "extraction", text_truth, tmp / "ours-text.jsonl")
    ours_d = score(evaluate, "dates", date_truth, tmp / "ours-dates.jsonl")

    kinds: dict[str, list[str]] = tomllib.loads(SITE_KINDS.read_text(encoding="utf-8"))["kinds"]
    by_kind: dict[str, list[str]] = defaultdict(list)
    for key, url in text_urls.items():
        by_kind[site_kind(url, kinds)].append(key)
    traf_rows: list[dict[str, Any]] = []

    print(f"predictions in {tmp}")
    print(f"\ntext ({text_dir.name}, {len(text_pages)} pages)")
    print(f"  innosearch:  {' | '.join(ours_t)}")
    if not args.ours_only:
        import trafilatura

        def traf(url: str, body: bytes) -> str:
            return trafilatura.extract(body, url=url, output_format="txt") or ""

        traf_text, _ = timed(traf, text_pages, text_urls)
        traf_rows = [{"id": k, "text": t} for k, t in traf_text.items()]
        write_jsonl(tmp / "traf-text.jsonl", traf_rows)
        ref_t = score(evaluate, "extraction", text_truth, tmp / "traf-text.jsonl")
        print(f"  trafilatura: {' | '.join(ref_t)}")
    print(f"\n  text F1 by kind of publisher ({SITE_KINDS.name}):")
    print(f"  {'kind':38} pages  innosearch  trafilatura")
    for kind in sorted(by_kind, key=lambda k: -len(by_kind[k])):
        keys = by_kind[kind]
        ours_f1 = score_subset(evaluate, "extraction", text_gold, keys, text_rows)[-1].split()[-1]
        traf_f1 = (
            score_subset(evaluate, "extraction", text_gold, keys, traf_rows)[-1].split()[-1]
            if traf_rows
            else "-"
        )
        print(f"  {kind:38} {len(keys):5}  {ours_f1:>10}  {traf_f1:>11}")

    print(f"\ndates ({date_dir.name}, {len(date_pages)} pages)")
    print(f"  innosearch:             {' | '.join(ours_d)}")
    sources = _date_sources(date_pages, date_urls, ours_dates)
    if not args.ours_only:
        from htmldate import find_date

        def hdate(url: str, body: bytes) -> str | None:
            return find_date(body, url=url, extensive_search=True, original_date=True)

        ref_dates, hd_seconds = timed(hdate, date_pages, date_urls)
        write_jsonl(
            tmp / "htmldate.jsonl", [{"id": k, "published": d} for k, d in ref_dates.items()]
        )
        ref_d = score(evaluate, "dates", date_truth, tmp / "htmldate.jsonl")
        # htmldate as a second opinion: only where our finder gives no date.
        both = [{"id": k, "published": a.published or ref_dates[k]} for k, a in ours_dates.items()]
        write_jsonl(tmp / "ours-then-htmldate.jsonl", both)
        both_d = score(evaluate, "dates", date_truth, tmp / "ours-then-htmldate.jsonl")
        print(f"  htmldate (extensive):   {' | '.join(ref_d)}")
        print(f"  ours, else htmldate:    {' | '.join(both_d)}")
        filled = [k for k, a in ours_dates.items() if not a.published and ref_dates[k]]
        right = sum(ref_dates[k][:4] == date_gold[k]["date"][:4] for k in filled)
        print(
            f"  htmldate where we give no date: {len(filled)} dates, {right} of the right year;"
            f" it costs {1000 * hd_seconds / len(date_pages):.1f} ms CPU a page"
            f" and {import_seconds('htmldate'):.2f} s to import"
        )
    print("\n  our dates by the evidence that gave them (pages, right year, right day):")
    for source, keys in sorted(sources.items(), key=lambda item: -len(item[1])):
        given = {k: ours_dates[k].published or "" for k in keys}
        years = sum(given[k][:4] == date_gold[k]["date"][:4] for k in keys)
        days = sum(given[k] == date_gold[k]["date"][:10] for k in keys)
        print(f"  {source:16} {len(keys):4} {years:5} {days:5}")

    total = len(text_pages) + len(date_pages)
    load = os.getloadavg()[0]
    print(
        f"\ninnosearch speed: {pages_per_s:.1f} pages/s of CPU time (text, metadata and date,"
        f" one core, {total} pages; load average {load:.1f})"
    )
    if not args.ours_only:
        # Why the extractor works on lxml directly: BeautifulSoup's tree (even on the lxml
        # parser) costs more than the whole 50 pages/s budget before any extraction starts.
        import warnings

        from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

        warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
        everything = {**text_pages, **date_pages}

        def soup_only(url: str, body: bytes) -> None:
            BeautifulSoup(body, "lxml")  # the tree is dropped at once: only the parse is timed

        _, soup_seconds = timed(soup_only, everything, {})
        print(
            f"BeautifulSoup(lxml) parse alone: {total / soup_seconds:.1f} pages/s (no extraction)"
        )

    if args.worst:
        scored = []
        for key, gold in text_gold.items():
            prec, rec, f1 = _shingle_f1(gold.get("articleBody", ""), ours_text[key].text)
            scored.append((f1, prec, rec, key, ours_text[key].extraction_method, text_urls[key]))
        print(f"\nworst {args.worst} text pages (f1 precision recall id method url):")
        for f1, prec, rec, key, method, url in sorted(scored)[: args.worst]:
            print(f"  {f1:.2f} {prec:.2f} {rec:.2f} {key[:12]} {method:8} {url[:80]}")
    return 0


def _date_sources(
    pages: dict[str, bytes], urls: dict[str, str], articles: dict[str, Any]
) -> dict[str, list[str]]:
    """Page keys by the evidence our finder dated them from ("json-ld", "url", "text"...)."""
    sources: dict[str, list[str]] = defaultdict(list)
    for key, body in pages.items():
        article = articles[key]
        _, source = published_with_source(
            decode_html(body),
            urls[key],
            language=article.language,
            canonical_url=article.canonical_url,
        )
        sources[source].append(key)
    return sources


if __name__ == "__main__":
    raise SystemExit(main())
