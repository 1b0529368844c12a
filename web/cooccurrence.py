"""Who works with whom: the country co-occurrence matrix of a search, as a page
(`/cooccurrence`, a heat map), JSON (`/api/cooccurrence`) and CSV (`/api/cooccurrence.csv`).

Each takes the search's own query string (and `top`, the matrix's size), so a view is a
shareable URL; each pair links to the search for the stories naming both (`country_all`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from indexer import export
from indexer.cooccurrence import DEFAULT_TOP, MAX_TOP, cooccurrence
from indexer.enrich import countries
from web import get_index
from web.api import download
from web.pages import query_string
from web.params import SELECTION, bounded_int, search_request

bp = Blueprint("cooccurrence", __name__)

SHADES = 8  # heat-map shades (CSS classes h0..h8), 0 for no story
PAGE_PAIRS = 20  # top pairs listed on the page (the JSON and CSV give every pair)


def matrix() -> dict[str, Any]:
    """The co-occurrence of the request's search, with its query and `top` echoed."""
    req = search_request(request.args, extra=("top",))
    top = bounded_int(request.args, "top", DEFAULT_TOP, MAX_TOP, least=2)
    data = cooccurrence(get_index(current_app).stories(req), countries.name_of, top)
    return {"query": req.q, "top": top, **data}


@bp.get("/api/cooccurrence")
def api_cooccurrence() -> ResponseReturnValue:
    return jsonify(matrix())


@bp.get("/api/cooccurrence.csv")
def api_cooccurrence_csv() -> ResponseReturnValue:
    """Every pair any matching story names, one row each, most stories first."""
    rows = [
        (*p["countries"][:1], p["names"][0], p["countries"][1], p["names"][1], p["stories"])
        for p in matrix()["pairs"]
    ]
    header = ("country_a", "name_a", "country_b", "name_b", "stories")
    return download("".join(export.csv_lines([header, *rows])), "text/csv", "cooccurrence.csv")


@bp.get("/cooccurrence")
def cooccurrence_page() -> ResponseReturnValue:
    data = matrix()
    here = _selection()
    peak = max(
        (n for i, row in enumerate(data["matrix"]) for j, n in enumerate(row) if i != j),
        default=0,
    )
    api = url_for("cooccurrence.api_cooccurrence") + query_string(request.args.items(multi=True))
    response = current_app.make_response(
        render_template(
            "cooccurrence.html",
            data=data,
            peak=peak,
            shade=lambda n: -(-SHADES * n // peak) if peak and n else 0,
            pair_url=lambda *codes: (
                url_for("pages.search_page") + query_string(_with_pair(here, *codes))
            ),
            search_url=url_for("pages.search_page") + query_string(here),
            api_url=api,
            csv_url=url_for("cooccurrence.api_cooccurrence_csv")
            + query_string(request.args.items(multi=True)),
            pairs=data["pairs"][:PAGE_PAIRS],
        )
    )
    response.headers["Link"] = f'<{api}>; rel="alternate"; type="application/json"'
    return response


def _selection() -> list[tuple[str, str]]:
    """The request's search parameters, without what orders or pages it, nor `top`."""
    return [(k, v) for k, v in request.args.items(multi=True) if k in SELECTION and v]


def _with_pair(items: list[tuple[str, str]], *codes: str) -> list[tuple[str, str]]:
    have = {v.upper() for k, v in items if k == "country_all"}
    return [*items, *(("country_all", c) for c in codes if c not in have)]
