"""Error pages and security headers for every response.

A user mistake answers 400 with a message, a missing index 503, and nothing answers with a
traceback: the API gets `{"error": ...}`, the page an HTML message.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, render_template, request, url_for
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
    app.register_error_handler(QueryError, lambda e: _error(400, str(e), e.fix))
    app.register_error_handler(IndexAccessError, lambda e: _error(503, str(e)))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_secure)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error(status: int, message: str, fix: str | None = None) -> tuple[Response | str, int]:
    """The error as JSON (`{"error", "fix"?}`) or a page offering the fixed query as a link."""
    if _wants_json():
        body = {"error": message} | ({"fix": fix} if fix else {})
        return jsonify(body), status
    fix_url = None
    if fix:
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("q", "page")]
        fix_url = url_for("pages.search_page") + "?" + urlencode([("q", fix), *args])
    page = render_template("error.html", status=status, message=message, fix=fix, fix_url=fix_url)
    return page, status


def error_response(app: Flask, path: str, status: int, message: str) -> Response:
    """The app's answer to a request refused before it reached the app (by the WSGI server),
    in the same format and with the same headers as the app's own errors."""
    with app.test_request_context(path if path.startswith("/") else "/"):
        body, code = _error(status, message)
        return _secure(app.make_response((body, code)))


def _http_error(error: HTTPException) -> tuple[Response | str, int, list[tuple[str, str]]]:
    """Werkzeug's errors in our format, keeping the headers that say what to do next
    (`Allow` on a 405, `Retry-After` on a 429 or 503) as RFC 9110 asks."""
    body, status = _error(error.code or 500, error.description or "")
    keep = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, status, keep


def _unexpected(error: Exception) -> tuple[Response | str, int]:
    log.exception("unexpected error on %s", request.path)
    return _error(500, "internal error: the problem was logged")


def _secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
