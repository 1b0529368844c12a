"""One crawl worker process for test_distributed.py, the way `innosearch worker` will run it:
`run_worker` with a sink writing to a Whoosh index.

    python -m tests.crawler.worker_main QUEUE DATA INDEX --name W [--delay S] [--lease S]
        [--prefix P] [--hang-marker FILE]

Whoosh allows one writer per index, so the sink takes an flock beside the index around each
write: two workers on one machine share one index. ``--hang-marker`` makes the first write with
articles hang forever instead (after touching FILE), so a test can SIGKILL the worker while it
holds leases of articles the index never got. Prints the worker's summary as one JSON line.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from pathlib import Path

from crawler.distributed.worker import SinkItem, WorkerOptions, run_worker
from crawler.settings import CrawlSettings
from indexer.whoosh.write import write_items


def whoosh_sink(index_dir: Path, hang_marker: Path | None = None):
    lock_path = index_dir.with_name(index_dir.name + ".write-lock")

    def sink(items: list[SinkItem]) -> None:
        if hang_marker is not None and any(not gone for *_, gone in items):
            partial = hang_marker.with_suffix(".partial")
            partial.write_text(json.dumps([item[0].url for item in items]))
            partial.replace(hang_marker)  # whole, so the test never reads half of it
            time.sleep(3600)  # killed here
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            write_items(index_dir, items, None)

    return sink


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("queue")
    parser.add_argument("data", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--prefix", default="innosearch:crawl")
    parser.add_argument("--hang-marker", type=Path)
    args = parser.parse_args(argv)
    settings = CrawlSettings(
        # The name in the User-Agent lets the test tell the workers' requests apart.
        user_agent=f"innosearch-test-{args.name}/0.1 (+https://example.org/test)",
        delay=args.delay,
        connect_timeout=1.0,
        read_timeout=2.0,
        deadline=3.0,
        retries=1,
        allow_local=True,
    )
    options = WorkerOptions(
        prefix=args.prefix,
        lease=args.lease,
        batch_size=5,
        batch_seconds=1.0,
        poll=0.05,
        refresh=1.0,
        worker_id=args.name,
    )
    summary = run_worker(
        args.queue,
        settings,
        args.data,
        whoosh_sink(args.index, args.hang_marker),
        burst=True,
        options=options,
    )
    print(json.dumps(summary.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
