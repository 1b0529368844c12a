"""The JSON API: `/api/search` (the INTERFACE.md object) and `/healthz`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from indexer import search
from web import get_index
from web.params import search_request

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def api_search() -> ResponseReturnValue:
    result = search(get_index(current_app), search_request(request.args))
    return jsonify(result)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the index can be searched (a load balancer's question), 503 otherwise."""
    index = get_index(current_app)
    docs = index.run(lambda s: s.doc_count())
    return jsonify({"status": "ok", "documents": docs, "generation": index.generation()})
