"""Benchmark: the CPU time of each stage of a bulk build, per article, in one process.

    .venv/bin/python bench/stages.py                   # the first 5,000 articles of the corpus
    .venv/bin/python bench/stages.py --articles 25000

`innosearch index --from-jsonl` runs its stages in several processes at once (the parent reads,
enriches and fingerprints; one Whoosh sub-writer per core analyses and writes), so a profile of
the whole command on a busy machine mixes waiting with work. Here the same code runs stage by
stage in one process over the records of `bench/corpus.py`, each timed in CPU seconds
(`time.process_time`, which other work on the machine moves far less than wall time): reading
the JSON lines, enrichment with the document's fields, near-duplicate fingerprints and groups,
the segment writer's per-document work (analysis, stored fields, postings held by term) and the
segment's postings written at the end. It prints ms per article and each stage's share, with
the load average.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from whoosh import index as whoosh_index  # noqa: E402

from bench import corpus  # noqa: E402
from indexer.document import to_document  # noqa: E402
from indexer.duplicates import DuplicateFinder, PrintStore, fingerprint  # noqa: E402
from indexer.enrich import enrich  # noqa: E402
from indexer.whoosh.codec import FastW3Codec  # noqa: E402
from indexer.whoosh.schema import make_schema  # noqa: E402
from indexer.whoosh.segment import SegmentWriter  # noqa: E402
from innosearch.records import Skipped, read_articles  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    args = parser.parse_args()
    path = corpus.build(25000 if args.articles <= 25000 else 100000)
    spent: Counter[str] = Counter()

    def timed(stage: str, start: float) -> float:
        now = time.process_time()
        spent[stage] += now - start
        return now

    with tempfile.TemporaryDirectory() as tmp:
        ix = whoosh_index.create_in(tmp, make_schema())
        # The segment writer each sub-writer of a bulk build runs.
        writer = SegmentWriter(ix, codec=FastW3Codec(), limitmb=2048, compound=False)
        prints = PrintStore(tmp)
        duplicates = DuplicateFinder(prints)
        enrich("warm-up", "the caches and vocabularies load once", None)
        articles = itertools.islice(read_articles(str(path), Skipped()), args.articles)
        t = time.process_time()
        count = 0
        for article in articles:
            t = timed("read JSON lines", t)
            doc = to_document(article)
            t = timed("enrichment, document fields", t)
            doc["dup"] = duplicates.group(article.id, fingerprint(article.text))
            t = timed("fingerprint and group", t)
            writer.add_document(**doc)
            t = timed("Whoosh per document", t)
            count += 1
        prints.commit()
        writer.commit()
        timed("segment postings at the end", t)
        prints.close()
        ix.close()
    total = sum(spent.values())
    print(f"{count:,} articles, {total / count * 1000:.2f} ms of CPU an article in all")
    for stage, seconds in spent.items():
        print(f"  {stage:30} {seconds / count * 1000:6.3f} ms  {seconds / total:6.1%}")
    print(f"load average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
