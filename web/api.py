"""The JSON API: `/api/search` (the INTERFACE.md object), the timeline, streamed exports of
every hit, the OpenAPI description, and `/healthz`.

Every endpoint reads the same URL parameters as the page (`web.params`), so a page's URL with
`/api/...` in front of its query string gives that page's data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue

from indexer.enrich import taxonomy
from web import get_index
from web.openapi import openapi
from web.params import country_names, search_request

bp = Blueprint("api", __name__)

EXPORT_COLUMNS = ("id", "url", "title", "published", "year", "chains", "countries", "site")


@bp.get("/api/search")
def api_search() -> ResponseReturnValue:
    result = get_index(current_app).search(search_request(request.args))
    return jsonify(result)


@bp.get("/api/timeline")
def api_timeline() -> ResponseReturnValue:
    """Matching stories per month or year: the page's attention chart as data."""
    return jsonify(get_index(current_app).timeline(search_request(request.args)))


@bp.get("/api/timeline.csv")
def api_timeline_csv() -> ResponseReturnValue:
    data = get_index(current_app).timeline(search_request(request.args))
    rows = [(c["period"], c["count"]) for c in data["counts"]]
    if data["undated"]:
        rows.append(("undated", data["undated"]))
    body = _csv_lines([("period", "count"), *rows])
    return _download("".join(body), "text/csv", "innosearch-timeline.csv")


@bp.get("/api/export.csv")
def api_export_csv() -> ResponseReturnValue:
    """Every matching story as CSV (UTF-8 with a BOM, so spreadsheets read it as UTF-8)."""
    rows = _export(request.args)
    header = [*EXPORT_COLUMNS, "also_urls"]

    def lines() -> Iterator[str]:
        yield "\ufeff"
        yield from _csv_lines([header], crawled=True)
        for row in rows:
            yield from _csv_lines([_csv_row(row)], crawled=True)

    return _download(stream_with_context(lines()), "text/csv", "innosearch-export.csv")


@bp.get("/api/export.jsonl")
def api_export_jsonl() -> ResponseReturnValue:
    """Every matching story as JSON Lines: the search result fields, without snippets."""
    rows = _export(request.args)

    def lines() -> Iterator[str]:
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"

    return _download(stream_with_context(lines()), "application/jsonl", "innosearch-export.jsonl")


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


def _export(args: Any) -> Iterator[dict[str, Any]]:
    """The rows of an export; the query is checked (and a 400 raised) before streaming starts."""
    rows = get_index(current_app).export_rows(search_request(args))
    first = next(rows, None)
    if first is None:
        return iter(())

    def chained() -> Iterator[dict[str, Any]]:
        yield first
        yield from rows

    return chained()


def _csv_row(row: dict[str, Any]) -> list[Any]:
    values = [row.get(c) for c in EXPORT_COLUMNS]
    values[EXPORT_COLUMNS.index("chains")] = ";".join(row["chains"])
    values[EXPORT_COLUMNS.index("countries")] = ";".join(row["countries"])
    values = ["" if v is None else v for v in values]
    return [*values, " ".join(a["url"] for a in row.get("also", []))]


def _csv_lines(rows: Iterable[Iterable[Any]], crawled: bool = False) -> Iterator[str]:
    """CSV lines; with ``crawled`` (cells of crawled text) every text cell is quoted, so a
    spreadsheet that splits on ";" (many locales) keeps "a;=1+1" in one cell."""
    buffer = io.StringIO()
    quoting = csv.QUOTE_NONNUMERIC if crawled else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=quoting)
    for row in rows:
        writer.writerow([_defuse(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# A cell a spreadsheet could read as a formula (OWASP's list: = + - @), also behind leading
# white space or line breaks, which spreadsheets skip, or behind a ";" or "," that a
# spreadsheet set to another list separator would split the cell at.
_FORMULA = re.compile(r"(?:^|[;,])\s*[=+\-@]|^\s")


def _defuse(value: Any) -> Any:
    """Such a cell is prefixed with a quote, which makes it text (every text cell is quoted
    too, so a separator inside it does not split it)."""
    if isinstance(value, str) and _FORMULA.search(value):
        return "'" + value
    return value


def _download(body: Any, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    if mimetype == "text/csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
