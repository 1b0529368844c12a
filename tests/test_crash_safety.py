"""Nothing lost: an indexer killed with SIGKILL mid-run leaves the last committed index
searchable, and running it again completes the job with no duplicates (ids are keys)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from indexer import SearchRequest
from indexer.whoosh import LiveIndex, search

TOPICS = ["semiconductor", "battery", "vaccine", "satellite", "graphene", "hydrogen", "robot"]


def write_records(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for n in range(count):
            rng = random.Random(n)  # distinct texts: no two records are near-duplicates
            words = [rng.choice(TOPICS)] + [f"w{rng.randrange(20000)}" for _ in range(80)]
            record = {
                "id": f"doc-{n}",
                "url": f"https://site{n % 5}.example.com/{n}",
                "title": f"Report {n} on {words[0]}",
                "text": f"Article number {n} on {words[0]}. " + " ".join(words),
                "published": f"{2019 + n % 7}-0{1 + n % 9}-1{n % 10}",
            }
            f.write(json.dumps(record) + "\n")


def index_command(records: Path, index: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "innosearch.cli",
        "index",
        "--from-jsonl",
        str(records),
        "--index",
        str(index),
    ]


def test_kill_9_mid_index_then_rerun(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_records(first, 50)
    write_records(second, 1200)
    index = tmp_path / "index"
    subprocess.run(index_command(first, index), check=True, capture_output=True)

    child = subprocess.Popen(index_command(second, index), stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once it is well into the run, before its commit
        line = child.stderr.readline()
        if "articles…" in line or not line:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    live = LiveIndex(index)
    try:
        # The last committed state answers searches: the 50 documents of the first run.
        assert search(live, SearchRequest(q="report"))["total"] == 50
        done = subprocess.run(index_command(second, index), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        result = search(live, SearchRequest(q="", per_page=1))
        assert live.run(lambda s: s.doc_count()) == 1200  # doc-0..49 replaced, not duplicated
        assert result["total"] == 1200
        assert search(live, SearchRequest(q="title:1199"))["total"] == 1
    finally:
        live.close()


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def test_a_killed_sub_writer_fails_the_bulk_build_instead_of_hanging_it(tmp_path: Path) -> None:
    """A bulk build (an empty index, 2,000 articles or more) writes through one sub-writer
    process per core. One of them killed mid-run (as the kernel does when memory runs out):
    the command stops within seconds with a message, exits 1, and leaves no documents."""
    records = tmp_path / "bulk.jsonl"
    write_records(records, 6000)
    index = tmp_path / "index"
    child = subprocess.Popen(index_command(records, index), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not children(child.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    victims = children(child.pid)
    assert victims, "the bulk build started no sub-writer"
    os.kill(victims[0], signal.SIGKILL)
    try:
        _out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 1
    assert "sub-writer" in err and "killed by signal 9" in err
    assert "Traceback" not in err
    live = LiveIndex(index)
    try:
        assert live.run(lambda s: s.doc_count()) == 0
    finally:
        live.close()
