"""robots.txt, fetched once per host per crawl and read with protego.

What a missing or broken robots.txt means follows RFC 9309 section 2.3.1: a 4xx answer means the
site has no rules (allow everything); a 5xx answer or no answer at all means the rules are
unknown, so nothing may be fetched ("disallow all"; the RFC allows falling back to a cached copy
after 30 days, which a later issue may add). 429 is read as "unreachable", not "unavailable":
a server that is shedding load has not told us it has no rules.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from crawler.article import site_of
from crawler.fetch import REDIRECT_STATUSES, Fetcher, utc_now

__all__ = ["MAX_ROBOTS_BYTES", "RobotsCache", "RobotsPolicy", "agent_token", "robots_url"]

# RFC 9309 2.5: crawlers must parse at least 500 KiB; beyond that they may stop.
MAX_ROBOTS_BYTES = 500 * 1024

Mode = Literal["rules", "allow_all", "disallow_all"]


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against (``innosearch`` in
    ``innosearch/0.1 (+https://...)``); matching the whole string would also match words in
    the contact URL."""
    token = user_agent.strip().split("/", 1)[0].split()
    return token[0] if token else user_agent


def robots_url(url: str) -> str:
    """Where the robots.txt that governs ``url`` lives."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


@dataclass
class RobotsPolicy:
    """The rules of one host, as far as its robots.txt answer lets us know them."""

    url: str
    mode: Mode
    status: int = 0
    fetched_at: str = ""
    error: str | None = None
    parser: Protego | None = field(default=None, repr=False)

    def allowed(self, url: str, agent: str) -> bool:
        if self.mode == "allow_all":
            return True
        if self.mode == "disallow_all":
            return False
        assert self.parser is not None
        return self.parser.can_fetch(url, agent)

    def crawl_delay(self, agent: str) -> float | None:
        """Seconds between requests the site asks for, None when it names no delay."""
        if self.parser is None:
            return None
        return self.parser.crawl_delay(agent)

    @property
    def sitemaps(self) -> list[str]:
        """Sitemap URLs listed in the file, in order (absolute URLs per the sitemaps spec)."""
        return list(self.parser.sitemaps) if self.parser is not None else []


def fetch_robots(fetcher: Fetcher, url: str) -> RobotsPolicy:
    """Fetches and reads the robots.txt governing ``url`` (any URL on the host will do)."""
    location = robots_url(url)
    # Redirects stay on the site (http -> https, a www. variant): a robots.txt that points at
    # another host must not lead the crawler to addresses the site's own pages could not reach
    # (with allow_local set, a private host elsewhere). Not followed, it counts as unavailable.
    result = fetcher.fetch(location, accept=None, may_follow=lambda t: site_of(t) == site_of(url))
    policy = RobotsPolicy(
        url=location, mode="disallow_all", status=result.status, fetched_at=result.fetched_at
    )
    policy.fetched_at = policy.fetched_at or utc_now()
    if result.status in REDIRECT_STATUSES:
        # RFC 9309 2.3.1.2: past five redirects (or one we will not follow) the file may be
        # taken as unavailable.
        policy.mode = "allow_all"
        policy.error = result.error
    elif result.error is not None:
        policy.error = result.error
    elif 200 <= result.status < 300:
        text = result.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        policy.parser = Protego.parse(text)
        policy.mode = "rules"
    elif 400 <= result.status < 500 and result.status != 429:
        policy.mode = "allow_all"
    else:
        policy.error = f"robots.txt answered {result.status}"
    return policy


class RobotsCache:
    """One `RobotsPolicy` per host (scheme, host and port), fetched on first use.

    Lives for one crawl: a site that changes its rules is re-read by the next run. Shared by the
    crawl's worker threads: a per-host lock makes the first user fetch the file and the others
    wait for it, so robots.txt is requested once per host and before anything else there.
    """

    def __init__(self, fetcher: Fetcher, user_agent: str) -> None:
        self.fetcher = fetcher
        self.agent = agent_token(user_agent)
        self._policies: dict[str, RobotsPolicy] = {}
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}

    def policy(self, url: str) -> RobotsPolicy:
        key = robots_url(url)
        policy = self._policies.get(key)
        if policy is not None:
            return policy
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            policy = self._policies.get(key)
            if policy is None:
                policy = self._policies[key] = fetch_robots(self.fetcher, url)
        return policy

    def is_cached(self, url: str) -> bool:
        return robots_url(url) in self._policies

    def allowed(self, url: str) -> bool:
        return self.policy(url).allowed(url, self.agent)

    def crawl_delay(self, url: str) -> float | None:
        return self.policy(url).crawl_delay(self.agent)

    def sitemaps(self, url: str) -> list[str]:
        return self.policy(url).sitemaps
