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
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(IndexAccessError, lambda e: _error(503, str(e)))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_secure)


def _wants_json() -> bool:
    """The API, the health check and the feed (read by programs) answer errors as JSON."""
    return request.path.startswith("/api/") or request.path in ("/healthz", "/feed.atom")


def _query_error(error: QueryError) -> tuple[Response | str, int]:
    return _error(400, str(error), error.fix, error.param, error.wrong)


def _error(
    status: int,
    message: str,
    fix: str | None = None,
    param: str = "q",
    wrong: str | None = None,
) -> tuple[Response | str, int]:
    """The error as JSON (`{"error", "fix"?, "parameter"?}`) or a page that keeps the search
    (its box and filters, each removable) and offers the fixed search as a link."""
    if _wants_json():
        body = {"error": message} | ({"fix": fix} if fix else {})
        if fix and param != "q":
            body["parameter"] = param
        return jsonify(body), status
    fix_url = None
    if fix:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
        if wrong is None:
            args = [(param, fix)] + [(k, v) for k, v in args if k != param]
        else:
            args = [(k, fix if (k, v) == (param, wrong) else v) for k, v in args]
        fix_url = url_for("pages.search_page") + "?" + urlencode(args)
    page = render_template(
        "error.html",
        status=status,
        message=message,
        fix=fix if param == "q" else f"{param}={fix}",
        fix_url=fix_url,
        kept=_kept_filters() if status == 400 else [],
    )
    return page, status


def _kept_filters() -> list[tuple[str, str, str]]:
    """(name, value, URL without it) for each parameter of the refused search but the query:
    the page shows them so that one click drops the one that was wrong."""
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in ("q", "page") and v]
    kept = []
    for i, (name, value) in enumerate(items):
        query = [("q", q) for q in request.args.getlist("q") if q]
        rest = [*query, *items[:i], *items[i + 1 :]]
        kept.append((name, value, url_for("pages.search_page") + "?" + urlencode(rest)))
    return kept


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
    if _wants_json():
        # The API is read-only and public: a notebook or a page elsewhere may call it (no
        # credentials are ever sent or honoured), as Datasette's --cors allows.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
