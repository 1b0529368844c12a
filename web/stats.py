"""The maintainers' health page: `/stats` (HTML) and `/api/stats` (JSON), one data source.

Anyone gets a summary (documents, index age, how many sites fail): enough for a status page and
harmless to show. The per-site details name the sources and the server's paths, so they need
the `stats_token` setting, sent as `Authorization: Bearer TOKEN` or `?token=TOKEN`; with no
token configured they are never shown. Read-only, like the rest of the app: the index through
the app's own backend, the crawl store in DATA_DIR opened read-only (its site history included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from indexer.health import collect_stats, public_summary, summarize
from web import get_index
from web.auth import is_maintainer

bp = Blueprint("stats", __name__)


def _stats() -> dict[str, Any]:
    """{"summary": ...} for everyone, plus "index", "store" and "sites" for a maintainer (a
    wrong token answers 401: see web/auth.py)."""
    data_dir = Path(current_app.config.get("DATA_DIR") or "data")
    index_dir = current_app.config["INDEX_DIR"]
    index = get_index(current_app)
    if not is_maintainer("STATS_TOKEN"):
        return {"summary": public_summary(data_dir, index_dir, index)}
    details = collect_stats(data_dir, index_dir, index=index)
    return {"summary": summarize(details), **details}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # details must not sit in a shared cache
    return response


@bp.get("/api/stats")
def api_stats() -> ResponseReturnValue:
    return _private(jsonify(_stats()))


@bp.get("/stats")
def stats_page() -> ResponseReturnValue:
    return _private(Response(render_template("stats.html", stats=_stats())))
