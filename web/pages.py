"""The researchers' pages: search with facets, and one article with its evidence."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from indexer import get_document, search, taxonomy
from indexer.facets import FACETS
from web import get_index
from web.params import search_request

bp = Blueprint("pages", __name__)


def chain_names() -> dict[str, str]:
    """Chain id -> name, from the taxonomy data file (indexer/data/chains.toml)."""
    return {chain.id: chain.name for chain in taxonomy.rules().chains}


@bp.get("/")
def search_page() -> ResponseReturnValue:
    req = search_request(request.args)
    result = search(get_index(current_app), req)
    pages = max(1, -(-result["total"] // req.per_page))
    api_url = url_for("api.api_search") + _query_string(request.args.items(multi=True))
    response = current_app.make_response(
        render_template(
            "search.html",
            req=req,
            result=result,
            pages=pages,
            selected={name: set(vals) for name, vals in req.filters.items()},
            facet_names=list(FACETS),
            chain_names=chain_names(),
            toggle_url=_toggle_url,
            country_name=country_name,
            page_url=_page_url,
            api_url=api_url,
        )
    )
    response.headers["Link"] = f'<{api_url}>; rel="alternate"; type="application/json"'
    return response


@bp.get("/article/<doc_id>")
def article_page(doc_id: str) -> ResponseReturnValue:
    doc = get_document(get_index(current_app), doc_id)
    if doc is None:
        abort(404, description=f"no article with id {doc_id!r}")
    return render_template(
        "article.html", doc=doc, chain_names=chain_names(), country_name=country_name
    )


@cache
def country_name(code: str) -> str:
    """The English name of an ISO 3166-1 code (former states too), for tooltips."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    if found is not None:
        return str(getattr(found, "common_name", None) or found.name)
    former = pycountry.historic_countries.get(alpha_2=code)
    return str(former.name).split(",")[0] if former else code


def _query_string(items: Any) -> str:
    pairs = [(k, v) for k, v in items if v != ""]
    return "?" + urlencode(pairs) if pairs else ""


def _toggle_url(facet: str, value: str) -> str:
    """The URL of this page with one facet value added, or removed when already selected."""
    items = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    if (facet, value) in items:
        items.remove((facet, value))
    else:
        items.append((facet, value))
    return url_for("pages.search_page") + _query_string(items)


def _page_url(page: int) -> str:
    items = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    if page > 1:
        items.append(("page", str(page)))
    return url_for("pages.search_page") + _query_string(items)
