"""The one loopback web server of the kit: routes, a request log, and requests held on demand.

Crawler tests, benchmarks and `innosearch demo` all need a real HTTP server on loopback (what a
site sees is what matters: which paths, how far apart, with which conditional headers), so they
all use this one. A :class:`LoopbackSite` answers from a table of :class:`Route` by path (with
query), and falls back to an ``app`` (a callable taking the :class:`Hit`, such as the sample news
site) for anything the table does not hold. Every request is logged as a :class:`Hit`.

Timing tests wait on what happened rather than sleeping: :meth:`LoopbackSite.wait_until` waits
for the log to satisfy a condition, and :meth:`LoopbackSite.hold` keeps the requests for one path
waiting until the test releases them (a crawl caught in the middle, deterministically).
"""

from __future__ import annotations

import hashlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass
class Route:
    """One path's answer. ``etag`` makes the server add an ETag over the body and answer a
    matching If-None-Match with 304; routes that handle validators themselves set it False."""

    status: int = 200
    body: bytes = b""
    content_type: str = HTML_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: bool = True
    # When set, the body is sent in these pieces, ``pause`` seconds apart, without a
    # Content-Length (the connection's end marks the body's end): a slow or endless server.
    chunks: tuple[bytes, ...] | None = None
    pause: float = 0.0


@dataclass
class Hit:
    """One request as the server saw it; logged when it arrives, completed as it is answered."""

    at: float  # time.monotonic() when the request line was read (differences measure delays)
    timestamp: float  # the wall-clock time.time() at the same moment
    method: str
    path: str  # the request target: path and query
    headers: dict[str, str]  # request headers, lowercase names
    status: int = 0  # what the server answered
    sent: int = 0  # body bytes written before the response ended or the client hung up
    ended_at: float = 0.0  # when the response was complete or the client was found gone
    aborted: bool = False  # the client hung up before the body was complete

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


App = Callable[[Hit], Route]


class Hold:
    """Requests kept waiting by the server until :meth:`release` (or the site closes): those
    for ``path`` (the target, or the target without its query; any path when None) that
    arrive after the first ``after`` requests. :attr:`arrived` is set when one is held."""

    def __init__(self, path: str | None, after: int) -> None:
        self.path = path
        self.after = after
        self.arrived = threading.Event()
        self._released = threading.Event()

    def wait_arrived(self, timeout: float) -> None:
        """Waits for a request to be held; AssertionError after ``timeout`` seconds."""
        what = f"request for {self.path}" if self.path else f"request after the first {self.after}"
        assert self.arrived.wait(timeout), f"no {what} within {timeout} s"

    def _matches(self, hit: Hit, index: int) -> bool:
        if index < self.after or self._released.is_set():
            return False
        return self.path is None or self.path in (hit.path, hit.path.split("?", 1)[0])

    def release(self) -> None:
        self._released.set()

    def _hold(self) -> None:
        self.arrived.set()
        self._released.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LoopbackSite:
    """A real HTTP server on a loopback port, in daemon threads, until :meth:`close`.

    ``routes`` (by request target, query included) answer first, then ``app``, then a 404.
    ``keep_alive`` speaks HTTP/1.1 with persistent connections (a benchmark measuring the
    crawler, not connection set-up); the default HTTP/1.0 closes each connection.
    """

    server_version = "LoopbackSite/1.0"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app: App | None = None,
        keep_alive: bool = False,
        verbose: bool = False,
    ) -> None:
        self.routes: dict[str, Route | App] = {}
        self.app = app
        self.verbose = verbose
        self._log: list[Hit] = []
        self._changed = threading.Condition()
        self._holds: list[Hold] = []
        self._server = _Server((host, port), _handler(self, keep_alive))
        self.host = host
        self.port: int = self._server.server_address[1]
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        if ":" in url_host:
            url_host = f"[{url_host}]"
        self.base = f"http://{url_host}:{self.port}"
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"loopback-site-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this site."""
        return self.base + "/" + path.lstrip("/")

    def html(self, path: str, text: str, **kwargs: Any) -> None:
        """Serves ``text`` as an HTML page at ``path``."""
        self.routes[path] = Route(body=text.encode("utf-8"), **kwargs)

    # -- the request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Hit]:
        """A snapshot of every request received so far, in arrival order."""
        with self._changed:
            return list(self._log)

    def paths(self) -> list[str]:
        """Just the request targets (path and query) of :attr:`requests`, in order."""
        return [hit.path for hit in self.requests]

    def clear(self) -> None:
        """Forgets the log, e.g. between a first crawl and an incremental re-crawl."""
        with self._changed:
            self._log.clear()

    def wait_until(self, condition: Callable[[list[Hit]], bool], timeout: float) -> list[Hit]:
        """Waits until ``condition(requests)`` holds, woken by each request arriving or ending;
        returns the log then. AssertionError after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self._log), timeout):
                raise AssertionError(f"the site did not see that within {timeout} s")
            return list(self._log)

    def hold(self, path: str | None = None, *, after: int = 0) -> Hold:
        """Keeps requests for ``path`` (any path when None) that arrive after the first
        ``after`` requests waiting until the returned :class:`Hold` is released; use it as a
        ``with`` block, which releases them at its end. A crawl held this way is caught in the
        middle, whatever the machine's speed."""
        hold = Hold(path, after)
        self._holds.append(hold)
        return hold

    def _arrived(self, hit: Hit) -> None:
        with self._changed:
            self._log.append(hit)
            index = len(self._log) - 1
            self._changed.notify_all()
        for hold in self._holds:
            if not self._closed and hold._matches(hit, index):
                hold._hold()

    def _ended(self, hit: Hit) -> None:
        hit.ended_at = time.monotonic()
        with self._changed:
            self._changed.notify_all()

    def _answer(self, hit: Hit) -> Route:
        route = self.routes.get(hit.path) if hit.method in ("GET", "HEAD") else None
        if route is None and self.app is not None:
            route = self.app
        if callable(route):
            route = route(hit)
        if route is None:
            return Route(status=404, body=b"no such page", content_type="text/plain")
        return route

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Releases held requests, stops the server and waits for its thread; safe twice."""
        if self._closed:
            return
        self._closed = True
        for hold in self._holds:
            hold.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base} {'closed' if self._closed else 'serving'}>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Rebinding a port right after a test closed it must not fail with "address in use".
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:  # an IPv6 literal such as "::1"
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client closing its keep-alive connection at the end is not news


def _handler(site: LoopbackSite, keep_alive: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        disable_nagle_algorithm = keep_alive  # headers and body go out at once, no 40 ms stalls
        server_version = site.server_version

        def version_string(self) -> str:
            return self.server_version

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def do_POST(self) -> None:
            # A form that posts (the sample site's newsletter); a crawler never should.
            self._serve(send_body=True)

        def _serve(self, *, send_body: bool) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            hit = Hit(time.monotonic(), time.time(), self.command, self.path, headers)
            site._arrived(hit)
            try:
                self._send(hit, site._answer(hit), send_body)
            except (BrokenPipeError, ConnectionResetError):
                hit.aborted = True  # the client gave up (timeout, size cap), as it may
                self.close_connection = True
            finally:
                site._ended(hit)

        def _send(self, hit: Hit, route: Route, send_body: bool) -> None:
            status = route.status
            tag = '"' + hashlib.sha1(route.body).hexdigest()[:12] + '"' if route.etag else None
            if tag and status == 200 and hit.headers.get("if-none-match") == tag:
                status = 304
            hit.status = status
            self.send_response(status)
            if status == 304:
                if tag:
                    self.send_header("ETag", tag)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                return
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if tag and status == 200:
                self.send_header("ETag", tag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.chunks is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif "Content-Length" not in route.headers:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not send_body:
                return
            if route.chunks is None:
                self.wfile.write(route.body)
                hit.sent = len(route.body)
                return
            for chunk in route.chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
                hit.sent += len(chunk)
                # A real server delay: the slow page is the behaviour under test.
                time.sleep(route.pause)

        def log_message(self, format: str, *args: object) -> None:
            if site.verbose:
                sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    return Handler
