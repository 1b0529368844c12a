"""A per-client rate limit on the pages and the JSON API: one token bucket per client address.

A researcher clicking through the page sends a request or two a second and never notices the
limit; a script looping without a pause gets 429 with `Retry-After` instead of starving
everyone else's searches (each search is CPU work in this process, and the page `/` runs the
same search as `/api/search`). Static files and `/healthz` are not counted: a page's own
stylesheet and script must not eat its reader's tokens, and a monitor must always get through.
Settings, from the app config: RATE_LIMIT_PER_SECOND (tokens added per second, default 20; 0 turns
the limit off) and RATE_LIMIT_BURST (the bucket's size, default 60: a burst a page's scripts and a
quick reader never reach). A request costs one token when it starts, so a streamed export counts
once however long it runs.

Clients are told apart by address; IPv6 clients by their /64, which one host commonly holds
whole. Loopback clients are not limited: they are the machine's own users (`innosearch demo`,
a maintainer's script) or a reverse proxy, and limiting a proxy's one address would throttle
all its visitors together. Behind a proxy, set TRUSTED_PROXY to its address (default: none):
the server (`web.server`) then takes the client's address from the proxy's X-Forwarded-For,
and that is limited. From anyone else the header is dropped, so it cannot dodge the limit.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app, request
from werkzeug.exceptions import TooManyRequests

DEFAULTS = {"RATE_LIMIT_PER_SECOND": 20.0, "RATE_LIMIT_BURST": 60}
UNLIMITED_PREFIXES = ("/static/", "/healthz")
MAX_CLIENTS = 10_000  # buckets kept; full ones are forgotten first (they hold no state)


@dataclass
class TokenBucket:
    """`rate` tokens a second up to `burst`, per key; thread-safe (waitress serves threads)."""

    rate: float
    burst: float
    # key -> (tokens left, when last counted)
    _state: dict[str, tuple[float, float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def take(self, key: str, now: float | None = None) -> float:
        """Takes a token: 0.0 when the request may go ahead, else seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._state[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if len(self._state) > MAX_CLIENTS:
                self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        """Drops buckets that have refilled (forgetting them changes nothing), then, if many
        addresses are still busy, the longest idle half: memory stays bounded under a flood
        from many addresses, at the price of a fresh burst for the forgotten ones."""
        full = self.burst / self.rate
        for key in [k for k, (_, last) in self._state.items() if now - last >= full]:
            del self._state[key]
        if len(self._state) > MAX_CLIENTS:
            by_age = sorted(self._state, key=lambda k: self._state[k][1])
            for key in by_age[: len(by_age) // 2]:
                del self._state[key]


def client_key(address: str | None) -> str:
    """The bucket of an address: IPv4 as is, IPv6 by its /64 network."""
    ip = _ip(address)
    if ip is None:
        return address or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _is_loopback(address: str | None) -> bool:
    ip = _ip(address)
    return ip is not None and ip.is_loopback


def _ip(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address parsed, an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 one."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    rate = float(app.config["RATE_LIMIT_PER_SECOND"])
    if rate > 0:
        burst = max(1.0, float(app.config["RATE_LIMIT_BURST"]))
        app.extensions["innosearch.ratelimit"] = TokenBucket(rate, burst)
        app.before_request(_limit)


def _limit() -> None:
    if request.path.startswith(UNLIMITED_PREFIXES):
        return
    address = request.remote_addr
    if _is_loopback(address):
        return
    bucket: TokenBucket = current_app.extensions["innosearch.ratelimit"]
    wait = bucket.take(client_key(address))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"too many requests from your address: at most {bucket.rate:g} a second "
            f"(bursts of {bucket.burst:g}); retry in {seconds} s",
            retry_after=seconds,
        )
