"""Benchmark corpus: real news articles from ../shared/data/news as JSON lines, with facets.

    .venv/bin/python bench/corpus.py                       # 25,000 articles into the cache dir
    .venv/bin/python bench/corpus.py --size 100000         # the 100,000-article version
    .venv/bin/python bench/corpus.py --out /tmp/x.jsonl    # somewhere else

Three public sets (see ../shared/data/README.md): NewsArticles (3,824, 2016-17), Reuters-21578
(1987) and BBC News (2,225, no dates). Every record is `{"id", "url", "title", "text",
"published", "year", "chains", "countries"}`: what `innosearch index --from-jsonl` reads, plus
the facets from our own enrichment (`indexer.enrich.enrich`), computed once here so that the
Datasette side of `bench/speed.py` facets exactly the data our index facets.

The articles are put in a seeded shuffle, so any prefix mixes the three sources. Sizes above
the base set repeat it with changed ids and URLs (`...#r1`, `...#r2`): the same words and facets,
more documents, which is what a bigger index costs. Files are cached (never in the repository):
`$TMPDIR/innosearch-bench/corpus-SIZE.jsonl` unless `--out` says otherwise.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import os
import random
import re
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEED = 20260
SIZES = (25000, 100000, 250000, 500000, 1000000)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_REUTERS = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\">(.*?)</REUTERS>", re.S)
_TAG = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("DATE", "TITLE", "BODY")}


def shared_dir() -> Path:
    return Path(os.environ.get("INNOSEARCH_SHARED") or REPO.parent / "shared").resolve()


def cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "innosearch-bench"


def default_path(size: int) -> Path:
    return cache_dir() / f"corpus-{size}.jsonl"


def news_articles(path: Path) -> Iterator[dict[str, Any]]:
    """NewsArticles.csv.gz: id, date as Y/M/D, source link, title, subtitle, text."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
            if not title or not text:
                continue
            yield {
                "id": f"na-{row['article_id']}",
                "url": row.get("article_source_link")
                or f"https://newsarticles.example/{row['article_id']}",
                "title": title,
                "text": text,
                "published": _ymd(row.get("publish_date", ""), "%Y/%m/%d"),
            }


def reuters(path: Path) -> Iterator[dict[str, Any]]:
    """reuters21578.tar.gz: SGML files; a document's date is like 26-FEB-1987 15:01:01.79."""
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if not member.name.endswith(".sgm"):
                continue
            raw = tar.extractfile(member)
            assert raw is not None
            sgml = raw.read().decode("latin-1")
            for newid, body in _REUTERS.findall(sgml):
                title, text = _tag(body, "TITLE"), _tag(body, "BODY")
                if not title or not text:
                    continue
                yield {
                    "id": f"reuters-{newid}",
                    "url": f"https://reuters.example/1987/{newid}",
                    "title": title,
                    "text": text,
                    "published": _reuters_date(_tag(body, "DATE")),
                }


def bbc(path: Path) -> Iterator[dict[str, Any]]:
    """bbc-2225.tar.gz: bbc/SECTION/NNN.txt, the first line the title; no dates."""
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = member.name.split("/")
            if len(parts) != 3 or not parts[2].endswith(".txt"):
                continue
            raw = tar.extractfile(member)
            assert raw is not None
            title, _, text = raw.read().decode("latin-1").partition("\n")
            if title.strip() and text.strip():
                section, number = parts[1], parts[2].removesuffix(".txt")
                yield {
                    "id": f"bbc-{section}-{number}",
                    "url": f"https://bbc.example/{section}/{number}",
                    "title": title.strip(),
                    "text": text.strip(),
                    "published": None,
                }


def _tag(sgml: str, name: str) -> str:
    m = _TAG[name].search(sgml)
    return html.unescape(m.group(1)).strip() if m else ""


def _ymd(value: str, fmt: str) -> str | None:
    try:
        return datetime.strptime(value.strip(), fmt).date().isoformat()
    except ValueError:
        return None


def _reuters_date(value: str) -> str | None:
    m = re.match(r"\s*(\d{1,2})-([A-Z]{3})-(\d{4})", value)
    if not m or m.group(2) not in _MONTHS:
        return None
    return f"{m.group(3)}-{_MONTHS[m.group(2)]:02d}-{int(m.group(1)):02d}"


def _enrich(record: dict[str, Any]) -> dict[str, Any]:
    from indexer.enrich import enrich

    facets = enrich(record["title"], record["text"], record["published"])
    return {**record, "year": facets.year, "chains": facets.chains, "countries": facets.countries}


def base_records(shared: Path, workers: int = 2) -> list[dict[str, Any]]:
    """Every usable article of the three sets, enriched, in a seeded shuffle."""
    news = shared / "data" / "news"
    records = [
        *news_articles(news / "NewsArticles.csv.gz"),
        *reuters(news / "reuters21578.tar.gz"),
        *bbc(news / "bbc-2225.tar.gz"),
    ]
    random.Random(SEED).shuffle(records)
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_enrich, records, chunksize=200))


def sized(base: list[dict[str, Any]], size: int) -> Iterator[dict[str, Any]]:
    """The first `size` records, repeating the base set with changed ids and URLs as needed."""
    for n in range(size):
        record = base[n % len(base)]
        round_ = n // len(base)
        if round_:
            suffix = f"#r{round_}"
            record = {**record, "id": record["id"] + suffix, "url": record["url"] + suffix}
        yield record


def build(size: int, out: Path | None = None, force: bool = False) -> Path:
    """Writes (or reuses) the corpus file of `size` articles and returns its path."""
    path = out or default_path(size)
    if path.exists() and not force:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    base_path = cache_dir() / "corpus-base.jsonl"
    if base_path.exists() and not force:
        base = [json.loads(line) for line in base_path.open(encoding="utf-8")]
    else:
        base = base_records(shared_dir())
        base_path.parent.mkdir(parents=True, exist_ok=True)
        _write(base_path, iter(base))
    _write(path, sized(base, size))
    return path


def _write(path: Path, records: Iterator[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:  # streamed: a million records are 1.6 GB
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=25000, help="articles (default 25000)")
    parser.add_argument("--out", type=Path, help="output file (default: the cache dir)")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args()
    started = time.perf_counter()
    path = build(args.size, args.out, args.force)
    n = sum(1 for _ in path.open(encoding="utf-8"))
    print(f"{path}: {n} articles ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
