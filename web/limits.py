"""Request size limits: how much a client may send before a view runs.

The app reads no request bodies (every endpoint is a GET), so a body is refused by its
declared length before anything reads it: MAX_CONTENT_LENGTH (default 64 KiB) answers 413. A
query string longer than MAX_QUERY_STRING bytes (default 16 KiB: the longest query, 1000
characters, percent-encoded, with a few dozen facet values) answers 414 before it is parsed.
Both answer in the usual error format (JSON under /api/, a page elsewhere). The WSGI server
enforces the body limit too (`web.server`), so an oversized body is never buffered whole.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge, RequestURITooLarge

DEFAULTS = {
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_QUERY_STRING": 16 * 1024,
    # Enforced by the WSGI server (`web.server`): open connections at once, and seconds after
    # which a connection that sends nothing (an idle keep-alive, a half-sent request) is closed.
    "CONNECTION_LIMIT": 1000,
    "IDLE_TIMEOUT": 30,
}


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        if app.config.get(name) is None:
            app.config[name] = value
    app.before_request(_check_size)


def _check_size() -> None:
    """Refuses oversized requests by their declared size, without reading them."""
    most = int(current_app.config["MAX_QUERY_STRING"])
    if len(request.query_string) > most:
        raise RequestURITooLarge(
            f"the query string is {len(request.query_string)} bytes; at most {most}: "
            "shorten the query or select fewer values"
        )
    body = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > body:
        raise RequestEntityTooLarge(f"the request body is too large (at most {body} bytes)")
