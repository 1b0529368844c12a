"""The scale-out path from the command line: `innosearch crawl --queue` seeds a shared Redis
frontier, two `innosearch worker --burst` processes crawl the sample site into one index, and
the index answers searches with facets; on the embedded Whoosh index and on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from innosearch.sample_site import serve

INNOSEARCH = [sys.executable, "-m", "innosearch.cli"]


@pytest.mark.parametrize("backend", ["whoosh", "postgres"])
def test_two_workers_fill_one_index(
    backend: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        server = request.getfixturevalue("pg_server")
        index = str(server.url(server.create_database("scale")))
    else:
        index = str(tmp_path / "index")
    queue = f"{redis_url}/{1 if backend == 'whoosh' else 2}"  # one Redis database per test
    env = {**os.environ, "INNOSEARCH_CRAWL_ALLOW_LOCAL": "1", "INNOSEARCH_CRAWL_DELAY": "0.05"}
    with serve() as site:
        seeded = subprocess.run(
            [*INNOSEARCH, "crawl", site.url(), "--queue", queue, "--index", index],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert seeded.returncode == 0, seeded.stderr
        workers = [
            subprocess.Popen(
                [
                    *INNOSEARCH,
                    "worker",
                    "--queue",
                    queue,
                    "--index",
                    index,
                    "--data",
                    str(tmp_path / f"worker{n}"),
                    "--burst",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in (1, 2)
        ]
        for worker in workers:
            _out, err = worker.communicate(timeout=240)
            assert worker.returncode == 0, err
        paths = [r.path for r in site.requests]
        assert not [p for p in paths if p.startswith("/admin")]  # robots.txt obeyed
        starts = sorted(r.at for r in site.requests)
        assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.04

    search = subprocess.run(
        [*INNOSEARCH, "search", "semiconductor", "--index", index, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    body = json.loads(search.stdout)
    assert body["total"] >= 3 and "integrated-circuits" in body["facets"]["chain"]
    browse = subprocess.run(
        [*INNOSEARCH, "search", "", "--index", index, "--json", "--year", "2021"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    by_year = json.loads(browse.stdout)
    expected = {a["title"] for a in site.articles if a["published"].startswith("2021")}
    assert {r["title"] for r in by_year["results"]} <= expected and by_year["total"] >= 5
