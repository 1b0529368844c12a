"""A running server follows the index: new documents appear without a restart, and a client
searching all the while sees no error through commits and `--rebuild` swaps.

Real processes on loopback: `innosearch serve` (waitress) and `innosearch index` runs beside it.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from crawler.article import Article
from crawler.store import CrawlStore
from indexer.whoosh import LiveIndex, index_articles, rebuild_from_store
from indexer.whoosh.write import index_location, versions_dir
from tests.test_recrawl import INNOSEARCH

WORDS = re.findall(
    r"\w+",
    """wafer fab lithography battery cathode anode solar module turbine hydrogen vaccine antibody
    genome robot sensor satellite rocket quantum qubit graphene polymer reactor grid storage
    charging vehicle drone chip foundry packaging design software cloud model dataset park
    incubator venture fund listing unicorn cluster province city port corridor pilot plant
    factory investment partnership university laboratory patent standard export supply chain""",
)


def article(n: int, word: str = "") -> Article:
    """A distinct article (random text, so near-duplicate grouping keeps each one apart)."""
    rng = random.Random(n)
    text = " ".join(rng.choice(WORDS) for _ in range(120))
    return Article.from_dict(
        {
            "id": f"a{n}",
            "url": f"https://news.example.com/a{n}",
            "title": f"Story {n} {word}".strip(),
            "text": f"{word} {text}".strip(),
            "published": f"2024-01-{n % 28 + 1:02d}",
        }
    )


def add_to_store(data: Path, articles: list[Article]) -> None:
    with CrawlStore(data) as store:
        for a in articles:
            store.write_article(a, fetched_at="2026-01-01T00:00:00Z", http_status=200)


def innosearch(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNOSEARCH_")}
    done = subprocess.run(
        [*INNOSEARCH, *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


class Server:
    """`innosearch serve --port 0` in a child process of its own process group (as a shell
    starts it); its stderr is drained by a thread. `args` add flags, `settings` INNOSEARCH_*
    variables."""

    def __init__(self, index: Path, *args: str, settings: dict[str, str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INNOSEARCH_")}
        self.process = subprocess.Popen(
            [*INNOSEARCH, "serve", "--index", str(index), "--port", "0", *args],
            stderr=subprocess.PIPE,
            text=True,
            env={**env, **(settings or {})},
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._url = threading.Event()
        self.url = ""
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 30
        while not self._url.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"server did not start: {''.join(self.lines)}")

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if found and not self.url:
                self.url = found.group(0)
                self._url.set()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Path, Path]]:
    """(server, data dir, index dir): 30 articles crawled, indexed and served."""
    data, index = tmp_path / "data", tmp_path / "index"
    add_to_store(data, [article(n) for n in range(30)])
    innosearch("index", "--data", str(data), "--index", str(index))
    server = Server(index)
    yield server, data, index
    server.close()


def total(url: str, q: str = "") -> int:
    response = requests.get(url + "api/search", params={"q": q, "per_page": 1}, timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def test_the_served_page_shows_new_documents_without_a_restart(served) -> None:
    server, data, index = served
    assert total(server.url) == 30
    page = requests.get(server.url, params={"q": "zeolite"}, timeout=10)
    assert page.status_code == 200 and "Story 100 zeolite" not in page.text

    add_to_store(data, [article(100, "zeolite"), article(101, "zeolite")])
    innosearch("index", "--data", str(data), "--index", str(index))

    page = requests.get(server.url, params={"q": "zeolite"}, timeout=10)
    assert page.status_code == 200 and "Story 100 zeolite" in page.text
    assert total(server.url) == 32 and total(server.url, "zeolite") == 2
    assert server.process.poll() is None  # the same process all along


def test_no_error_while_the_index_is_committed_and_rebuilt(served) -> None:
    server, data, index = served
    expected = {30}
    seen: list[Any] = []
    stop = threading.Event()
    answered = threading.Condition()  # notified at each answer, and when the client ends
    ended = threading.Event()

    def hammer() -> None:
        session = requests.Session()
        paths = [("api/search", {"q": "", "per_page": 1}), ("", {"q": "battery"})]
        try:
            for n in range(20000):  # bounded, whatever happens
                if stop.is_set():
                    break
                path, params = paths[n % 2]
                try:
                    r = session.get(server.url + path, params=params, timeout=10)
                    got = r.json()["total"] if path and r.status_code == 200 else r.status_code
                except Exception as e:  # a reset connection is an error the test must report
                    got = repr(e)
                with answered:
                    seen.append(got)
                    answered.notify_all()
        finally:
            with answered:
                ended.set()
                answered.notify_all()

    client = threading.Thread(target=hammer)
    client.start()

    def searches_go_on() -> None:
        """Waits until the client has had 20 more answers (not a fixed pause: on a busy
        machine a pause may pass with none)."""
        with answered:
            mark = len(seen)
            went_on = answered.wait_for(
                lambda: len(seen) >= mark + 20 or ended.is_set(), timeout=60
            )
        assert went_on, "the client got no 20 answers in 60 s"

    try:
        for step in range(3):
            searches_go_on()
            new = [article(200 + 10 * step + k) for k in range(5)]
            add_to_store(data, new)
            expected.add(max(expected) + len(new))
            innosearch("index", "--data", str(data), "--index", str(index))
            searches_go_on()
            innosearch("index", "--rebuild", "--data", str(data), "--index", str(index))
        searches_go_on()
    finally:
        stop.set()
        client.join(timeout=30)

    errors = [s for s in seen if not isinstance(s, int) or s not in expected | {200}]
    assert not errors, errors[:5]
    totals = [s for s in seen if isinstance(s, int) and s != 200]
    assert len(seen) > 50 and totals[-1] == 45
    assert totals == sorted(totals)  # never back to an older or emptier index
    # One version left after the swaps: the link points at it, the old ones were removed.
    assert (index / "current").is_symlink() and [p.name for p in versions_dir(index).iterdir()] == [
        index_location(index).name
    ]


def test_an_index_written_in_place_gets_versions_at_its_first_rebuild(tmp_path: Path) -> None:
    """Indexes made before the versioned layout hold Whoosh's files directly; a rebuild moves
    them to a version behind `current`, and a LiveIndex opened on the old one follows."""
    from whoosh import index as whoosh_index

    from indexer.whoosh.schema import make_schema

    index, data = tmp_path / "index", tmp_path / "data"
    index.mkdir()
    (index / "README.md").write_text("placeholder kept by the repository")
    whoosh_index.create_in(index, make_schema()).close()
    index_articles(index, [article(1), article(2)])
    assert not (index / "current").exists()  # written in place, the old way
    add_to_store(data, [article(n) for n in range(5)])
    live = LiveIndex(index)
    try:
        assert live.run(lambda s: s.doc_count()) == 2
        with CrawlStore(data) as store:
            rebuild_from_store(index, store)
        assert (index / "current").is_symlink()
        assert index_location(index).parent == versions_dir(index)
        assert live.run(lambda s: s.doc_count()) == 5
    finally:
        live.close()
    assert not list(index.glob("_MAIN_*")) and not list(index.glob(".current.*"))
    assert (index / "README.md").exists()  # other files in the directory are left alone


def test_stats_report_the_version_and_age(served) -> None:
    _server, data, index = served
    out = subprocess.run(
        [*INNOSEARCH, "stats", "--json", "--data", str(data), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    stats = json.loads(out.stdout)["index"]
    assert stats["documents"] == 30 and stats["version"] == index_location(index).name
    assert stats["bytes"] > 0 and 0 <= stats["age_hours"] < 1
