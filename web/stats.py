"""The maintainers' health page: `/stats` (HTML) and `/api/stats` (JSON), one data source.

Anyone gets a summary (documents, index age, how many sites fail): enough for a status page and
harmless to show. The per-site details name the sources and the server's paths, so they need
the `stats_token` setting, sent as `Authorization: Bearer TOKEN` or `?token=TOKEN`; with no
token configured they are never shown. Read-only, like the rest of the app: the index through
the app's LiveIndex, the crawl store and the run history from DATA_DIR.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from innosearch.health import collect_stats, public_summary, summarize
from web import get_index

bp = Blueprint("stats", __name__)


class _Unauthorized(Exception):
    pass


def _stats() -> dict[str, Any]:
    """{"summary": ...} for everyone, plus "index", "store" and "sites" for a maintainer."""
    data_dir = Path(current_app.config.get("DATA_DIR") or "data")
    index_dir = current_app.config["INDEX_DIR"]
    index = get_index(current_app)
    live = getattr(index, "live", index)  # the Whoosh LiveIndex, or the PostgreSQL index
    if not _maintainer():
        return {"summary": public_summary(data_dir, index_dir, live)}
    details = collect_stats(data_dir, index_dir, live=live)
    return {"summary": summarize(details), **details}


def _maintainer() -> bool:
    """True with the right token, False with none; a wrong token is refused outright, so a
    typo is noticed rather than silently showing the summary."""
    given = request.args.get("token", "")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        given = header[7:].strip()
    if not given:
        return False
    expected = str(current_app.config.get("STATS_TOKEN") or "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _Unauthorized
    return True


def _refuse(json: bool) -> ResponseReturnValue:
    message = "wrong maintainer token (or no stats_token configured)"
    if json:
        response = jsonify({"error": message})
    else:
        response = Response(render_template("error.html", status=401, message=message))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="innosearch stats"'
    return response


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # details must not sit in a shared cache
    return response


@bp.get("/api/stats")
def api_stats() -> ResponseReturnValue:
    try:
        return _private(jsonify(_stats()))
    except _Unauthorized:
        return _refuse(json=True)


@bp.get("/stats")
def stats_page() -> ResponseReturnValue:
    try:
        stats = _stats()
    except _Unauthorized:
        return _refuse(json=False)
    return _private(Response(render_template("stats.html", stats=stats)))
