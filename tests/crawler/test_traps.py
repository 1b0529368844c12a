"""The trap site, crawled twice: every trap judged by what the server saw or what the store holds.

One crawl per phase serves many assertions, so the module crawls once (module-scoped fixture)
and each test reads the same record. See `innosearch.sample_site.wire.TrapSite` for the traps.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from crawler.crawl import CrawlSummary, crawl
from crawler.fetch import Fetcher
from crawler.settings import CrawlSettings
from crawler.store import CrawlStore, StoredArticle
from innosearch.sample_site import Hit, LoopbackSite, Route
from innosearch.sample_site.wire import (
    GBK_PHRASE,
    GBK_TITLE,
    HUGE_CHUNK,
    HUGE_CHUNKS,
    NEW_ARTICLE,
    RETRY_AFTER,
    TRAP_CRAWL_DELAY,
    TrapSite,
)

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 1.0
MAX_BYTES = 256 * 1024
SETTINGS = CrawlSettings(
    user_agent="innosearch-test/0.1 (+https://example.org/test)",
    delay=0.01,
    max_pages=100,
    max_depth=5,
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=DEADLINE,
    max_bytes=MAX_BYTES,
    retries=2,
    allow_local=True,
    workers=4,
)


@dataclass
class Phase:
    summary: CrawlSummary
    hits: list[Hit]
    articles: dict[str, StoredArticle]  # by canonical URL, gone ones included
    changed: dict[str, StoredArticle]  # written or marked gone during this phase


@dataclass
class TrapRun:
    trap: TrapSite
    data: Path
    one: Phase
    two: Phase


def _crawl_phase(trap: TrapSite, data: Path) -> Phase:
    trap.site.clear()
    with CrawlStore(data) as store, Fetcher(SETTINGS, backoff=0.05) as fetcher:
        since = store.max_seq()
        summary = crawl(
            [trap.base + "/", trap.base + "/atom.xml"], store, SETTINGS, fetcher=fetcher
        )
        articles = {a.article.canonical_url or "": a for a in store.articles_since(0)}
        changed = {a.article.canonical_url or "": a for a in store.articles_since(since)}
    return Phase(summary, trap.site.requests, articles, changed)


@pytest.fixture(scope="module")
def trap_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrapRun]:
    with LoopbackSite() as site:
        trap = TrapSite(site)
        data = tmp_path_factory.mktemp("trap-data")
        one = _crawl_phase(trap, data)
        trap.to_phase_two()
        two = _crawl_phase(trap, data)
        yield TrapRun(trap, data, one, two)


def _most_at_once(hits: list[Hit]) -> int:
    """The most requests the server was answering at one moment.

    A response the client hung up on (slow, huge) is left out: the server only notices the
    hang-up at its next write, so its handler outlives the connection.
    """
    events = sorted(
        [(hit.at, 1) for hit in hits if not hit.aborted]
        + [(hit.ended_at, -1) for hit in hits if not hit.aborted]
    )
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def _paths(phase: Phase) -> list[str]:
    return [hit.path for hit in phase.hits]


def _hits(phase: Phase, path: str) -> list[Hit]:
    return [hit for hit in phase.hits if hit.path == path]


# -- politeness -------------------------------------------------------------------------------


def test_robots_first_and_the_disallowed_folder_never_requested(trap_run: TrapRun) -> None:
    for phase in (trap_run.one, trap_run.two):
        paths = _paths(phase)
        assert paths[0] == "/robots.txt"
        assert paths.count("/robots.txt") == 1
        assert not [p for p in paths if p.startswith("/private/")], paths
        assert phase.summary.disallowed >= 1


def test_crawl_delay_holds_between_any_two_requests(trap_run: TrapRun) -> None:
    for phase in (trap_run.one, trap_run.two):
        starts = sorted(hit.at for hit in phase.hits)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert min(gaps) >= TRAP_CRAWL_DELAY, sorted(gaps)[:5]
        # ...and never two requests at once on the one host, though four workers were free.
        assert _most_at_once(phase.hits) == 1


def test_503_is_retried_after_its_retry_after(trap_run: TrapRun) -> None:
    first, second = _hits(trap_run.one, "/news/delta")
    assert first.status == 503 and second.status == 200
    assert second.at - first.at >= RETRY_AFTER
    assert trap_run.trap.base + "/news/delta" in trap_run.one.articles


def test_user_agent_names_the_project_and_a_contact(trap_run: TrapRun) -> None:
    agents = {hit.headers.get("user-agent") for hit in trap_run.one.hits}
    assert agents == {SETTINGS.user_agent}


# -- discovery --------------------------------------------------------------------------------


def test_sitemap_index_feeds_and_pagination_lead_to_their_articles(trap_run: TrapRun) -> None:
    paths = _paths(trap_run.one)
    base = trap_run.trap.base
    # Only the gzipped sitemap behind the index lists epsilon; only the RSS feed linked from
    # the front page lists zeta; only the Atom feed given as a seed lists iota (its enclosure
    # is not followed); only page 2, declared by <link rel=next>, links eta.
    assert paths.index("/sitemap_index.xml") < paths.index("/sitemaps/news.xml.gz")
    assert "/media/turbine.mp3" not in paths
    for slug in ("epsilon", "zeta", "iota", "eta"):
        assert f"{base}/news/{slug}" in trap_run.one.articles, slug
    assert "/section?page=2" in paths


def test_off_site_links_pdfs_and_tracking_parameters_are_not_requested(
    trap_run: TrapRun,
) -> None:
    paths = _paths(trap_run.one)
    assert "/report.pdf" not in paths
    assert not [p for p in paths if "utm_" in p or "fbclid" in p or "gclid" in p], paths
    # Each URL asked once; only the 503 page twice (its retry).
    repeated = {p for p in paths if paths.count(p) > 1}
    assert repeated == {"/news/delta"}, repeated


def test_a_pdf_behind_an_innocent_url_is_not_read(trap_run: TrapRun) -> None:
    (hit,) = _hits(trap_run.one, "/download?id=7")
    assert hit.status == 200
    with CrawlStore(trap_run.data) as store:
        note = store.frontier_note(trap_run.trap.base + "/download?id=7") or ""
        assert not store.has_raw(trap_run.trap.base + "/download?id=7")
    assert "unwanted content type application/pdf" in note


# -- URL hygiene ------------------------------------------------------------------------------


def test_one_document_per_article(trap_run: TrapRun) -> None:
    one = trap_run.one
    assert set(one.articles) == trap_run.trap.article_urls(1)
    titles = [a.article.title for a in one.articles.values()]
    assert len(titles) == len(set(titles))
    beta = one.articles[trap_run.trap.base + "/news/beta"]
    assert beta.article.url == trap_run.trap.base + "/news/beta"  # not the print version
    assert "(print)" not in beta.article.title
    assert one.summary.articles_new == len(trap_run.trap.article_urls(1))


def test_redirect_is_followed_and_recorded(trap_run: TrapRun) -> None:
    paths = _paths(trap_run.one)
    assert paths.index("/news/gamma") == paths.index("/old") + 1
    base = trap_run.trap.base
    with CrawlStore(trap_run.data) as store:
        state = store.page_state(base + "/old")
    assert state is not None and state.final_url == base + "/news/gamma"
    assert trap_run.one.articles[base + "/news/gamma"].article.url == base + "/news/gamma"


def test_redirect_loop_is_detected_and_recorded(trap_run: TrapRun) -> None:
    paths = _paths(trap_run.one)
    assert paths.count("/loop-a") == 1 and paths.count("/loop-b") == 1
    assert not [p for p in paths if p.startswith("/loop-a?")]
    with CrawlStore(trap_run.data) as store:
        note = store.frontier_note(trap_run.trap.base + "/loop-a") or ""
        state = store.page_state(trap_run.trap.base + "/loop-a")
    assert "redirect loop" in note
    assert state is not None and state.status == 302


# -- fetch safety -----------------------------------------------------------------------------


def test_slow_page_is_cut_off_at_the_deadline(trap_run: TrapRun) -> None:
    (hit,) = _hits(trap_run.one, "/slow")  # cut off, and not retried
    assert hit.aborted, "the server finished a page that should have taken 20 s"
    assert hit.ended_at - hit.at < DEADLINE + 1.0
    with CrawlStore(trap_run.data) as store:
        assert "too slow" in (store.frontier_note(trap_run.trap.base + "/slow") or "")


def test_huge_page_is_cut_off_while_streaming(trap_run: TrapRun) -> None:
    (hit,) = _hits(trap_run.one, "/huge")
    assert hit.aborted
    # The client stops after MAX_BYTES; what the server managed to write beyond that went
    # into socket buffers, a few MB at most, not the 48 MB of the page.
    assert hit.sent < MAX_BYTES + 16 * 1024 * 1024 < len(HUGE_CHUNK) * HUGE_CHUNKS
    with CrawlStore(trap_run.data) as store:
        assert "too large" in (store.frontier_note(trap_run.trap.base + "/huge") or "")
        assert not store.has_raw(trap_run.trap.base + "/huge")


# -- encodings --------------------------------------------------------------------------------


def test_gbk_page_declared_only_in_a_meta_tag_decodes(trap_run: TrapRun) -> None:
    (hit,) = _hits(trap_run.one, "/zh/gbk")
    assert "charset" not in hit.headers.get("content-type", "")  # the request's; see the route
    article = trap_run.one.articles[trap_run.trap.base + "/zh/gbk"].article
    assert article.title == GBK_TITLE
    assert GBK_PHRASE in article.text


# -- the second phase: incremental ------------------------------------------------------------


def test_second_phase_is_conditional_and_incremental(trap_run: TrapRun) -> None:
    two, base = trap_run.two, trap_run.trap.base
    by_path = {hit.path: hit for hit in two.hits}
    # Unchanged pages: asked with If-None-Match, answered 304, nothing re-extracted.
    for path in ("/", "/news/beta", "/news/gamma", "/news/zeta", "/zh/gbk", "/section?page=2"):
        assert by_path[path].headers.get("if-none-match"), path
        assert by_path[path].status == 304, path
    assert two.summary.not_modified >= 8
    # Only the corrected, the gone and the new article changed in the store.
    theta = f"{base}/news/{NEW_ARTICLE[0]}"
    assert set(two.changed) == {base + "/news/alpha", base + "/news/epsilon", theta}
    assert two.changed[base + "/news/alpha"].article.title.endswith("(corrected)")
    assert two.changed[base + "/news/epsilon"].gone
    assert two.changed[base + "/news/epsilon"].http_status == 404
    assert not two.changed[theta].gone
    assert (two.summary.articles_new, two.summary.articles_updated) == (1, 1)
    assert two.summary.articles_gone == 1
    live = {url for url, a in two.articles.items() if not a.gone}
    assert live == trap_run.trap.article_urls(2)


def test_page_without_validators_is_skipped_by_its_content_hash(trap_run: TrapRun) -> None:
    (hit,) = _hits(trap_run.two, "/news/kappa")
    assert "if-none-match" not in hit.headers and hit.status == 200
    assert trap_run.trap.base + "/news/kappa" not in trap_run.two.changed


def test_second_phase_keeps_the_traps_shut(trap_run: TrapRun) -> None:
    paths = _paths(trap_run.two)
    assert not [p for p in paths if p.startswith("/private/")]
    assert not [p for p in paths if "utm_" in p or "fbclid" in p]


# -- several hosts at once --------------------------------------------------------------------


def test_hosts_are_crawled_concurrently_one_request_each(tmp_path: Path) -> None:
    sites = [LoopbackSite() for _ in range(3)]
    try:
        for site in sites:
            TrapSite(site, crawl_delay=0.05)
            # Front pages take 0.3 s to arrive, as a real site's might: a crawl that fetches
            # hosts in turn never overlaps them; one that crawls hosts concurrently always does.
            front = site.routes["/"]
            assert isinstance(front, Route)
            half = len(front.body) // 2
            site.routes["/"] = replace(
                front, chunks=(front.body[:half], front.body[half:]), pause=0.3
            )
        with CrawlStore(tmp_path) as store, Fetcher(SETTINGS, backoff=0.05) as fetcher:
            settings = replace(SETTINGS, max_pages=18)
            crawl([s.url("/") for s in sites], store, settings, fetcher=fetcher)
    finally:
        for site in sites:
            site.close()
    assert all(_most_at_once(site.requests) == 1 for site in sites)
    # Requests to different hosts overlapped in time: some request to one host started while
    # a request to another was being answered.
    spans = [(hit.at, hit.ended_at, n) for n, site in enumerate(sites) for hit in site.requests]
    overlapping = any(
        a_start < b_start < a_end and a_host != b_host
        for (a_start, a_end, a_host), (b_start, _, b_host) in itertools.permutations(spans, 2)
    )
    assert overlapping


# -- killed with SIGKILL, restarted -----------------------------------------------------------


def _cli(data: Path, base: str, cwd: Path, *, killed: bool = False) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "INNOSEARCH_CRAWL_ALLOW_LOCAL": "1",
        "INNOSEARCH_CRAWL_DEADLINE": "0.5",
        "INNOSEARCH_CRAWL_MAX_BYTES": str(MAX_BYTES),
        "INNOSEARCH_CRAWL_READ_TIMEOUT": "1",
        "INNOSEARCH_CRAWL_MAX_DEPTH": "5",
    }
    env.pop("INNOSEARCH_CONFIG", None)
    command = [sys.executable, "-m", "innosearch.cli", "crawl", base + "/", base + "/atom.xml"]
    command += ["--data", str(data), "--delay", "0.01", "--max-pages", "100"]
    stderr = subprocess.DEVNULL if killed else subprocess.PIPE
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def _live_articles(data: Path) -> dict[str, tuple[object, ...]]:
    with CrawlStore(data) as store:
        return {
            a.article.id: (a.article.canonical_url, a.article.title, a.article.text, a.gone)
            for a in store.articles_since(0)
        }


def test_crawl_killed_with_sigkill_resumes_to_the_same_articles(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        trap = TrapSite(site, crawl_delay=0.02)
        killed = tmp_path / "killed"
        process = _cli(killed, trap.base, tmp_path, killed=True)
        # Kill it mid-crawl: as the twelfth answer has been sent, while the crawl reads,
        # archives and stores it (a WARC write, a commit) or fetches the next.
        site.wait_until(lambda requests: len(requests) >= 12 and requests[11].ended_at, timeout=30)
        assert process.poll() is None, "the crawl ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
        partial = _live_articles(killed)
        seen_before = len(site.requests)

        restarted = _cli(killed, trap.base, tmp_path)
        _, err = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, err.decode()
        assert len(site.requests) > seen_before

        whole = tmp_path / "whole"
        uninterrupted = _cli(whole, trap.base, tmp_path)
        _, err = uninterrupted.communicate(timeout=60)
        assert uninterrupted.returncode == 0, err.decode()
    expected = _live_articles(whole)
    assert len(partial) < len(expected)  # the kill really did interrupt the crawl
    assert _live_articles(killed) == expected
    assert {url for url, *_ in expected.values()} == trap.article_urls(1)
