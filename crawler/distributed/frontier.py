"""The shared crawl frontier in Redis: what any number of workers on any number of machines
crawl next, and the per-host politeness they share.

``innosearch crawl URL --queue redis://...`` calls `seed`; each ``innosearch worker`` runs
`crawler.distributed.worker.run_worker`, which takes URLs from a `Frontier`, fetches them through a
`SharedThrottle` and reads robots.txt through a `SharedRobotsCache`.

Why plain Redis and not RQ: RQ runs pickled function calls FIFO, one job after another. A
crawl frontier needs what a job queue does not give: a seen-set so a URL is queued once,
per-host queues handed out by host readiness (so one slow site does not hold up the rest),
a next-allowed time per host claimed atomically before every request, and a page budget
counted across workers. Those are a few Lua scripts over sets and sorted sets; wrapping them
in RQ jobs would add pickles (code execution for anyone who can write the queue) and a
second scheduler fighting the first. Each script runs atomically on the server, so there is
no WATCH/retry loop, and the clock is the Redis server's (``TIME``), so the machines' clocks
need not agree.

Keys, all under ``PREFIX`` (``innosearch:crawl`` unless the caller names another):

- ``:config`` hash: ``max_pages``, ``max_depth``, ``delay`` (seconds) and ``seeds`` (JSON),
  written by `seed`; ``:scope`` set: the seeds' hosts without ``www.`` (`crawler.urls.Scope`);
- ``:seen`` set: every normalised URL ever queued (SADD decides, so a URL is queued once across
  workers) plus redirect targets fetched on the way;
- ``:queue:<host>`` sorted set per host: queued entries (JSON: url, kind, depth, host,
  lastmod), sitemaps first, then pages breadth-first in discovery order (the order of the
  single-process crawl); ``:hosts`` sorted set: hosts with queued URLs, scored by when one of
  their URLs may be handed out next; ``:order`` counter for the discovery order;
- ``:leases`` sorted set: URLs in flight, member ``score<TAB>worker<TAB>entry``, scored by
  lease expiry. Workers renew their leases while they work and complete them once the page
  is recorded and its article handed to the index; an expired lease (a killed worker) goes
  back to its queue at the next claim, so delivery is at-least-once and writes are idempotent
  (documents are keyed by article id);
- ``:pages`` counter: page URLs leased or done, the global ``max_pages`` budget (an expired
  lease gives its page back);
- ``:next`` hash: per host, the server time before which no request may start; ``:slot``
  hash: per host, the token of the request holding it; ``:delay`` hash: per host, the
  robots.txt Crawl-delay. A request claims ``now >= next[H]`` and sets ``next[H] = now +
  hold`` in one script (``hold`` bounds one request: timeouts plus deadline, so a killed
  worker blocks a host for at most that long); when the response is complete the holder sets
  ``next[H] = end + delay`` with ``delay = max(configured, Crawl-delay)``. The gap is thus
  measured end to start across all workers, as `crawler.fetch.HostThrottle` does in one
  process, and a host never sees two of our requests at once. ``:waiters:<host>`` (sorted
  by first ask) and ``:waiter-seen:<host>`` (last ask) make waiting requests take turns;
- ``:robots:<robots.txt URL>``: the robots.txt answer (status, body, error) with an expiry,
  fetched by one worker under ``:robots-lock:<URL>`` (SET NX PX) and read by the others;
- ``:canonical`` set: article ids already sent from their canonical page (a print version
  found later does not overwrite the canonical text); ``:stats`` hash: counters for a
  progress line.

"Done" (for ``--burst``): nothing can be claimed (every queue empty, or the page budget used)
and no lease is held. Only lease holders discover URLs, so once both hold nobody can add
work but a new `seed`. A `seed` on a finished crawl (no leases; nothing queued or the budget
used) starts a fresh one: the seen-set, queues, budget, seeds and scope are cleared, while
politeness state (next fetch times, Crawl-delays, robots.txt cache) is kept.

One Redis server, not a Redis Cluster: the scripts touch per-host keys they cannot declare.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import redis

from crawler.fetch import Fetcher, FetchResult, HostThrottle, utc_now
from crawler.robots import MAX_ROBOTS_BYTES, RobotsCache, RobotsPolicy, fetch_robots, robots_url
from crawler.settings import CrawlSettings
from crawler.urls import Scope, host_key, normalize_seeds, normalize_url

__all__ = [
    "DEFAULT_PREFIX",
    "Claim",
    "Entry",
    "Frontier",
    "SharedRobotsCache",
    "SharedThrottle",
    "entry_for",
    "seed",
    "seed_frontier",
]

DEFAULT_PREFIX = "innosearch:crawl"
# A robots.txt answer is trusted this long (RFC 9309 2.4: caching beyond 24 hours is
# discouraged); an answer that made the host "disallow all" (5xx, unreachable) is asked again
# sooner, so a short outage does not stop a site's crawl for a day.
ROBOTS_TTL = 24 * 3600
ROBOTS_ERROR_TTL = 300
_ROBOTS_LOCK_MS = 60_000

# The server-side scripts, one .lua file each beside this module (lua/), each run after
# lua/prelude.lua (the key prefix, the clock, shared helpers).
_LUA = Path(__file__).parent / "lua"


def _script(name: str) -> str:
    return (_LUA / "prelude.lua").read_text(encoding="utf-8") + (_LUA / f"{name}.lua").read_text(
        encoding="utf-8"
    )


@dataclass(frozen=True)
class Entry:
    """One queued URL, as the single-process crawl's `crawler.store.FrontierItem` holds it."""

    url: str
    kind: str  # "page" or "sitemap"
    depth: int
    host: str
    lastmod: str | None = None

    def to_json(self) -> str:
        data = {"url": self.url, "kind": self.kind, "depth": self.depth, "host": self.host}
        if self.lastmod:
            data["lastmod"] = self.lastmod
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Entry:
        data = json.loads(text)
        return cls(
            url=data["url"],
            kind=data["kind"],
            depth=int(data["depth"]),
            host=data["host"],
            lastmod=data.get("lastmod"),
        )


@dataclass(frozen=True)
class Claim:
    """What `Frontier.claim` answered: a leased URL, or why there is none.

    ``status`` is ``url`` (``entry`` and ``lease`` set), ``wait`` (URLs are queued but no host
    is ready for ``wait`` seconds) or ``idle`` (nothing claimable: queues empty or the page
    budget used). ``inflight`` counts leases held by all workers at that moment.
    """

    status: str
    entry: Entry | None = None
    lease: str = ""
    wait: float = 0.0
    inflight: int = 0

    @property
    def done(self) -> bool:
        """The crawl is over: nothing to claim and nobody holding a URL (see the module doc)."""
        return self.status == "idle" and self.inflight == 0


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class Frontier:
    """A handle on one shared frontier; cheap, thread-safe (redis-py pools its connections).

    ``clock`` replaces the Redis server's time in every script (tests step through lease
    expiry with it); production leaves it None so all machines share the server's clock.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.clock = clock
        self._scripts = {
            name: client.register_script(source)
            for name, source in (
                ("push", _script("push")),
                ("claim", _script("claim")),
                ("renew", _script("renew")),
                ("complete", _script("complete")),
                ("slot_claim", _script("slot_claim")),
                ("slot_release", _script("slot_release")),
                ("defer", _script("defer")),
                ("raise_delay", _script("raise_delay")),
            )
        }

    @classmethod
    def from_url(cls, queue_url: str, prefix: str = DEFAULT_PREFIX) -> Frontier:
        """The frontier at ``redis://host:port/db`` (or ``rediss://``, ``unix://``).

        Raises ValueError for a URL that is not a Redis URL, so the CLI can say so in one line.
        """
        if not queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"not a redis:// URL: {queue_url!r}")
        return cls(redis.Redis.from_url(queue_url, socket_timeout=30.0), prefix)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _run(self, name: str, *args: object) -> Any:
        now = "" if self.clock is None else f"{self.clock():.6f}"
        return self._scripts[name](args=[self.prefix, now, *args])

    # -- configuration -------------------------------------------------------------------------

    def configure(self, seeds: list[str], settings: CrawlSettings) -> None:
        """Records the crawl's limits, delay, seeds and scope (hosts add up across seeds)."""
        known = self.seeds()
        merged = known + [s for s in seeds if s not in known]
        scope = Scope.from_seeds(seeds)
        pipe = self.redis.pipeline()
        pipe.hset(
            self.key("config"),
            mapping={
                "max_pages": settings.max_pages,
                "max_depth": settings.max_depth,
                "delay": settings.delay,
                "seeds": json.dumps(merged),
            },
        )
        pipe.sadd(self.key("scope"), *sorted(scope.hosts))
        pipe.execute()

    def config(self) -> dict[str, str]:
        raw = self.redis.hgetall(self.key("config"))
        return {_text(k): _text(v) for k, v in raw.items()}

    def seeds(self) -> list[str]:
        raw = self.redis.hget(self.key("config"), "seeds")
        return list(json.loads(raw)) if raw else []

    def scope(self) -> Scope:
        return Scope(hosts=frozenset(_text(h) for h in self.redis.smembers(self.key("scope"))))

    def limits(self, settings: CrawlSettings) -> CrawlSettings:
        """``settings`` with the crawl's own max_pages, max_depth and (a floor on) delay."""
        config = self.config()
        copy = replace(settings)
        if "max_pages" in config:
            copy.max_pages = int(config["max_pages"])
        if "max_depth" in config:
            copy.max_depth = int(config["max_depth"])
        if "delay" in config:
            copy.delay = max(settings.delay, float(config["delay"]))
        return copy

    # -- the queue -----------------------------------------------------------------------------

    def push(self, entries: Iterable[Entry], *, fresh_if_finished: bool = False) -> int:
        """Queues the entries whose URL the crawl has not seen; returns how many were new.

        Entries must be normalised and in scope already (the caller has the scope at hand).
        """
        args: list[object] = ["1" if fresh_if_finished else "0"]
        for entry in entries:
            args += [entry.url, entry.host, entry.kind, entry.depth, entry.to_json()]
        if len(args) == 1 and not fresh_if_finished:
            return 0
        return int(self._run("push", *args))

    def mark_seen(self, url: str) -> bool:
        """Records a URL fetched on the way (a redirect target); True if it was new."""
        return bool(self.redis.sadd(self.key("seen"), url))

    def claim(self, worker: str, lease: float) -> Claim:
        """Leases the next URL of the readiest host for ``lease`` seconds (expired leases of
        other workers are put back first)."""
        reply = [_text(part) for part in self._run("claim", worker, f"{lease:.3f}")]
        if reply[0] == "url":
            return Claim("url", entry=Entry.from_json(reply[2]), lease=reply[1])
        inflight = int(reply[2])
        if reply[0] == "wait":
            return Claim("wait", wait=float(reply[1]), inflight=inflight)
        return Claim("idle", inflight=inflight)

    def renew(self, leases: Iterable[str], lease: float) -> int:
        members = list(leases)
        return int(self._run("renew", f"{lease:.3f}", *members)) if members else 0

    def complete(self, leases: Iterable[str]) -> int:
        """Ends leases whose URL is fully handled; returns how many were still held."""
        members = list(leases)
        return int(self._run("complete", *members)) if members else 0

    def in_flight(self) -> int:
        return int(self.redis.zcard(self.key("leases")))

    def queued(self) -> int:
        hosts = [_text(h) for h in self.redis.zrange(self.key("hosts"), 0, -1)]
        pipe = self.redis.pipeline()
        for host in hosts:
            pipe.zcard(self.key("queue", host))
        return sum(int(n) for n in pipe.execute())

    def pages_used(self) -> int:
        return int(self.redis.get(self.key("pages")) or 0)

    def count(self, **counters: int) -> None:
        """Adds to the shared progress counters (``:stats``)."""
        pipe = self.redis.pipeline()
        for name, value in counters.items():
            if value:
                pipe.hincrby(self.key("stats"), name, value)
        pipe.execute()

    def stats(self) -> dict[str, int]:
        raw = self.redis.hgetall(self.key("stats"))
        counts = {_text(k): int(v) for k, v in raw.items()}
        counts.update(queued=self.queued(), in_flight=self.in_flight(), pages=self.pages_used())
        return counts

    def claim_canonical(self, article_id: str) -> None:
        self.redis.sadd(self.key("canonical"), article_id)

    def has_canonical(self, article_id: str) -> bool:
        return bool(self.redis.sismember(self.key("canonical"), article_id))

    # -- per-host politeness -------------------------------------------------------------------

    def claim_slot(
        self, host: str, hold: float, token: str, *, stale: float = 5.0, poll: float = 0.05
    ) -> float:
        """0.0 when a request to ``host`` may start now (and it is ours until `release_slot`
        or ``hold`` seconds), else the seconds to wait before asking again with the same
        ``token``. Askers are served in turn; one that has not asked for ``stale`` seconds
        loses its turn. ``poll`` is the wait while another request is in flight."""
        args = (host, f"{hold:.3f}", token, f"{stale:.3f}", f"{poll:.3f}")
        ok, wait = self._run("slot_claim", *args)
        return 0.0 if int(ok) else float(_text(wait))

    def release_slot(self, host: str, token: str, min_delay: float) -> float:
        """The request holding ``host`` has ended: the next may start after the host's delay."""
        return float(_text(self._run("slot_release", host, token, f"{min_delay:.6f}")))

    def defer_host(self, host: str, seconds: float) -> None:
        self._run("defer", host, f"{seconds:.6f}")

    def raise_delay(self, host: str, seconds: float) -> None:
        self._run("raise_delay", host, f"{seconds:.6f}")

    def next_fetch(self, host: str) -> float | None:
        raw = self.redis.hget(self.key("next"), host)
        return float(raw) if raw is not None else None

    # -- robots.txt ----------------------------------------------------------------------------

    def robots_get(self, location: str) -> FetchResult | None:
        raw = self.redis.get(self.key("robots", location))
        if raw is None:
            return None
        data = json.loads(raw)
        return FetchResult(
            url=location,
            final_url=location,
            status=int(data["status"]),
            body=data["body"].encode("latin-1"),
            fetched_at=data["fetched_at"],
            error=data["error"],
        )

    def robots_put(self, location: str, result: FetchResult, ttl: int) -> None:
        data = {
            "status": result.status,
            # latin-1 maps bytes to characters one to one, so the body survives JSON intact.
            "body": result.body[:MAX_ROBOTS_BYTES].decode("latin-1"),
            "fetched_at": result.fetched_at,
            "error": result.error,
        }
        self.redis.set(self.key("robots", location), json.dumps(data), ex=max(1, ttl))

    def robots_lock(self, location: str, token: str) -> bool:
        key = self.key("robots-lock", location)
        return bool(self.redis.set(key, token, nx=True, px=_ROBOTS_LOCK_MS))

    def robots_unlock(self, location: str, token: str) -> None:
        key = self.key("robots-lock", location)
        if _text(self.redis.get(key) or b"") == token:
            self.redis.delete(key)

    def clear(self) -> None:
        """Deletes every key of this frontier, politeness and robots.txt cache included."""
        keys = list(self.redis.scan_iter(match=self.prefix + ":*", count=500))
        for start in range(0, len(keys), 500):
            self.redis.delete(*keys[start : start + 500])


def entry_for(url: str, depth: int, kind: str = "page", lastmod: str | None = None) -> Entry:
    return Entry(url=url, kind=kind, depth=depth, host=host_key(url), lastmod=lastmod)


def seed(
    queue_url: str,
    urls: list[str],
    settings: CrawlSettings,
    *,
    prefix: str = DEFAULT_PREFIX,
) -> int:
    """Seeds the shared frontier for ``innosearch crawl URL... --queue redis://...``.

    Returns how many URLs were new (see `seed_frontier`). Raises ValueError for a URL that is
    not http(s) or a queue URL that is not redis://, and redis.ConnectionError when the server
    cannot be reached.
    """
    frontier = Frontier.from_url(queue_url, prefix)
    try:
        return seed_frontier(frontier, urls, settings)
    finally:
        frontier.redis.close()


def seed_frontier(frontier: Frontier, urls: list[str], settings: CrawlSettings) -> int:
    """Records the crawl's limits (``settings.max_pages``, ``max_depth``, ``delay``) and scope
    (the seeds' hosts), then queues each seed and its host's conventional ``/sitemap.xml``; the
    Sitemap lines of robots.txt are queued by the worker that first reads it.

    Seeding a finished crawl starts a fresh one (as a new single-process crawl would); seeding
    one in progress adds to it. Returns how many URLs were new.
    """
    normalized = normalize_seeds(list(urls))
    entries = [entry_for(url, 0) for url in normalized]
    for url in normalized:
        origin = url.split("/", 3)
        sitemap = normalize_url(f"{origin[0]}//{origin[2]}/sitemap.xml")
        if sitemap is not None:
            entries.append(entry_for(sitemap, 0, "sitemap"))
    # Fresh-if-finished first, so the new limits and scope apply to the new run.
    frontier.push([], fresh_if_finished=True)
    frontier.configure(normalized, settings)
    return frontier.push(entries)


# -- the Fetcher's and the robots cache's shared halves ---------------------------------------


class SharedThrottle(HostThrottle):
    """A `HostThrottle` whose per-host gap also holds across processes and machines.

    Every request the `Fetcher` sends (robots.txt, redirect hops, retries) passes through
    `HostThrottle.slot`, so this is the one place the shared time is claimed: the local wait
    first (one request per host per process, as before), then `Frontier.claim_slot` until the
    server says the host is free, and on `done` the release that starts the host's delay.
    Crawl-delays and Retry-After deferrals are written to Redis, so every worker obeys them.
    """

    def __init__(
        self,
        frontier: Frontier,
        delay: float,
        *,
        hold: float,
        max_poll: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(delay, sleep=sleep)
        self.frontier = frontier
        self.hold = hold
        self.max_poll = max_poll
        self._tokens: dict[str, str] = {}

    def wait(self, host: str) -> None:
        super().wait(host)
        token = uuid.uuid4().hex
        while True:
            pause = self.frontier.claim_slot(host, self.hold, token)
            if pause <= 0:
                break
            self._sleep(min(pause, self.max_poll))
        with self._lock:
            self._tokens[host] = token

    def done(self, host: str) -> None:
        super().done(host)
        with self._lock:
            token = self._tokens.pop(host, "")
        self.frontier.release_slot(host, token, self.delay(host))

    def set_delay(self, host: str, seconds: float) -> None:
        super().set_delay(host, seconds)
        self.frontier.raise_delay(host, seconds)

    def defer(self, host: str, seconds: float) -> None:
        super().defer(host, seconds)
        self.frontier.defer_host(host, seconds)


class _Replay:
    """Stands in for a `Fetcher` that already has the answer, so `fetch_robots` (the one place
    that reads a robots.txt answer by RFC 9309) also reads answers cached in Redis."""

    def __init__(self, result: FetchResult) -> None:
        self.result = result

    def fetch(self, url: str, **_: object) -> FetchResult:
        return self.result


class SharedRobotsCache(RobotsCache):
    """A `RobotsCache` backed by Redis: one worker fetches a host's robots.txt (holding a lock
    so the others do not ask the host too), every worker reads the stored answer, and it
    expires after `ROBOTS_TTL` (sooner for an unreachable or failing robots.txt).

    ``on_fetched`` is called with each policy this process fetched itself, so the worker can
    queue the Sitemap lines once per crawl rather than once per worker.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        user_agent: str,
        frontier: Frontier,
        *,
        on_fetched: Callable[[RobotsPolicy], None] | None = None,
        ttl: int = ROBOTS_TTL,
        error_ttl: int = ROBOTS_ERROR_TTL,
        poll: float = 0.05,
    ) -> None:
        super().__init__(fetcher, user_agent)
        self.frontier = frontier
        self.on_fetched = on_fetched
        self.ttl = ttl
        self.error_ttl = error_ttl
        self.poll = poll
        self._expires: dict[str, float] = {}

    def is_cached(self, url: str) -> bool:
        key = robots_url(url)
        return key in self._policies and self._expires.get(key, 0.0) > time.monotonic()

    def policy(self, url: str) -> RobotsPolicy:
        key = robots_url(url)
        if self.is_cached(url):
            return self._policies[key]
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            if not self.is_cached(url):
                self._policies[key] = self._shared(url, key)
                self._expires[key] = time.monotonic() + min(self.ttl, 3600)
        return self._policies[key]

    def _shared(self, url: str, location: str) -> RobotsPolicy:
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        deadline = time.monotonic() + _ROBOTS_LOCK_MS / 1000 + 5
        while True:
            cached = self.frontier.robots_get(location)
            if cached is not None:
                return fetch_robots(cast(Fetcher, _Replay(cached)), url)
            if self.frontier.robots_lock(location, token) or time.monotonic() > deadline:
                break
            time.sleep(self.poll)
        try:
            result = self.fetcher.fetch(location, accept=None)
            result.fetched_at = result.fetched_at or utc_now()
            policy = fetch_robots(cast(Fetcher, _Replay(result)), url)
            ttl = self.error_ttl if policy.mode == "disallow_all" else self.ttl
            self.frontier.robots_put(location, result, ttl)
        finally:
            self.frontier.robots_unlock(location, token)
        if self.on_fetched is not None:
            self.on_fetched(policy)
        return policy
