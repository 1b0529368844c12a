"""Searching under load while the indexer commits: no 5xx, no dropped connection, no torn export.

Whoosh has one writer and many readers; a commit writes new segment files and may merge and
delete old ones under readers still using them. A real waitress server on loopback serves a
real index while client threads hammer `/api/search` and stream `/api/export.jsonl`, and
another thread commits new articles into the same index again and again (the way
`innosearch index` does beside a running server). Every answer must be a 200 with a whole
body, and no client may see the index go back to an older state.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import requests

from crawler.article import Article
from indexer.whoosh import index_articles
from tests.conftest import fixture_articles
from tests.loopback import running
from tests.test_live_refresh import article
from web import create_app, get_index
from web.server import serve_app, server_url

CLIENTS = 4
REQUESTS_PER_CLIENT = 80  # 320 requests in all, half of them whole exports
MAX_COMMITS = 60


@contextmanager
def loopback_server(index_dir: Path, config: dict[str, Any] | None = None) -> Iterator[str]:
    """The app served by waitress (`web.server.serve_app`) on 127.0.0.1 and a free port, run
    in a thread (`tests.loopback.running`); yields its URL, then stops it and closes the app's
    index."""
    app = create_app({**(config or {}), "INDEX_DIR": str(index_dir)})
    server = serve_app(app, port=0, threads=4)
    try:
        with running(server):
            yield server_url(server)
    finally:
        get_index(app).close()


def batch(n: int) -> list[Article]:
    """Three new articles that every `q=wafer` search and export finds."""
    return [
        Article.from_dict(
            {
                "id": f"commit-{n}-{k}",
                "url": f"https://news.example.com/commit/{n}/{k}",
                "title": f"Wafer fab update {n}.{k}",
                "text": f"Wafer fab number {n} {k} adds lithography lines "
                + " ".join(f"w{n}x{k}y{i}" for i in range(40)),
                "published": f"2024-03-{n % 28 + 1:02d}",
            }
        )
        for k in range(3)
    ]


def race(clients: list[Callable[[], None]], commit: Callable[[int], None]) -> int:
    """Runs the clients in threads while another thread calls `commit(0)`, `commit(1)`, ...
    until they have finished (at most MAX_COMMITS times); returns how many commits it made."""
    clients_done = threading.Event()
    commits = 0

    def writer() -> None:
        nonlocal commits
        while not clients_done.is_set() and commits < MAX_COMMITS:
            commit(commits)
            commits += 1

    writing = threading.Thread(target=writer)
    threads = [threading.Thread(target=c) for c in clients]
    writing.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    clients_done.set()
    writing.join(timeout=60)
    return commits


def test_searches_and_exports_see_no_error_while_the_index_commits(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index_articles(index, fixture_articles())
    start = requests.Session()
    failures: list[str] = []
    seen: dict[int, list[int]] = {c: [] for c in range(CLIENTS)}

    def client(number: int) -> None:
        session = requests.Session()
        for n in range(REQUESTS_PER_CLIENT):
            export = n % 2 == 1
            path = "api/export.jsonl" if export else "api/search"
            try:
                r = session.get(url + path, params={"q": "wafer", "per_page": 5}, timeout=30)
                if r.status_code != 200:
                    failures.append(f"{path}: HTTP {r.status_code}: {r.text[:200]}")
                    continue
                if export:
                    rows = [json.loads(line) for line in r.text.splitlines()]
                    seen[number].append(len(rows))
                else:
                    seen[number].append(r.json()["total"])
            except (requests.RequestException, ValueError) as e:
                failures.append(f"{path}: {e!r}")

    with loopback_server(index, {"RATE_LIMIT_PER_SECOND": 0}) as url:
        first = start.get(url + "api/search", params={"q": "wafer"}, timeout=10).json()["total"]
        started = time.monotonic()
        commits = race(
            [partial(client, c) for c in range(CLIENTS)],
            lambda n: index_articles(index, batch(n)),
        )
        elapsed = time.monotonic() - started
        last = start.get(url + "api/search", params={"q": "wafer"}, timeout=10).json()["total"]

    assert not failures, failures[:5]
    assert commits >= 3, f"only {commits} commits in {elapsed:.1f} s: the test raced nothing"
    assert last == first + 3 * commits  # every commit is visible at the end
    for totals in seen.values():
        assert len(totals) == REQUESTS_PER_CLIENT
        searches, exports = totals[0::2], totals[1::2]
        assert searches == sorted(searches) and exports == sorted(exports)  # never older
        assert first <= min(totals) and max(totals) <= last


def test_long_exports_stream_whole_while_commits_merge_segments(tmp_path: Path) -> None:
    """Exports of a few hundred rows take long enough for commits to merge segments under
    them: every export must still arrive whole, with every row."""
    index = tmp_path / "index"
    index_articles(index, [article(n, "wafer") for n in range(300)])
    failures: list[str] = []
    rows: list[int] = []

    def client() -> None:
        session = requests.Session()
        for _ in range(12):
            try:
                r = session.get(url + "api/export.jsonl", params={"q": "wafer"}, timeout=60)
                if r.status_code != 200:
                    failures.append(f"HTTP {r.status_code}: {r.text[:200]}")
                else:
                    rows.append(len([json.loads(line) for line in r.text.splitlines()]))
            except (requests.RequestException, ValueError) as e:
                failures.append(repr(e))

    with loopback_server(index, {"RATE_LIMIT_PER_SECOND": 0}) as url:
        commits = race(
            [client] * 3,
            lambda n: index_articles(index, [*batch(n), article(1000 + n, "wafer")]),
        )

    assert not failures, failures[:3]
    assert commits >= 3 and len(rows) == 36 and min(rows) >= 300
