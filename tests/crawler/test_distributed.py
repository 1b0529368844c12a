"""The distributed crawl end to end: a real redis-server, the sample news site on loopback, and
two worker processes crawling it into one Whoosh index.

What the site saw is the evidence: requests to the host never closer than the delay whichever
worker sent them, robots.txt read once for both, /admin/ never asked for, each article fetched
once (or, after a worker was killed, again only for the URLs it held). What the index holds is
the outcome: every article, searchable with its facets.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from crawler.distributed.frontier import Frontier, seed
from crawler.distributed.worker import SinkItem, WorkerOptions, run_worker
from crawler.settings import CrawlSettings
from indexer import SearchRequest
from indexer.whoosh import LiveIndex, search
from innosearch.sample_site import (
    Hit,
    LoopbackSite,
    SampleSite,
    article_path,
    load_articles,
    serve,
)
from innosearch.sample_site.wire import build_news_site, move

ROOT = Path(__file__).resolve().parents[2]
DELAY = 0.2
# Clock granularity between the site's monotonic clock and Redis TIME (microseconds, rounded).
EPSILON = 0.002


def _stats(redis_url: str, prefix: str) -> dict[str, int]:
    frontier = Frontier.from_url(redis_url, prefix)
    try:
        return frontier.stats()
    finally:
        frontier.redis.close()


def _site(count: int) -> SampleSite:
    return serve(articles=load_articles()[:count])


def _start(
    name: str, redis_url: str, prefix: str, root: Path, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.crawler.worker_main",
            redis_url,
            str(root / f"data-{name}"),
            str(root / "index"),
            "--name",
            name,
            "--delay",
            str(DELAY),
            "--prefix",
            prefix,
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 40) -> dict[str, object]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"worker did not finish in {timeout} s: {err[-2000:]}")
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def _worker_of(record: Hit) -> str:
    return record.user_agent.split("/", 1)[0].removeprefix("innosearch-test-")


def _assert_polite(records: list[Hit]) -> None:
    times = sorted(r.at for r in records)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= DELAY - EPSILON, f"two requests {min(gaps):.3f} s apart"
    assert not [r.path for r in records if r.path.startswith("/admin")]
    assert [r.path for r in records].count("/robots.txt") == 1  # shared by both workers
    assert records[0].path == "/robots.txt"


def _indexed_urls(index: Path) -> tuple[set[str], dict[str, object]]:
    live = LiveIndex(index)
    try:
        body = search(live, SearchRequest(per_page=100))
        urls = {r["url"] for r in body["results"]} | {
            also["url"] for r in body["results"] for also in r["also"]
        }
        return urls, body
    finally:
        live.close()


def test_two_workers_share_the_frontier_politeness_and_index(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    with _site(20) as site:
        settings = CrawlSettings(allow_local=True, delay=DELAY, max_pages=200)
        # Nothing on the site links to /admin/, so a seed does: robots.txt must keep it out.
        seeds = [site.url(), site.url("/admin/drafts/")]
        assert seed(redis_url, seeds, settings, prefix=prefix) == 3  # and /sitemap.xml
        workers = [_start(name, redis_url, prefix, tmp_path) for name in ("w1", "w2")]
        summaries = [_finish(proc) for proc in workers]
        records = site.requests

    _assert_polite(records)
    articles = [article_path(a) for a in site.articles]
    fetched = Counter(r.path.split("?", 1)[0] for r in records)
    assert {path: fetched[path] for path in articles} == dict.fromkeys(articles, 1)
    by_worker = Counter(_worker_of(r) for r in records if r.path in articles)
    assert set(by_worker) == {"w1", "w2"}, by_worker  # both did some of the work
    assert all(s["stopped"] == "done" and s["lost_leases"] == 0 for s in summaries)
    assert sum(int(s["articles"]) for s in summaries) == len(articles)  # type: ignore[call-overload]

    urls, _ = _indexed_urls(tmp_path / "index")
    assert urls == {site.article_url(a) for a in site.articles}
    # Facets work on what the workers wrote: a year narrows the results and is counted.
    live = LiveIndex(tmp_path / "index")
    try:
        everything = search(live, SearchRequest())
        year, count = next(iter(everything["facets"]["year"].items()))
        narrowed = search(live, SearchRequest(filters={"year": [year]}, per_page=100))
    finally:
        live.close()
    assert 0 < narrowed["total"] == count < everything["total"]
    assert {r["year"] for r in narrowed["results"]} == {int(year)}
    stats = _stats(redis_url, prefix)
    assert stats["queued"] == 0 and stats["in_flight"] == 0 and stats["disallowed"] == 1


def test_a_killed_workers_urls_are_crawled_after_its_lease_expires(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    lease = 1.5
    marker = tmp_path / "hung"
    with _site(10) as site:
        settings = CrawlSettings(allow_local=True, delay=DELAY)
        seed(redis_url, [site.url()], settings, prefix=prefix)
        lease_args = ("--lease", str(lease))
        doomed = _start(
            "doomed", redis_url, prefix, tmp_path, *lease_args, "--hang-marker", str(marker)
        )
        survivor = _start("survivor", redis_url, prefix, tmp_path, *lease_args)
        try:
            deadline = time.monotonic() + 20
            while not marker.exists():
                assert time.monotonic() < deadline, "the doomed worker never wrote a batch"
                assert doomed.poll() is None, doomed.communicate()[1][-2000:]
                time.sleep(0.02)
            held_articles = json.loads(marker.read_text())
            client = redis.Redis.from_url(redis_url)
            leases = [m.decode() for m in client.zrange(f"{prefix}:leases", 0, -1)]
            client.close()
            held = {json.loads(m.split("\t", 2)[2])["url"] for m in leases if "\tdoomed\t" in m}
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.communicate()
        killed_at = time.monotonic()
        summary = _finish(survivor)
        records = site.requests

    assert held and set(held_articles) <= held  # it died holding leases of unindexed articles
    _assert_polite(records)
    refetched = {
        site.base + r.path for r in records if _worker_of(r) == "survivor" and r.at > killed_at
    }
    assert held <= refetched  # every URL the dead worker held was crawled again
    fetched = Counter(r.path.split("?", 1)[0] for r in records)
    twice = {path for path, n in fetched.items() if n > 1}
    assert {site.base + p for p in twice} <= held  # and nothing else twice
    assert summary["stopped"] == "done"
    assert _stats(redis_url, prefix)["requeued"] >= len(held)

    urls, _ = _indexed_urls(tmp_path / "index")
    assert urls == {site.article_url(a) for a in site.articles}


def test_a_moved_article_reaches_the_index_as_one_document(
    redis_url: str, prefix: str, site: LoopbackSite, settings: CrawlSettings, tmp_path: Path
) -> None:
    """A worker re-crawl of a page that moved (301 to a new URL) hands the index the new
    document and takes the old one down, as the single-process crawl does."""
    build_news_site(site, crawl_delay=0.01)
    received: list[SinkItem] = []
    options = WorkerOptions(prefix=prefix, poll=0.05, batch_seconds=0.1)
    for _ in range(2):
        seed(redis_url, [site.url("/")], settings, prefix=prefix)
        run_worker(redis_url, settings, tmp_path, received.extend, burst=True, options=options)
        move(site, "gamma", "/2024/gamma-hydrogen")

    live: dict[str, str] = {}
    for article, _at, _status, gone in received:
        if gone:
            live.pop(article.id, None)
        else:
            live[article.id] = article.canonical_url or article.url
    stories = sorted(url for url in live.values() if "/news/" in url or "/2024/" in url)
    assert stories == sorted(
        site.url(path)
        for path in (
            "/news/alpha",
            "/news/beta",
            "/news/delta",
            "/news/epsilon",
            "/2024/gamma-hydrogen",
        )
    )
