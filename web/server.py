"""Serving the app with a production WSGI server (waitress), never Flask's debug server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from waitress.server import create_server

from web import create_app


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


def serve_app(app: Flask, host: str = "127.0.0.1", port: int = 8080, threads: int = 8) -> Any:
    """A waitress server for an app already built.

    Waitress refuses bodies over the app's MAX_CONTENT_LENGTH itself, so an oversized upload
    is never buffered whole. With TRUSTED_PROXY (a reverse proxy's address) set, requests from
    that address are taken to come from the last X-Forwarded-For address, which the rate
    limit then counts; waitress drops that header from every other peer.
    """
    proxy = app.config.get("TRUSTED_PROXY") or None
    forwarded = {"trusted_proxy_headers": {"x-forwarded-for"}} if proxy else {}
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="innosearch",
        max_request_body_size=int(app.config["MAX_CONTENT_LENGTH"]),
        trusted_proxy=proxy,
        **forwarded,
    )


def server_url(server: Any) -> str:
    host, port = server.effective_host, server.effective_port
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}/"
