"""Error pages and security headers for every response.

A user mistake answers 400 with a message, a missing index 503, and nothing answers with a
traceback: the API gets `{"error": ...}`, the page an HTML message.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer import IndexAccessError, QueryError

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # No inline script anywhere: crawled titles are attacker-controlled.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(QueryError, lambda e: _error(400, str(e)))
    app.register_error_handler(IndexAccessError, lambda e: _error(503, str(e)))
    app.register_error_handler(HTTPException, lambda e: _error(e.code or 500, e.description))
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_secure)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error(status: int, message: str) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify({"error": message}), status
    return render_template("error.html", status=status, message=message), status


def _unexpected(error: Exception) -> tuple[Response | str, int]:
    log.exception("unexpected error on %s", request.path)
    return _error(500, "internal error: the problem was logged")


def _secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
