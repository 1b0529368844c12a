"""The JSON API: `/api/search` (the INTERFACE.md object), the timeline, streamed exports of
every hit, the OpenAPI description, and `/healthz`.

Every endpoint reads the same URL parameters as the page (`web.params`), so a page's URL with
`/api/...` in front of its query string gives that page's data.
"""

from __future__ import annotations

import itertools
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue

from indexer import export
from indexer.enrich import taxonomy
from web import get_index
from web.charts import charted_coverage
from web.cite import fingerprint_headers
from web.openapi import openapi
from web.params import country_names, search_request

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def api_search() -> ResponseReturnValue:
    result = get_index(current_app).search(search_request(request.args))
    return jsonify(result)


@bp.get("/api/timeline")
def api_timeline() -> ResponseReturnValue:
    """Matching stories per month or year: the page's attention chart as data, with where the
    crawl was thin in those periods (`coverage`)."""
    data = get_index(current_app).timeline(search_request(request.args))
    data["coverage"] = charted_coverage([c["period"] for c in data["counts"]])
    return jsonify(data)


@bp.get("/api/timeline.csv")
def api_timeline_csv() -> ResponseReturnValue:
    data = get_index(current_app).timeline(search_request(request.args))
    rows = [(c["period"], c["count"]) for c in data["counts"]]
    if data["undated"]:
        rows.append(("undated", data["undated"]))
    body = export.csv_lines([("period", "count"), *rows])
    return download("".join(body), "text/csv", "innosearch-timeline.csv")


@bp.get("/api/export.csv")
def api_export_csv() -> ResponseReturnValue:
    """Every matching story as CSV (UTF-8 with a BOM, so spreadsheets read it as UTF-8)."""
    return _export_download("csv")


@bp.get("/api/export.jsonl")
def api_export_jsonl() -> ResponseReturnValue:
    """Every matching story as JSON Lines: the search result fields, without snippets."""
    return _export_download("jsonl")


@bp.get("/api/facets")
def api_facets() -> ResponseReturnValue:
    """The values `chain` and `country` accept, each with the name the page shows."""
    return jsonify(
        {
            "chain": [{"id": c.id, "name": c.name} for c in taxonomy.rules().chains],
            "country": [{"id": k, "name": v} for k, v in sorted(country_names().items())],
        }
    )


@bp.get("/api/openapi.json")
def api_openapi() -> ResponseReturnValue:
    return jsonify(openapi())


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the index can be searched (a load balancer's question), 503 otherwise."""
    index = get_index(current_app)
    docs = index.doc_count()
    return jsonify({"status": "ok", "documents": docs, "generation": index.generation()})


def _export_download(fmt: str) -> Response:
    """The export, streamed; the query is checked (and a 400 raised) before streaming starts."""
    req = search_request(request.args)
    index = get_index(current_app)
    # Before the export takes its searcher: a search after it on this thread may refresh the
    # thread's searcher to a newer commit and close the one the export is reading.
    headers = fingerprint_headers(index, req)
    rows = index.export_rows(req)
    first = next(rows, None)
    chained = itertools.chain([] if first is None else [first], rows)
    body = stream_with_context(export.lines(chained, fmt))
    response = download(body, export.FORMATS[fmt], f"innosearch-export.{fmt}")
    response.headers.update(headers)
    return response


def download(body: Any, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    if mimetype == "text/csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
