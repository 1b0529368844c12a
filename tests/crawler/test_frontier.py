"""The shared frontier's logic on a real redis-server: seen-set, order, leases, budget,
politeness times.

Time is a test clock passed to the frontier's Lua scripts, so lease expiry is stepped through
without sleeping. What real worker processes do together is tested in test_distributed.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from crawler.distributed.frontier import Frontier, SharedRobotsCache, entry_for, seed_frontier
from crawler.fetch import Fetcher, FetchResult
from crawler.settings import CrawlSettings

SITE = "http://news.example.com"
LEASE = 30.0


class Clock:
    """A settable time for the scripts (seconds, like Redis TIME)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(redis_url: str, prefix: str) -> Iterator[tuple[str, str]]:
    """The server and this test's own key prefix: what every worker's handle shares."""
    yield redis_url, prefix


def _frontier(server: tuple[str, str], clock: Clock) -> Frontier:
    """One worker's handle; two handles on one server behave like two machines."""
    url, prefix = server
    return Frontier(redis.Redis.from_url(url), prefix, clock=clock)


@pytest.fixture
def frontier(server: tuple[str, str], clock: Clock) -> Iterator[Frontier]:
    handle = _frontier(server, clock)
    yield handle
    handle.redis.close()


def _settings(**changes: object) -> CrawlSettings:
    settings = CrawlSettings(delay=0.5, max_pages=100, max_depth=3)
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


def _claim_url(frontier: Frontier, worker: str = "w1") -> tuple[str, str]:
    claim = frontier.claim(worker, LEASE)
    assert claim.status == "url" and claim.entry is not None, claim
    return claim.entry.url, claim.lease


def test_seen_set_queues_each_url_once_across_workers(
    server: tuple[str, str], clock: Clock
) -> None:
    one, two = _frontier(server, clock), _frontier(server, clock)
    assert one.push([entry_for(f"{SITE}/a", 1), entry_for(f"{SITE}/b", 1)]) == 2
    assert two.push([entry_for(f"{SITE}/a", 1), entry_for(f"{SITE}/c", 2)]) == 1
    assert one.queued() == 3
    url, lease = _claim_url(two)
    one.complete([lease])
    # Done URLs stay seen: discovering them again queues nothing.
    assert one.push([entry_for(url, 1)]) == 0
    assert two.mark_seen(f"{SITE}/redirect-target") is True
    assert one.push([entry_for(f"{SITE}/redirect-target", 1)]) == 0


def test_sitemaps_first_then_pages_breadth_first(frontier: Frontier, clock: Clock) -> None:
    frontier.push(
        [
            entry_for(f"{SITE}/deep", 2),
            entry_for(f"{SITE}/first", 1),
            entry_for(f"{SITE}/second", 1),
            entry_for(f"{SITE}/sitemap.xml", 0, "sitemap"),
        ]
    )
    order = []
    for _ in range(4):
        url, lease = _claim_url(frontier)
        order.append(url.removeprefix(SITE))
        frontier.complete([lease])
        clock.now += 1  # past the host's delay
    assert order == ["/sitemap.xml", "/first", "/second", "/deep"]


def test_hosts_are_handed_out_by_readiness(frontier: Frontier, clock: Clock) -> None:
    seed_frontier(frontier, [f"{SITE}/", "http://other.example.org/"], _settings(delay=2.0))
    frontier.push([entry_for(f"{SITE}/x", 1), entry_for("http://other.example.org/y", 1)])
    hosts = [_claim_url(frontier)[0].split("/")[2] for _ in range(2)]
    # One URL per host, then both hosts rest for the delay: the claim says how long.
    assert sorted(hosts) == ["news.example.com", "other.example.org"]
    claim = frontier.claim("w1", LEASE)
    assert claim.status == "wait" and claim.wait == pytest.approx(2.0)
    assert claim.inflight == 2 and not claim.done
    clock.now += 2.0
    assert frontier.claim("w1", LEASE).status == "url"


def test_expired_lease_goes_back_to_the_queue(server: tuple[str, str], clock: Clock) -> None:
    killed, survivor = _frontier(server, clock), _frontier(server, clock)
    seed_frontier(killed, [f"{SITE}/"], _settings(max_pages=10))
    url, lease = _claim_url(killed, "killed")
    assert url == f"{SITE}/sitemap.xml"  # sitemaps first
    clock.now += 1
    page, page_lease = _claim_url(killed, "killed")
    assert page == f"{SITE}/" and killed.pages_used() == 1
    clock.now += 1
    idle = survivor.claim("survivor", LEASE)
    assert idle.status == "idle" and idle.inflight == 2 and not idle.done

    # A heartbeat keeps a lease; the one not renewed expires and is handed out again.
    clock.now += LEASE - 5
    assert killed.renew([page_lease], LEASE) == 1
    clock.now += 10
    again, again_lease = _claim_url(survivor, "survivor")
    assert again == url
    assert survivor.stats()["requeued"] == 1
    assert survivor.in_flight() == 2  # the renewed page and the re-claimed sitemap
    assert survivor.complete([again_lease]) == 1

    clock.now += LEASE + 1  # now the page lease expires too: its budget is given back
    again_page, page_lease2 = _claim_url(survivor, "survivor")
    assert again_page == page and survivor.pages_used() == 1
    assert survivor.complete([page_lease2]) == 1
    # The killed worker's late completions find their leases gone.
    assert killed.complete([lease, page_lease]) == 0
    done = survivor.claim("survivor", LEASE)
    assert done.done and survivor.pages_used() == 1


def test_late_completion_takes_an_unclaimed_url_off_the_queue(
    frontier: Frontier, clock: Clock
) -> None:
    """A stalled (not dead) worker that finishes after its lease expired: nobody fetched the
    URL again yet, so it is not fetched twice."""
    frontier.configure([f"{SITE}/"], _settings(delay=100.0))
    frontier.push([entry_for(f"{SITE}/slow", 1), entry_for(f"{SITE}/next", 1)])
    slow, lease = _claim_url(frontier, "slow")
    assert slow == f"{SITE}/slow"
    clock.now += LEASE + 1
    # Another worker's claim puts the expired lease back; the host still rests...
    claim = frontier.claim("other", LEASE)
    assert claim.status == "wait" and claim.inflight == 0
    assert frontier.queued() == 2 and frontier.pages_used() == 0
    # ...and the slow worker completes before anyone takes it again.
    assert frontier.complete([lease]) == 0
    assert frontier.queued() == 1 and frontier.pages_used() == 1
    clock.now += 100
    assert _claim_url(frontier, "other")[0] == f"{SITE}/next"


def test_page_budget_is_global_and_ends_the_crawl(server: tuple[str, str], clock: Clock) -> None:
    one, two = _frontier(server, clock), _frontier(server, clock)
    seed_frontier(one, [f"{SITE}/"], _settings(max_pages=3))
    one.push([entry_for(f"{SITE}/p{i}", 1) for i in range(5)])
    leases = []
    while True:
        claim = (one if len(leases) % 2 else two).claim("w", LEASE)
        if claim.status == "wait":
            clock.now += claim.wait
            continue
        if claim.status != "url":
            break
        leases.append(claim.lease)
    # The sitemap does not count; three pages do, whichever worker took them.
    assert len(leases) == 4 and one.pages_used() == 3
    assert claim.status == "idle" and not claim.done  # leases still held
    one.complete(leases)
    assert two.claim("w", LEASE).done
    assert two.queued() == 3  # left over, like a single-process crawl at max_pages


def test_seeding_a_finished_crawl_starts_afresh(frontier: Frontier, clock: Clock) -> None:
    assert seed_frontier(frontier, [f"{SITE}/"], _settings()) == 2
    assert seed_frontier(frontier, [f"{SITE}/"], _settings()) == 0  # in progress: nothing new
    while (claim := frontier.claim("w", LEASE)).status != "idle":
        if claim.status == "wait":
            clock.now += claim.wait
        else:
            frontier.complete([claim.lease])
    assert frontier.claim("w", LEASE).done
    frontier.raise_delay("news.example.com", 4.0)
    assert seed_frontier(frontier, ["http://other.example.org/"], _settings(max_depth=1)) == 2
    assert frontier.seeds() == ["http://other.example.org/"]
    assert frontier.scope().hosts == frozenset({"other.example.org"})
    assert frontier.config()["max_depth"] == "1"
    assert (
        frontier.redis.hget(f"{frontier.prefix}:delay", "news.example.com") == b"4.000000"
    )  # politeness kept


def test_seed_refuses_what_is_not_a_url(frontier: Frontier) -> None:
    with pytest.raises(ValueError, match="not an http"):
        seed_frontier(frontier, ["mailto:desk@example.org"], _settings())
    with pytest.raises(ValueError, match="not a redis"):
        Frontier.from_url("http://localhost:6379")


def test_host_slot_is_claimed_atomically_and_spaced_end_to_start(
    frontier: Frontier, clock: Clock
) -> None:
    seed_frontier(frontier, [f"{SITE}/"], _settings(delay=0.5))
    host = "news.example.com"
    assert frontier.claim_slot(host, hold=10.0, token="a") == 0.0
    # In flight: the other worker may not start, however long the configured delay passed.
    assert frontier.claim_slot(host, hold=10.0, token="b") == pytest.approx(0.05)
    clock.now += 3.0  # a slow response
    assert frontier.claim_slot(host, hold=10.0, token="b") == pytest.approx(0.05)
    assert frontier.release_slot(host, "a", min_delay=0.2) == pytest.approx(0.5)
    assert frontier.next_fetch(host) == pytest.approx(clock.now + 0.5)
    assert frontier.claim_slot(host, hold=10.0, token="b") == pytest.approx(0.5)
    # A larger Crawl-delay and a worker's own larger delay both win; neither lowers it.
    frontier.raise_delay(host, 2.0)
    frontier.raise_delay(host, 1.0)
    clock.now += 0.5
    assert frontier.claim_slot(host, hold=10.0, token="b") == 0.0
    assert frontier.release_slot(host, "b", min_delay=0.1) == pytest.approx(2.0)
    clock.now += 2.0
    assert frontier.claim_slot(host, hold=10.0, token="c") == 0.0
    assert frontier.release_slot(host, "c", min_delay=5.0) == pytest.approx(5.0)


def test_expired_hold_is_not_shortened_by_a_late_release(frontier: Frontier, clock: Clock) -> None:
    host = "news.example.com"
    assert frontier.claim_slot(host, hold=1.0, token="old") == 0.0
    clock.now += 1.5  # the old holder outlived its hold; a new request starts
    assert frontier.claim_slot(host, hold=10.0, token="new") == 0.0
    frontier.release_slot(host, "old", min_delay=0.5)
    assert frontier.next_fetch(host) == pytest.approx(clock.now + 10.0)
    frontier.defer_host(host, 30.0)  # Retry-After: later still
    assert frontier.next_fetch(host) == pytest.approx(clock.now + 30.0)


def test_waiting_workers_take_turns(frontier: Frontier, clock: Clock) -> None:
    """The worker that just released a host knows the exact moment it frees up; without turns
    it would win every race and starve the others (seen with real processes)."""
    host = "news.example.com"
    assert frontier.claim_slot(host, hold=10.0, token="a1") == 0.0
    # While a request is in flight, a waiter asks again soon, not after the whole hold.
    assert frontier.claim_slot(host, hold=10.0, token="b1", poll=0.05) == pytest.approx(0.05)
    frontier.release_slot(host, "a1", min_delay=0.5)
    clock.now += 0.5
    assert frontier.claim_slot(host, hold=10.0, token="a2") == pytest.approx(0.02)  # b's turn
    assert frontier.claim_slot(host, hold=10.0, token="b1") == 0.0
    frontier.release_slot(host, "b1", min_delay=0.5)
    clock.now += 0.5
    assert frontier.claim_slot(host, hold=10.0, token="a2") == 0.0
    frontier.release_slot(host, "a2", min_delay=0.5)
    # A waiter that stopped asking (its worker died) loses its turn after `stale` seconds.
    assert frontier.claim_slot(host, hold=10.0, token="dead") > 0
    clock.now += 0.5
    assert frontier.claim_slot(host, hold=10.0, token="c", stale=5.0) > 0
    clock.now += 5.0
    assert frontier.claim_slot(host, hold=10.0, token="c", stale=5.0) == 0.0


class _CountingFetcher:
    """Answers robots.txt like a site would, and counts the requests."""

    def __init__(self, status: int = 200, body: bytes = b"") -> None:
        self.status, self.body, self.calls = status, body, 0

    def fetch(self, url: str, **_: object) -> FetchResult:
        self.calls += 1
        return FetchResult(
            url=url, final_url=url, status=self.status, body=self.body, fetched_at="2024-01-01"
        )


def _robots(frontier: Frontier, fetcher: _CountingFetcher, **kwargs: object) -> SharedRobotsCache:
    return SharedRobotsCache(
        fetcher,  # type: ignore[arg-type]
        "innosearch/0.1",
        frontier,
        **kwargs,  # type: ignore[arg-type]
    )


def test_robots_txt_is_fetched_once_for_all_workers(server: tuple[str, str], clock: Clock) -> None:
    body = b"User-agent: *\nDisallow: /admin/\nCrawl-delay: 3\nSitemap: http://x.test/s.xml\n"
    first, second = _CountingFetcher(body=body), _CountingFetcher(body=body)
    fetched: list[list[str]] = []
    one = _robots(_frontier(server, clock), first, on_fetched=lambda p: fetched.append(p.sitemaps))
    two = _robots(_frontier(server, clock), second)
    assert one.allowed(f"{SITE}/news/a") and not one.allowed(f"{SITE}/admin/x")
    assert not two.allowed(f"{SITE}/admin/x") and two.crawl_delay(f"{SITE}/") == 3.0
    assert (first.calls, second.calls) == (1, 0)
    assert fetched == [["http://x.test/s.xml"]]  # only the fetching worker queues sitemaps
    assert isinstance(one.fetcher, _CountingFetcher) and not isinstance(one.fetcher, Fetcher)


def test_failed_robots_txt_is_cached_briefly(frontier: Frontier) -> None:
    _robots(frontier, _CountingFetcher(status=503), error_ttl=7).allowed(f"{SITE}/")
    key = f"{frontier.prefix}:robots:{SITE}/robots.txt"
    assert 0 < frontier.redis.ttl(key) <= 7
    _robots(frontier, _CountingFetcher(status=404)).allowed("http://other.test/")
    assert frontier.redis.ttl(f"{frontier.prefix}:robots:http://other.test/robots.txt") > 3600
