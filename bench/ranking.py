"""Benchmark: ranking quality of our search on the CACM and NPL test collections.

    .venv/bin/python bench/ranking.py                 # both collections
    .venv/bin/python bench/ranking.py --only cacm     # one of them
    .venv/bin/python bench/ranking.py --keep runs/    # keep the TREC run files

Each collection is indexed into a temporary Whoosh index through our own code path
(`indexer.index_articles`: the same schema, analyzer and BM25F weighting as the live index),
every topic is run as an any-word query through `indexer.whoosh.search.export_rows` (the code behind
the CSV export), the top 1000 are written as a TREC run, and the shared
``tools/evaluate.py ranking`` scores it, so the figures are computed exactly as the issue's
targets are (MAP on CACM >= 0.31, on NPL >= 0.29; Lucene/Terrier BM25 publish 0.3114 / 0.2965).

Topics are natural language, so before parsing they are reduced to words: query syntax in them
("AND" in capitals, parentheses, colons) would otherwise be read as operators.

Data: ``INNOSEARCH_SHARED`` (default ``../shared`` next to the repo root), ``data/ir``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.article import Article  # noqa: E402
from indexer import SearchRequest  # noqa: E402
from indexer.whoosh import LiveIndex, index_articles  # noqa: E402
from indexer.whoosh.search import export_rows  # noqa: E402

DEPTH = 1000
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_TREC_DOC = re.compile(r"<DOC>\s*<DOCNO>\s*(.*?)\s*</DOCNO>(.*?)</DOC>", re.S)
_TREC_TOP = re.compile(r"<top>\s*<num>\s*(.*?)\s*</num>\s*<title>(.*?)</title>", re.S)


def shared_dir() -> Path:
    return Path(os.environ.get("INNOSEARCH_SHARED") or REPO.parent / "shared").resolve()


def cacm(root: Path) -> tuple[Iterator[Article], dict[str, str], Path]:
    """Documents ({"id", "contents"} lines), topics (TREC-like <DOC> blocks) and qrels."""

    def docs() -> Iterator[Article]:
        with (root / "cacm.json").open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    yield article(row["id"], row["contents"])

    topics = dict(_TREC_DOC.findall((root / "topics.cacm.txt").read_text(encoding="utf-8")))
    return docs(), topics, root / "qrels.cacm.txt"


def npl(root: Path) -> tuple[Iterator[Article], dict[str, str], Path]:
    """Documents and topics in TREC SGML; qrels in TREC form."""

    def docs() -> Iterator[Article]:
        text = (root / "doc-text.trec").read_text(encoding="utf-8")
        for doc_id, body in _TREC_DOC.findall(text):
            yield article(doc_id, body)

    topics = dict(_TREC_TOP.findall((root / "query-text.trec").read_text(encoding="utf-8")))
    return docs(), topics, root / "qrels"


def article(doc_id: str, text: str) -> Article:
    """A test document as an article: all text in the body, no title, no date."""
    return Article(url=f"https://ir.invalid/{doc_id}", id=doc_id, text=" ".join(text.split()))


def topic_query(text: str) -> str:
    """A natural-language topic as plain lower-case words, so none is read as syntax."""
    return " ".join(w.lower() for w in _WORD.findall(text))


def run_collection(name: str, loader, keep: Path | None) -> list[str]:
    root = shared_dir() / "data" / "ir" / name
    if not root.is_dir():
        raise SystemExit(f"ranking: no collection at {root} (set INNOSEARCH_SHARED)")
    docs, topics, qrels = loader(root)
    with tempfile.TemporaryDirectory(prefix=f"rank-{name}-") as tmp:
        started = time.monotonic()
        summary = index_articles(Path(tmp) / "index", docs)
        indexed = time.monotonic() - started
        live = LiveIndex(Path(tmp) / "index")
        run_path = (keep or Path(tmp)) / f"run.{name}.txt"
        run_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            with run_path.open("w", encoding="utf-8") as out:
                for topic_id, text in topics.items():
                    request = SearchRequest(q=topic_query(text), any_word=True)
                    for rank, row in enumerate(export_rows(live, request, limit=DEPTH), 1):
                        out.write(f"{topic_id} Q0 {row['id']} {rank} {row['score']} innosearch\n")
        finally:
            live.close()
        searched = time.monotonic() - started
        done = subprocess.run(
            [
                sys.executable,
                str(shared_dir() / "tools" / "evaluate.py"),
                "ranking",
                str(qrels),
                str(run_path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    lines = done.stdout.strip().splitlines()
    print(
        f"{name}: {summary.added} documents indexed in {indexed:.1f} s, {len(topics)} topics "
        f"in {searched:.1f} s ({1000 * searched / max(1, len(topics)):.0f} ms each)"
    )
    for line in lines:
        print(f"{name}: {line}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["cacm", "npl"], help="run one collection")
    parser.add_argument("--keep", type=Path, help="write the TREC run files to this folder")
    args = parser.parse_args()
    collections = {"cacm": cacm, "npl": npl}
    for name, loader in collections.items():
        if args.only in (None, name):
            run_collection(name, loader, args.keep)


if __name__ == "__main__":
    main()
