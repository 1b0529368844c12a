"""No search shape takes the service down: on a few thousand real news articles, every query
shape that used to run for tens of seconds (open wildcards and ranges, broad prefixes, huge
proximity) answers within 2 s on a quiet machine, while another client's plain search keeps
answering."""

from __future__ import annotations

import csv
import gzip
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from crawler.article import Article
from indexer.whoosh import index_articles
from tests.web.test_search_under_commits import loopback_server

ARTICLES = 3000

# The shapes of issue #20, each of which ran 10-90 s (or past 2 GB) before the limits.
EXPENSIVE = [
    "text:*",
    "[TO]",
    "url:ht*",
    "title:[a TO z]",
    "ma*",
    "co*",
    '"oil price"~99999999999999999999',
    '"oil price"~50',  # the widest proximity allowed, over a 20,000-word article
    "date:[TO]",
    "year:[TO 2100]",
]


def news(shared: Path, count: int) -> list[Article]:
    path = shared / "data" / "news" / "NewsArticles.csv.gz"
    articles = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("title") and row.get("text"):
                articles.append(
                    Article(
                        url=f"https://news.example/{row['article_id']}",
                        id=f"na-{row['article_id']}",
                        title=row["title"].strip(),
                        text=row["text"].strip(),
                    )
                )
            if len(articles) == count:
                break
    return articles


@pytest.fixture(scope="module")
def served(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    articles = news(shared, ARTICLES)
    long_text = " ".join(a.text for a in articles[:60]).split()[:20000]
    articles.append(
        Article(url="https://news.example/long", title="Long", text=" ".join(long_text))
    )
    index = tmp_path_factory.mktemp("cost") / "index"
    index_articles(index, articles)
    with loopback_server(index, {"RATE_LIMIT_PER_SECOND": 0}) as url:
        yield url


def test_the_real_index_is_big_enough(served: str) -> None:
    total = requests.get(served + "api/search?q=", timeout=30).json()["total"]
    assert total >= ARTICLES * 0.9  # near-duplicates count once


@pytest.mark.parametrize("q", EXPENSIVE)
def test_each_expensive_shape_answers_within_2_s_beside_a_plain_search(served: str, q: str) -> None:
    plain: list[float] = []
    stop = threading.Event()

    def other_client() -> None:
        while not stop.is_set():
            started = time.monotonic()
            answer = requests.get(served + "api/search?q=election", timeout=30)
            assert answer.status_code == 200
            plain.append(time.monotonic() - started)

    neighbour = threading.Thread(target=other_client)
    neighbour.start()
    try:
        started = time.monotonic()
        answer = requests.get(served + "api/search", params={"q": q}, timeout=30)
        took = time.monotonic() - started
    finally:
        stop.set()
        neighbour.join(timeout=30)
    assert answer.status_code in (200, 400), answer.text[:200]
    if answer.status_code == 400:
        assert answer.json()["error"]
    # 2 s on a quiet machine; on a loaded one, in proportion to what a plain search takes at
    # the same moment (the cost model bounds work, not the machine's other load): 'url:ht*'
    # took 25 times a plain search at load 9, and these shapes once took tens of seconds.
    limit = max(2.0, 50 * statistics.median(plain)) if plain else 2.0
    assert took < limit, f"{q!r} took {took:.1f} s (plain searches: {plain})"
    assert plain and max(plain) < limit, plain


def test_limits_say_what_to_do(served: str) -> None:
    broad = requests.get(served + "api/search", params={"q": "co* election"}, timeout=30).json()
    assert "more than 256 different words" in broad["error"] and broad["fix"] == "election"
    wide = requests.get(served + "api/search", params={"q": '"oil price"~999'}, timeout=30).json()
    assert "at most ~50" in wide["error"] and wide["fix"] == '"oil price"~50'
