"""A per-client rate limit on the pages and the JSON API: one token bucket per client address.

A researcher clicking through the page sends a request or two a second and never notices the
limit; a script looping without a pause gets 429 with `Retry-After` instead of starving
everyone else's searches (each search is CPU work on the server, and the page `/` runs the
same search as `/api/search`). Static files and `/healthz` are not counted: a page's own
stylesheet and script must not eat its reader's tokens, and a monitor must always get through.
Settings, from the app config: RATE_LIMIT_PER_SECOND (tokens added per second, default 20; 0 turns
the limit off) and RATE_LIMIT_BURST (the bucket's size, default 60: a burst a page's scripts and a
quick reader never reach). A request costs one token when it starts, so a streamed export counts
once however long it runs. The limit is the server's, not a worker process's: all workers
count in one table (see `TokenBucket`).

Clients are told apart by address; IPv6 clients by their /64, which one host commonly holds
whole. Loopback clients are not limited: they are the machine's own users (`innosearch demo`,
a maintainer's script) or a reverse proxy, and limiting a proxy's one address would throttle
all its visitors together. Behind a proxy, set TRUSTED_PROXY to its address (default: none):
the server (`web.server`) then takes the client's address from the proxy's X-Forwarded-For,
and that is limited. From anyone else the header is dropped, so it cannot dodge the limit.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import math
import mmap
import struct
import tempfile
import threading
import time
import weakref

from flask import Flask, current_app, request
from werkzeug.exceptions import TooManyRequests

DEFAULTS = {"RATE_LIMIT_PER_SECOND": 20.0, "RATE_LIMIT_BURST": 60}
UNLIMITED_PREFIXES = ("/static/", "/healthz")
SLOTS = 16_384  # clients remembered at once (384 KiB); full buckets are forgotten first
PROBES = 8  # slots a client's key may take, from its hash on
_SLOT = struct.Struct("<Qdd")  # key hash (0: empty), tokens left, when last counted


class TokenBucket:
    """`rate` tokens a second up to `burst`, per key.

    The buckets live in a table of fixed size in shared memory, made when the app is built:
    the server's worker processes (`web.workers`) are forked after that, so all of them count
    in one table and a client gets one allowance from the whole server, not one per worker.
    A key takes one of `PROBES` slots from its hash on; when all are in use by other clients,
    a bucket that has refilled is reused (forgetting it changes nothing), else the longest idle
    one, whose client gets a fresh burst: memory stays bounded under a flood from many
    addresses. Threads of a process take turns on a lock, processes on a `lockf` lock of a
    temporary file, which the system releases when a process dies holding it.
    """

    def __init__(self, rate: float, burst: float, slots: int = SLOTS) -> None:
        self.rate, self.burst, self.slots = rate, burst, slots
        self._table = mmap.mmap(-1, slots * _SLOT.size)  # MAP_SHARED: forks see one table
        self._lockfile = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the bucket)
        weakref.finalize(self, self._lockfile.close)
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Takes a token: 0.0 when the request may go ahead, else seconds until it may.

        `now` is `time.monotonic()`, one clock for every process of the machine."""
        now = time.monotonic() if now is None else now
        wanted = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) or 1
        first = wanted % self.slots
        with self._lock:
            fcntl.lockf(self._lockfile, fcntl.LOCK_EX)
            try:
                slot, tokens, last = self._find(wanted, first, now)
                tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
                wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
                left = tokens - 1 if tokens >= 1 else tokens
                _SLOT.pack_into(self._table, slot * _SLOT.size, wanted, left, now)
            finally:
                fcntl.lockf(self._lockfile, fcntl.LOCK_UN)
        return wait

    def _find(self, wanted: int, first: int, now: float) -> tuple[int, float, float]:
        """(slot, tokens, last) of the key's bucket, or a slot to start it in, full."""
        free, idle, idle_since = None, first, math.inf
        refilled = self.burst / self.rate
        for probe in range(PROBES):
            slot = (first + probe) % self.slots
            key, tokens, last = _SLOT.unpack_from(self._table, slot * _SLOT.size)
            if key == wanted:
                return slot, tokens, last
            if free is None and (key == 0 or now - last >= refilled):
                free = slot
            elif last < idle_since:
                idle, idle_since = slot, last
        return (idle if free is None else free), self.burst, now


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
