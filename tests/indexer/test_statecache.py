"""Per-state values are computed once, by one thread, however many searches arrive together;
an optional value is skipped, not waited for, while another thread computes it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from whoosh.searching import Searcher

from indexer.whoosh import LiveIndex, index_articles
from indexer.whoosh.statecache import StateCache
from tests.conftest import fixture_articles


def test_eight_threads_on_a_new_state_compute_once_and_all_get_the_value(
    built_index: Path,
) -> None:
    cache, calls, started = StateCache(), [], threading.Barrier(8)
    live = LiveIndex(built_index)

    def slow_count(searcher: Searcher) -> int:
        calls.append(threading.get_ident())
        time.sleep(0.3)
        return searcher.doc_count()

    results: list[int] = []

    def search() -> None:
        started.wait()
        results.append(live.run(lambda s: cache.get(s, "count", slow_count)))

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    live.close()
    assert len(calls) == 1
    assert results == [7] * 8


def test_an_optional_value_is_skipped_while_another_thread_computes_it(
    built_index: Path,
) -> None:
    cache = StateCache()
    live = LiveIndex(built_index)
    computing = threading.Event()
    release = threading.Event()

    def spelling(searcher: Searcher) -> str:
        computing.set()
        release.wait(10)
        return "ready"

    first = threading.Thread(target=lambda: live.run(lambda s: cache.peek(s, "sp", spelling)))
    first.start()
    computing.wait(10)
    started = time.monotonic()
    assert live.run(lambda s: cache.peek(s, "sp", spelling)) is None  # not waited for
    assert time.monotonic() - started < 1
    release.set()
    first.join()
    assert live.run(lambda s: cache.peek(s, "sp", spelling)) == "ready"
    live.close()


def test_a_new_commit_is_a_new_state(tmp_path: Path) -> None:
    articles = fixture_articles()
    index_articles(tmp_path / "ix", articles[:3])
    cache, live = StateCache(), LiveIndex(tmp_path / "ix")
    count = lambda s: s.doc_count()  # noqa: E731
    assert live.run(lambda s: cache.get(s, "n", count)) == 3
    index_articles(tmp_path / "ix", articles[3:])
    assert live.run(lambda s: cache.get(s, "n", count)) == len(articles)
    live.close()
