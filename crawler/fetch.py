"""HTTP fetching with the limits a polite crawler owes the sites it visits and itself.

One `Fetcher` holds one `requests.Session` for a whole crawl (connection reuse, one User-Agent).
Every request it sends passes through a `HostThrottle`, including redirect hops and retries, so
the per-host delay holds for everything the server sees, not just for the pages the crawler
asked for. Bodies are streamed and cut off at a size and a total time, because a read timeout
alone does not stop a server that trickles one byte every few seconds.

One `Fetcher` may be shared by several worker threads: each thread gets its own
`requests.Session` (a session is not safe to share across threads), while the throttle, the
address pins and the settings are shared. `HostThrottle.slot` holds a per-host lock for the
length of one request, so a host never sees two requests from us at once, whichever thread
sends them.

DNS rebinding: the address check resolves the host and the connection is then made to that very
address (a pin the transport adapter reads), not to whatever a second DNS lookup would answer.
TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from crawler.settings import CrawlSettings
from crawler.urls import normalize_url

__all__ = [
    "CRAWL_TYPES",
    "FEED_TYPES",
    "HTML_TYPES",
    "SITEMAP_TYPES",
    "FetchResult",
    "Fetcher",
    "HostThrottle",
    "is_public_address",
    "utc_now",
]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# XML sitemaps and RSS/Atom feeds. Servers label them loosely, so every common XML type counts.
FEED_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/x-rss+xml",
    }
)
CRAWL_TYPES = HTML_TYPES | FEED_TYPES
# A gzipped sitemap (sitemap.xml.gz) usually arrives as a gzip or octet-stream file.
SITEMAP_TYPES = FEED_TYPES | frozenset(
    {"application/gzip", "application/x-gzip", "application/octet-stream", "text/plain"}
)

MAX_REDIRECTS = 5  # RFC 9309 asks robots.txt fetchers to follow at least five
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Statuses worth asking again: the server said "later", not "no".
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 64 * 1024
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"


def utc_now(offset: float = 0.0, at: float | None = None) -> str:
    """The current time (or the Unix time ``at``), plus ``offset`` seconds, as ISO 8601 UTC:
    the one timestamp format of the crawl store and the run history (so timestamps compare as
    strings)."""
    moment = datetime.now(UTC) if at is None else datetime.fromtimestamp(at, UTC)
    return (moment + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FetchResult:
    """What one fetch produced: a response (maybe refused or cut off) or an error.

    ``status`` is 0 when no HTTP response arrived at all. ``error`` is set whenever the body is
    not usable (network failure, too large, too slow, unwanted type, redirect not followed), so
    callers test ``ok`` instead of re-deriving the rules. ``redirects`` lists every URL that
    answered with a redirect, in order, ending before ``final_url``.
    """

    url: str
    final_url: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fetched_at: str = ""
    error: str | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def content_type(self) -> str:
        """The media type alone, lower-cased (``text/html``), or "" when the server sent none."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class HostThrottle:
    """Spaces requests to one host at least ``delay`` seconds apart, end to start.

    The gap is measured from the end of one response to the start of the next, so a slow server
    gets more rest, not less. A delay raised later (robots.txt's Crawl-delay, read after the
    first request) applies to the gap already running. ``defer`` pushes a host back
    (Retry-After, backoff) without touching the others. Safe to share between threads; `slot`
    is what makes per-host concurrency 1 hold when several threads fetch.
    """

    def __init__(
        self,
        delay: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.default_delay = max(0.0, delay)
        self._delays: dict[str, float] = {}
        self._last_done: dict[str, float] = {}
        self._deferred: dict[str, float] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """The one request to ``host`` in flight: waits for the host's lock and its delay, and
        counts the gap to the next request from when the block ends."""
        with self._lock:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:
            self.wait(host)
            try:
                yield
            finally:
                self.done(host)

    def set_delay(self, host: str, seconds: float) -> None:
        self._delays[host] = max(self.default_delay, seconds)

    def delay(self, host: str) -> float:
        return self._delays.get(host, self.default_delay)

    def ready_at(self, host: str) -> float:
        """The clock time from which ``host`` may be asked again."""
        last = self._last_done.get(host)
        spaced = last + self.delay(host) if last is not None else 0.0
        return max(spaced, self._deferred.get(host, 0.0))

    def wait(self, host: str) -> None:
        pause = self.ready_at(host) - self._clock()
        if pause > 0:
            self._sleep(pause)

    def done(self, host: str) -> None:
        self._last_done[host] = self._clock()

    def defer(self, host: str, seconds: float) -> None:
        with self._lock:
            self._deferred[host] = max(self._deferred.get(host, 0.0), self._clock() + seconds)


class _Refused(Exception):
    """A request the fetcher will not send (bad scheme, local address, unresolvable host)."""


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64, RFC 2765
# translated, RFC 4291 IPv4-compatible): 64:ff9b::a9fe:a9fe reaches 169.254.169.254 through a
# NAT64 gateway, so the embedded address must pass the same test. IPv4-mapped, 6to4 and Teredo
# have accessors of their own in `ipaddress`. The local-use NAT64 prefix (RFC 8215) embeds at a
# position only its operator knows, so nothing under it counts as public.
_EMBEDS_IPV4 = tuple(
    ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")
)
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def is_public_address(address: str) -> bool:
    """Whether an address is on the public internet, including every IPv4 address an IPv6 one
    embeds (mapped, NAT64, 6to4, Teredo...): each of them must be public too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 host itself
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return True
    if ip in _LOCAL_NAT64:
        return False
    embedded = [ip.sixtofour, *(ip.teredo or ())]
    embedded += [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _EMBEDS_IPV4 if ip in net]
    return all(is_public_address(str(v4)) for v4 in embedded if v4 is not None)


def local_address(url: str) -> str | None:
    """The loopback or private address `url`'s host resolves to, or None when it is public or
    cannot be resolved: what a crawl refuses unless `allow_local` is set, asked before it
    starts so the user gets the fix instead of a refused robots.txt."""
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError):
        return None
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            return address
    return None


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The decoded body in pieces as they arrive.

    ``read1`` returns whatever has arrived instead of waiting for a full chunk, so the deadline
    is checked at least once per read timeout even when a server trickles bytes. An urllib3
    without ``read1`` falls back to whole chunks.
    """
    raw = response.raw
    if not hasattr(raw, "read1"):  # pragma: no cover - old urllib3
        yield from response.iter_content(_CHUNK)
        return
    while True:
        chunk = raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return
        yield chunk


def _content_length(headers: dict[str, str]) -> int | None:
    try:
        return int(headers.get("content-length", ""))
    except ValueError:
        return None


Pins = dict[str, str]


def _pinned_adapter(pins: Pins, lock: threading.Lock) -> HTTPAdapter:
    """A transport adapter whose new connections go to the address pinned for their host.

    The pin is the address `Fetcher._check_target` resolved and approved; a host without a pin
    (``allow_local``) is resolved the ordinary way. Only the TCP destination changes: the Host
    header, SNI and certificate checks still use the name.
    """

    def pinned(host: str) -> str | None:
        with lock:
            return pins.get(host.strip("[]").lower())

    class PinnedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            address = pinned(self.host)
            if address is not None:
                self._dns_host = address
            return super()._new_conn()

    class PinnedHTTPSConnection(PinnedHTTPConnection, HTTPSConnection):
        """The same pinning, with TLS on top (HTTPSConnection is an HTTPConnection)."""

    class PinnedHTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTPConnection

    class PinnedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    class PinnedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {
                "http": PinnedHTTPPool,
                "https": PinnedHTTPSPool,
            }

    return PinnedAdapter()


class Fetcher:
    """Fetches URLs for one crawl; close it (or use ``with``) to release its connections.

    ``backoff`` is the first retry pause in seconds (doubling each time); ``max_retry_after``
    caps how long a Retry-After is honoured: a server asking for more gets no retry, the crawl
    moves on and the next run tries again. ``address_ok`` decides which resolved addresses may
    be contacted when ``allow_local`` is off (public ones by default).
    """

    def __init__(
        self,
        settings: CrawlSettings,
        *,
        throttle: HostThrottle | None = None,
        backoff: float = 1.0,
        max_retry_after: float = 120.0,
        resolver: Callable[..., list[Any]] = socket.getaddrinfo,
        address_ok: Callable[[str], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.throttle = throttle or HostThrottle(settings.delay)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._resolve = resolver
        self._address_ok = address_ok or is_public_address
        self._pins: Pins = {}
        self._pins_lock = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []

    @property
    def session(self) -> requests.Session:
        """This thread's session, made on first use (sessions are not thread-safe)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # No proxies or .netrc from the environment: credentials for one host must never
            # be offered to whatever site a crawl wanders to.
            session.trust_env = False
            session.headers.update({"User-Agent": self.settings.user_agent, "Accept": _ACCEPT})
            adapter = _pinned_adapter(self._pins, self._pins_lock)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._pins_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._pins_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one URL, following redirects ----------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: Iterable[str] | None = CRAWL_TYPES,
        may_follow: Callable[[str], bool] | None = None,
    ) -> FetchResult:
        """GETs ``url``, following up to `MAX_REDIRECTS` redirects, retrying transient failures.

        ``etag`` and ``last_modified`` (stored from an earlier fetch) make the request
        conditional, so an unchanged page costs a 304 and no body. ``accept`` lists the media
        types whose bodies are read (None reads any); ``may_follow`` vets each redirect target
        (scope, robots.txt) before it is requested.
        """
        accepted = frozenset(accept) if accept is not None else None
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        redirects: list[str] = []
        while True:
            result = self._fetch_with_retries(current, headers, accepted)
            result.url = url
            result.redirects = redirects
            location = result.headers.get("location")
            if result.error or result.status not in REDIRECT_STATUSES or not location:
                return result
            target = urljoin(current, location.strip())
            redirects.append(current)
            # Compared normalised, so a loop that only adds a tracking parameter or a fragment
            # on each turn is still a loop, caught on its first repeat.
            seen = {normalize_url(hop) or hop for hop in redirects}
            if (normalize_url(target) or target) in seen:
                result.error = f"redirect loop at {target}"
                return result
            if len(redirects) > MAX_REDIRECTS:
                result.error = f"more than {MAX_REDIRECTS} redirects"
                return result
            if may_follow is not None and not may_follow(target):
                result.final_url = target
                result.error = f"redirect to {target} not followed (out of scope or disallowed)"
                return result
            current = target

    # -- one URL, no redirects -----------------------------------------------------------------

    def _fetch_with_retries(
        self, url: str, headers: dict[str, str], accepted: frozenset[str] | None
    ) -> FetchResult:
        host = urlsplit(url).netloc.lower()
        try:
            self._check_target(url)
        except _Refused as exc:
            return FetchResult(url=url, final_url=url, fetched_at=utc_now(), error=str(exc))
        attempts = max(0, self.settings.retries) + 1
        for attempt in range(attempts):
            result, transient = self._attempt(url, host, headers, accepted)
            if not transient or attempt == attempts - 1:
                return result
            pause = self.backoff * 2**attempt
            if result.status in (429, 503):
                asked = _retry_after(result.headers.get("retry-after"))
                if asked is not None and asked > self.max_retry_after:
                    return result  # the server wants a longer break than one crawl can wait
                pause = max(pause, asked or 0.0)
            self.throttle.defer(host, pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_target(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Refused(f"refused {url}: not an http(s) URL")
        if self.settings.allow_local:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = self._resolve(parts.hostname, port, proto=socket.IPPROTO_TCP)
        except (OSError, ValueError, UnicodeError) as exc:
            raise _Refused(f"cannot resolve {parts.hostname}: {exc}") from None
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise _Refused(f"cannot resolve {parts.hostname}: no address")
        for address in addresses:
            if not self._address_ok(address):
                raise _Refused(
                    f"refused {url}: {parts.hostname} resolves to a non-public address "
                    f"({address}); set allow_local to crawl it"
                )
        with self._pins_lock:
            self._pins[parts.hostname.strip("[]").lower()] = addresses[0].split("%", 1)[0]

    def _attempt(
        self, url: str, host: str, headers: dict[str, str], accepted: frozenset[str] | None
    ) -> tuple[FetchResult, bool]:
        """One request; returns the result and whether it failed in a way worth retrying."""
        settings = self.settings
        result = FetchResult(url=url, final_url=url)
        with self.throttle.slot(host):
            deadline = time.monotonic() + settings.deadline
            try:
                response = self.session.get(
                    url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(settings.connect_timeout, settings.read_timeout),
                )
            except requests.exceptions.SSLError as exc:
                result.fetched_at = utc_now()
                result.error = f"TLS error: {exc}"
                return result, False
            except (requests.ConnectionError, requests.Timeout) as exc:
                result.fetched_at = utc_now()
                result.error = f"{type(exc).__name__}: {exc}"
                return result, True
            except requests.RequestException as exc:
                result.fetched_at = utc_now()
                result.error = f"{type(exc).__name__}: {exc}"
                return result, False
            with response:
                result.fetched_at = utc_now()
                result.status = response.status_code
                result.headers = {k.lower(): v for k, v in response.headers.items()}
                transient = response.status_code in RETRY_STATUSES
                if 200 <= response.status_code < 300:
                    transient = self._read_body(response, result, accepted, deadline)
        return result, transient

    def _read_body(
        self,
        response: requests.Response,
        result: FetchResult,
        accepted: frozenset[str] | None,
        deadline: float,
    ) -> bool:
        """Reads the body into ``result`` within the limits; True if it broke off mid-way.

        A missing Content-Type is let through: the caller sniffs what it got. The size limit
        counts decoded bytes, so a small gzip bomb is stopped too.
        """
        limit = self.settings.max_bytes
        if accepted is not None and result.content_type and result.content_type not in accepted:
            result.error = f"unwanted content type {result.content_type}"
            return False
        declared = _content_length(result.headers)
        if declared is not None and declared > limit:
            result.error = f"too large: Content-Length {declared} > {limit} bytes"
            return False
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _chunks(response):
                size += len(chunk)
                if size > limit:
                    result.error = f"too large: more than {limit} bytes"
                    return False
                if time.monotonic() > deadline:
                    result.error = f"too slow: body not complete after {self.settings.deadline}s"
                    return False
                chunks.append(chunk)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.ConnectionError,
            requests.Timeout,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.ReadTimeoutError,
            OSError,
        ) as exc:
            result.error = f"broken body: {type(exc).__name__}: {exc}"
            return True
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            result.error = f"bad body: {type(exc).__name__}: {exc}"
            return False
        result.body = b"".join(chunks)
        return False
