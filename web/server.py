"""Serving the app with a production WSGI server (waitress), never Flask's debug server."""

from __future__ import annotations

import math
import socket
from pathlib import Path
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from web import create_app
from web.errors import error_response


def make_server(
    index_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 8,
    config: dict[str, Any] | None = None,
) -> Any:
    """A waitress server for the app over `index_dir`, bound but not yet running (`.run()`).

    Loopback unless told otherwise: exposing the server is a decision (usually a reverse
    proxy's), not a default. `config` adds app settings (limits, tokens).
    """
    app = create_app({**(config or {}), "INDEX_DIR": str(index_dir)})
    server = serve_app(app, host=host, port=port, threads=threads)
    server.flask_app = app  # waitress may wrap the app (proxy headers): keep the app at hand
    return server


def serve_app(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 8,
    sockets: list[socket.socket] | None = None,
    share: int = 1,
) -> Any:
    """A waitress server for an app already built, on `host` and `port` or on `sockets`
    already listening (a worker of `web.workers`, one of `share` that split CONNECTION_LIMIT).

    Waitress refuses bodies over the app's MAX_CONTENT_LENGTH itself, so an oversized upload
    is never buffered whole. With TRUSTED_PROXY (a reverse proxy's address) set, requests from
    that address are taken to come from the last X-Forwarded-For address, which the rate
    limit then counts; waitress drops that header from every other peer.
    """
    proxy = app.config.get("TRUSTED_PROXY") or None
    forwarded = {"trusted_proxy_headers": {"x-forwarded-for"}} if proxy else {}
    where = {"sockets": sockets} if sockets else {"host": host, "port": port}
    server = create_server(
        app,
        **where,
        threads=threads,
        ident="innosearch",
        max_request_body_size=int(app.config["MAX_CONTENT_LENGTH"]),
        trusted_proxy=proxy,
        # Idle or half-sent connections cost a socket each, not a thread: allow many, close
        # the idle ones after IDLE_TIMEOUT seconds, and poll() rather than select(), which
        # fails past 1,024 open descriptors.
        connection_limit=max(1, math.ceil(int(app.config["CONNECTION_LIMIT"]) / share)),
        channel_timeout=int(app.config["IDLE_TIMEOUT"]),
        cleanup_interval=max(1, int(app.config["IDLE_TIMEOUT"]) // 2),
        asyncore_use_poll=True,
        **forwarded,
    )
    channel = _channel_class(app)
    for listener in listeners(server):
        listener.channel_class = channel
    return server


def listeners(server: Any) -> list[Any]:
    """The listening servers inside what `create_server` returned: itself, or each socket's
    (a host name may stand for an IPv4 and an IPv6 address)."""
    found = [server, *getattr(server, "map", {}).values()]
    return [listener for listener in found if hasattr(listener, "channel_class")]


def _channel_class(app: Flask) -> type[HTTPChannel]:
    """Waitress's connection handler, answering the requests waitress itself refuses (a body
    over the limit, headers too large, a malformed request line) in the app's own format:
    JSON under /api/, a page elsewhere, with the app's security headers."""

    class AppErrorTask(ErrorTask):
        def execute(self) -> None:
            error = self.request.error
            message = f"{error.reason.lower()}: {error.body}"
            path = getattr(self.request, "path", None) or "/"  # none if the start line was bad
            try:
                response = error_response(app, path, error.code, message)
            except Exception:  # a path the app cannot even route: waitress's own answer
                super().execute()
                return
            body = response.get_data()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.extend(
                (k, v) for k, v in response.headers.items() if k.lower() != "content-length"
            )
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class AppChannel(HTTPChannel):
        error_task_class = AppErrorTask

    return AppChannel


def server_url(server: Any) -> str:
    """The URL a waitress server, or a `web.workers.Master`, answers at."""
    host, port = server.effective_host, server.effective_port
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}/"
