"""Citable result sets: `/api/cite?...` and the page `/cite?...` state a search's citation
(query, filters, index version and time, stories, SHA-256 over their sorted ids) and record
its ids; the same URLs with the citation's `sha256` (as the citation's own URL carries it) say
whether the search still gives the same set, and how many stories were added and removed.
Exports carry the fingerprint too, in response headers (`fingerprint_headers`).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from indexer import QueryError, SearchRequest, cite
from indexer.backend import Backend
from web import get_index
from web.pages import country_name, query_string
from web.params import SELECTION, search_request

bp = Blueprint("cite", __name__)

# What a citation's URL carries beside the search.
CITED = ("sha256", "stories", "at", "generation")
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_COUNT = re.compile(r"[0-9]{1,12}")


def _cited() -> dict[str, Any]:
    """The citation a URL names, checked strictly (None for what it does not name; without a
    sha256 the URL names none, and its count and time are only checked)."""
    args = request.args
    sha = args.get("sha256")
    if sha is not None and not _HEX.fullmatch(sha):
        raise QueryError("sha256 must be 64 hexadecimal digits, as the citation gives it")
    for name, form, example in (
        ("stories", _COUNT, "a whole number"),
        ("generation", _COUNT, "a whole number"),
        ("at", _AT, "a UTC time like 2026-03-01T06:00:02Z"),
    ):
        value = args.get(name)
        if value is not None and not form.fullmatch(value):
            raise QueryError(f"{name} must be {example}, not {value[:30]!r}")
    return {
        "sha256": sha.lower() if sha else None,
        "stories": int(args["stories"]) if "stories" in args else None,
        "at": args.get("at"),
        "generation": int(args["generation"]) if "generation" in args else None,
    }


def cite_data() -> dict[str, Any]:
    """A new citation (recorded in the index's store), or the check of the one the URL names."""
    req = search_request(request.args, extra=CITED)
    cited = _cited()
    index = get_index(current_app)
    data, ids = cite.cite_search(index, req)
    search = [(k, v) for k, v in request.args.items(multi=True) if k in SELECTION and v]
    data["search_url"] = url_for("pages.search_page", _external=True) + query_string(search)
    if cited["sha256"] is None:
        data["recorded"] = index.record_citation(data["sha256"], ids)
        data["url"] = url_for("cite.cite_page", _external=True) + query_string(
            [
                *search,
                ("sha256", data["sha256"]),
                ("stories", str(data["stories"])),
                ("at", data["cited_at"]),
                ("generation", str(data["index"]["generation"])),
            ]
        )
        data["text"] = _reference(data, req)
        return data
    check = cite.compare(ids, cited["sha256"], cited["stories"], index.cited_ids(cited["sha256"]))
    data["check"] = {
        "sha256": cited["sha256"],
        "cited_at": cited["at"],
        "generation": cited["generation"],
        **check,
    }
    return data


def _reference(data: dict[str, Any], req: SearchRequest) -> str:
    """The citation as one line to paste into a paper."""
    parts = [f'query "{req.q}"' if req.q else "every story"]
    for name, values in req.filters.items():
        shown = [country_name(v.upper()) if name == "country" else v for v in values]
        parts.append(f"{name} {' or '.join(shown)}")
    if req.country_all:
        parts.append("naming " + " and ".join(country_name(c) for c in req.country_all))
    if req.date_from or req.date_to:
        parts.append(f"published {req.date_from or '…'} to {req.date_to or '…'}")
    return (
        f"innosearch search ({'; '.join(parts)}), index generation "
        f"{data['index']['generation']}, {data['cited_at']}: {data['stories']} stories, "
        f"SHA-256 {data['sha256']}. {data['url']}"
    )


@bp.get("/api/cite")
def api_cite() -> ResponseReturnValue:
    return jsonify(cite_data())


@bp.get("/cite")
def cite_page() -> ResponseReturnValue:
    data = cite_data()
    api = url_for("cite.api_cite") + query_string(request.args.items(multi=True))
    search = [(k, v) for k, v in request.args.items(multi=True) if k in SELECTION]
    anew = url_for("cite.cite_page") + query_string(search)
    response = current_app.make_response(
        render_template("cite.html", data=data, api_url=api, anew_url=anew)
    )
    response.headers["Link"] = f'<{api}>; rel="alternate"; type="application/json"'
    return response


def fingerprint_headers(index: Backend, req: SearchRequest) -> dict[str, str]:
    """What an export of `req` says about its set: the citation's fingerprint, count and index
    generation (a header, since a comment line in CSV breaks some readers)."""
    data, _ids = cite.cite_search(index, req)
    return {
        "X-Innosearch-SHA256": data["sha256"],
        "X-Innosearch-Stories": str(data["stories"]),
        "X-Innosearch-Generation": str(data["index"]["generation"]),
        "Access-Control-Expose-Headers": "X-Innosearch-SHA256, X-Innosearch-Stories, "
        "X-Innosearch-Generation",
    }
