"""The OpenAPI 3 description of the JSON API, served at `/api/openapi.json`.

Built from the same constants the code checks (facets, sorts, intervals, limits), so the
document cannot promise a parameter value the server refuses.
"""

from __future__ import annotations

from typing import Any

from indexer import cooccurrence
from indexer.enrich.taxonomy import chain_ids
from indexer.facets import FACETS
from indexer.querylang import (
    MAX_EXPANSION,
    MAX_QUERY_CHARS,
    MAX_SLOP,
    MAX_WORDS,
    SEARCH_SECONDS,
)
from indexer.request import INTERVALS, MAX_PAGE, MAX_PER_PAGE, SORTS
from indexer.trends import BY, DEFAULT_TOP, MAX_QUERIES, MAX_TOP, SCALES
from web.params import FLAGS, MAX_VALUE_CHARS, MAX_VALUES, YEAR, country_names


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema, **extra}


def _selection_params() -> list[dict[str, Any]]:
    """What a search selects: the query, facet values, dates, the any-word switch."""
    facet_help = {
        "year": "publication year (four digits)",
        "chain": "industry chain id, e.g. integrated-circuits",
        "country": "ISO 3166-1 alpha-2 code, e.g. CN",
    }
    codes = sorted(country_names())
    params = [
        _param(
            "q",
            'query: words (all required unless any=1), AND/OR/NOT/-word, parentheses, "phrases", '
            '"chip factory"~5, title:/text:/site:/chain:/country:/year:/date: scopes, semicond* '
            "wildcards, date:[2020 TO 2021-06]; empty or * matches everything. Common words "
            "(the, this) count only in a phrase or a query of nothing else; US, IT, AI in "
            "capitals match only as written. Limits (400 "
            f"beyond them): {MAX_WORDS} different words, proximity ~{MAX_SLOP}, two letters "
            f"before a wildcard, which may stand for {MAX_EXPANSION} words at most, "
            f"{SEARCH_SECONDS:g} s a search",
            {"type": "string", "maxLength": MAX_QUERY_CHARS},
        ),
        _param("any", "1 to match any word instead of all", _flag_schema()),
    ]
    for name in FACETS:
        item: dict[str, Any] = {"type": "string", "maxLength": MAX_VALUE_CHARS}
        if name == "year":
            item = {"type": "string", "pattern": f"^{YEAR.pattern}$"}
        elif name == "country":
            item = {"type": "string", "enum": ["", *codes, *(c.lower() for c in codes)]}
        elif name == "chain":
            item = {"type": "string", "enum": ["", *chain_ids()]}
        params.append(
            _param(
                name,
                f"{facet_help.get(name, name)}; repeat to OR values, facets are ANDed",
                {"type": "array", "items": item, "maxItems": MAX_VALUES},
                style="form",
                explode=True,
            )
        )
    params.append(
        _param(
            "country_all",
            "ISO 3166-1 alpha-2 code; repeat to require every one of them (stories naming "
            "both CN and DE: country_all=CN&country_all=DE), beside `country`, which ORs",
            {
                "type": "array",
                "items": {"type": "string", "enum": ["", *codes, *(c.lower() for c in codes)]},
                "maxItems": MAX_VALUES,
            },
            style="form",
            explode=True,
        )
    )
    for name, end in (("from", "first"), ("to", "last")):
        day = {"type": "string", "format": "date", "example": "2021-10-20"}
        year = {"type": "string", "pattern": "^[1-9][0-9]{3}$"}
        params.append(
            _param(
                name,
                f"{end} publication day (ISO date, or a year); empty for no bound",
                {"anyOf": [day, year, {"type": "string", "enum": [""]}]},
            )
        )
    params.append(_param("sort", "result order", {"type": "string", "enum": list(SORTS)}))
    return params


_EMPTY = {"type": "string", "enum": [""]}  # an empty form field: no selection


def _flag_schema() -> dict[str, Any]:
    return {"type": "string", "enum": list(FLAGS)}


def _interval_param() -> dict[str, Any]:
    return _param(
        "interval",
        "timeline period; auto: months for spans up to four years, else years",
        {"type": "string", "enum": list(INTERVALS), "default": "auto"},
    )


def _error_response() -> dict[str, Any]:
    return {
        "description": "a bad query or parameter, with a message and, when guessable, a fix",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def openapi() -> dict[str, Any]:
    selection = _selection_params()
    paging = [
        _param("page", "result page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
        _param(
            "per_page",
            "results per page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
        ),
        _param("timeline", "1 to add the timeline", _flag_schema()),
        _interval_param(),
    ]
    sized = {
        "413": _json("Error", "a request body over the size limit (the API reads none)"),
        "414": _json("Error", "a query string over the length limit"),
    }
    limited = {**sized, "429": _too_many()}
    bad = {"400": _error_response(), "503": _json("Error", "no index to search"), **limited}
    export_text = (
        "every matching story (not only a page), best first or newest first, one duplicate "
        "group once; streamed"
    )
    paths: dict[str, Any] = {
        "/api/search": {
            "get": {
                "summary": "search: one page of results, facet counts, did-you-mean",
                "parameters": selection + paging,
                "responses": {"200": _json("SearchResult", "the page of results"), **bad},
            }
        },
        "/api/timeline": {
            "get": {
                "summary": "matching stories per month or year (the attention chart)",
                "parameters": [*selection, _interval_param()],
                "responses": {"200": _json("Timeline", "counts per period"), **bad},
            }
        },
        "/api/timeline.csv": {
            "get": {
                "summary": "the timeline as CSV (period,count; a last row for undated stories)",
                "parameters": [*selection, _interval_param()],
                "responses": {"200": _text("text/csv", "CSV"), **bad},
            }
        },
        "/api/export.csv": {
            "get": {
                "summary": "export as CSV: " + export_text,
                "parameters": selection,
                "responses": {
                    "200": _text(
                        "text/csv",
                        "UTF-8 CSV with a BOM: id, url, title, published, year, chains, "
                        "countries (;-separated), site, also_urls (space-separated), site_name",
                    ),
                    **bad,
                },
            }
        },
        "/api/export.jsonl": {
            "get": {
                "summary": "export as JSON Lines: " + export_text,
                "parameters": selection,
                "responses": {
                    "200": _text("application/jsonl", "one Result object (no snippet) a line"),
                    **bad,
                },
            }
        },
        **_result_set_paths(selection, bad),
        "/api/facets": {
            "get": {
                "summary": "the valid chain ids and country codes, with their names",
                "responses": {"200": _json("Facets", "chains and countries"), **limited},
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "this document",
                "responses": {"200": {"description": "OpenAPI 3.0 document"}, **limited},
            }
        },
        "/api/stats": {
            "get": {
                "summary": "index and crawl health (details need the stats token)",
                "responses": {"200": {"description": "health summary"}, **limited},
            }
        },
        "/healthz": {
            "get": {
                "summary": "200 when the index can be searched",
                "responses": {
                    "200": {"description": "documents and index generation"},
                    "503": _json("Error", "no index to search"),
                    **sized,
                },
            }
        },
    }
    paths |= _analysis_paths(selection, bad)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "innosearch",
            "version": "1",
            "description": "Search over innovation press coverage. Values of one facet are "
            "ORed, different facets ANDed; each facet's counts ignore its own selection.",
        },
        "paths": paths,
        "components": {"schemas": _schemas() | _analysis_schemas()},
    }


def _result_set_paths(selection: list[dict[str, Any]], bad: dict[str, Any]) -> dict[str, Any]:
    """The views over a whole result set: who works with whom (cite and feed join them)."""
    top = _param(
        "top",
        "countries on each side of the matrix, the most named",
        {
            "type": "integer",
            "minimum": 2,
            "maximum": cooccurrence.MAX_TOP,
            "default": cooccurrence.DEFAULT_TOP,
        },
    )
    return {
        "/feed.atom": {
            "get": {
                "summary": "alerts as a feed: the newest matching stories as Atom (RFC 4287)",
                "parameters": [
                    *selection,
                    _param(
                        "per_page",
                        "entries (newest first, whatever `sort` says)",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
                    ),
                ],
                "responses": {
                    "200": _text("application/atom+xml", "an Atom feed, an entry per story"),
                    **bad,
                },
            }
        },
        "/api/cite": {
            "get": {
                "summary": "cite a search (its stories' SHA-256, recorded), or check a citation",
                "parameters": [
                    *selection,
                    _param(
                        "sha256",
                        "a citation's fingerprint: check it (same set? how many stories added "
                        "and removed since?) instead of citing anew",
                        {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                    ),
                    _param(
                        "stories",
                        "the cited count (with sha256)",
                        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
                    ),
                    _param(
                        "at",
                        "the citation's time (with sha256)",
                        {
                            "type": "string",
                            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                        },
                    ),
                    _param(
                        "generation",
                        "the index generation cited (with sha256)",
                        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
                    ),
                ],
                "responses": {"200": _json("Citation", "the citation, or its check"), **bad},
            }
        },
        "/api/cooccurrence": {
            "get": {
                "summary": "who works with whom: stories naming both of two countries",
                "parameters": [*selection, top],
                "responses": {"200": _json("Cooccurrence", "the matrix and every pair"), **bad},
            }
        },
        "/api/cooccurrence.csv": {
            "get": {
                "summary": "every pair of countries the matching stories name, as CSV",
                "parameters": [*selection, top],
                "responses": {
                    "200": _text(
                        "text/csv", "country_a,name_a,country_b,name_b,stories; most first"
                    ),
                    **bad,
                },
            }
        },
    }


def _too_many() -> dict[str, Any]:
    return {
        "description": "too many requests from this address: wait Retry-After seconds",
        "headers": {
            "Retry-After": {
                "description": "seconds to wait before the next request",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _text(mimetype: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {mimetype: {"schema": {"type": "string"}}}}


def _schemas() -> dict[str, Any]:
    string_list = {"type": "array", "items": {"type": "string"}}
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    site_name = {
        "type": "string",
        "nullable": True,
        "description": "the site's name, shown before its host: the configured [[sites]] name, "
        "else the one its pages declare (og:site_name); null when neither names it",
    }
    copy = {
        "type": "object",
        "properties": {
            "site": {"type": "string"},
            "site_name": site_name,
            "url": {"type": "string"},
            "id": {"type": "string"},
        },
    }
    named = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            "required": ["id", "name"],
        },
    }
    return {
        "Facets": {
            "type": "object",
            "properties": {"chain": named, "country": named},
            "required": ["chain", "country"],
        },
        "Result": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "url": {"type": "string"},
                "title": {"type": "string", "description": "as crawled: escape before showing"},
                "published": {"type": "string", "nullable": True, "format": "date"},
                "year": {"type": "integer", "nullable": True},
                "chains": string_list,
                "countries": string_list,
                "site": {"type": "string"},
                "site_name": site_name,
                "score": {"type": "number"},
                "snippet": {
                    "type": "string",
                    "description": "HTML: escaped text with <mark> around matches",
                },
                "also": {
                    "type": "array",
                    "items": copy,
                    "description": (
                        "the other copies of the story, earliest published first "
                        "(the result is the original)"
                    ),
                },
                "evidence": {
                    "type": "object",
                    "additionalProperties": string_list,
                    "description": "per chain id and country code the story carries, the "
                    "terms that weighed most for it, the most telling first",
                },
            },
        },
        "SearchResult": {
            "type": "object",
            "required": ["query", "total", "page", "per_page", "results", "facets"],
            "properties": {
                "query": {"type": "string"},
                "total": {"type": "integer", "description": "stories (duplicates count once)"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                "facets": {
                    "type": "object",
                    "properties": {name: counts for name in FACETS},
                },
                "did_you_mean": {
                    "type": "string",
                    "nullable": True,
                    "description": "a corrected query, offered when few stories match",
                },
                "timeline": {"$ref": "#/components/schemas/Timeline"},
            },
        },
        "Timeline": {
            "type": "object",
            "properties": {
                "interval": {"type": "string", "enum": ["month", "year"]},
                "counts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "period": {"type": "string", "example": "2021-10"},
                            "count": {"type": "integer"},
                        },
                    },
                },
                "undated": {"type": "integer"},
                "coverage": {"$ref": "#/components/schemas/Coverage"},
            },
        },
        "Cooccurrence": {
            "type": "object",
            "required": ["query", "total", "countries", "matrix", "pairs"],
            "properties": {
                "query": {"type": "string"},
                "top": {"type": "integer"},
                "total": {"type": "integer", "description": "matching stories (copies once)"},
                "with_country": {"type": "integer", "description": "stories naming a country"},
                "with_pair": {"type": "integer", "description": "stories naming two or more"},
                "countries": {
                    "type": "array",
                    "description": "the matrix's rows and columns, the most named first",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "stories": {"type": "integer"},
                        },
                    },
                },
                "matrix": {
                    "type": "array",
                    "description": "stories naming both countries; the diagonal, naming one",
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
                "pairs": {
                    "type": "array",
                    "description": "every pair a story names, the most stories first",
                    "items": {
                        "type": "object",
                        "properties": {
                            "countries": string_list,
                            "names": string_list,
                            "stories": {"type": "integer"},
                        },
                    },
                },
            },
        },
        "Citation": {
            "type": "object",
            "required": ["query", "index", "cited_at", "stories", "sha256"],
            "properties": {
                "query": {"type": "string"},
                "any": {"type": "boolean"},
                "filters": {"type": "object", "additionalProperties": string_list},
                "country_all": string_list,
                "from": {"type": "string", "nullable": True, "format": "date"},
                "to": {"type": "string", "nullable": True, "format": "date"},
                "index": {
                    "type": "object",
                    "properties": {
                        "backend": {"type": "string", "enum": ["whoosh", "postgresql"]},
                        "generation": {"type": "integer"},
                    },
                },
                "cited_at": {"type": "string", "description": "UTC, ISO 8601"},
                "stories": {"type": "integer", "description": "copies of a story count once"},
                "sha256": {
                    "type": "string",
                    "description": "SHA-256 of the sorted story ids, each followed by a line feed",
                },
                "search_url": {"type": "string"},
                "recorded": {"type": "boolean", "description": "the ids kept for later checks"},
                "url": {"type": "string", "description": "the citation's own URL: its check"},
                "text": {"type": "string", "description": "a reference to paste"},
                "check": {
                    "type": "object",
                    "description": "with sha256: the search now against the citation",
                    "properties": {
                        "sha256": {"type": "string"},
                        "same": {"type": "boolean"},
                        "stories_then": {"type": "integer", "nullable": True},
                        "stories_now": {"type": "integer"},
                        "recorded": {"type": "boolean"},
                        "added": {"type": "integer"},
                        "removed": {"type": "integer"},
                    },
                },
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "fix": {"type": "string", "description": "a corrected query to try"},
            },
        },
    }


# ---- the analysis views (web/analysis.py) ---------------------------------------------------


def _analysis_paths(selection: list[dict[str, Any]], bad: dict[str, Any]) -> dict[str, Any]:
    """/api/trends and /api/compare, as JSON and CSV: the search's parameters (a search page's
    query string works as it is), and each view's own."""
    search_too = [p for p in selection if p["name"] not in ("q",)]  # compare takes q its own way
    rest = [
        _param("page", "read and ignored (a search page's URL works)", {"type": "integer",
               "minimum": 1, "maximum": MAX_PAGE}),
        _param("per_page", "read and ignored", {"type": "integer", "minimum": 1,
               "maximum": MAX_PER_PAGE}),
        _param("timeline", "read and ignored", _flag_schema()),
        _interval_param(),
        _param("scale", "what the page's chart draws: share of all stories, or counts",
               {"type": "string", "enum": list(SCALES)}),
    ]  # fmt: skip
    trend_params = [
        *selection,
        *rest,
        _param("by", "break the trend down by chain or by country", {"type": "string",
               "enum": list(BY), "default": BY[0]}),
        _param("top", f"series shown one by one (the rest summed as other); at most {MAX_TOP}",
               {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": DEFAULT_TOP}),
    ]  # fmt: skip
    queries = _param(
        "q",
        f"a query (as in /api/search); repeat for up to {MAX_QUERIES} queries on one timeline",
        {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_QUERIES,
            "items": {"type": "string", "maxLength": MAX_QUERY_CHARS, "pattern": "\\S"},
        },
        style="form",
        explode=True,
        required=True,
    )
    compare_params = [queries, *search_too, *rest]
    trends_csv = (
        "tidy CSV, one row per period and series: period, series (matching, a chain id or "
        "country code, other, none), name, count, all_stories (the denominator), share; "
        "undated stories last"
    )
    compare_csv = "CSV, one row per period and query: period, query, count, all_stories, share"
    return {
        "/api/trends": {
            "get": {
                "summary": "matching stories per period by chain or country: counts, all "
                "stories of the period (the denominator), shares, and the crawl's gaps",
                "parameters": trend_params,
                "responses": {"200": _json("Trends", "the trend"), **bad},
            }
        },
        "/api/trends.csv": {
            "get": {
                "summary": "the trend as CSV",
                "parameters": trend_params,
                "responses": {"200": _text("text/csv", trends_csv), **bad},
            }
        },
        "/api/compare": {
            "get": {
                "summary": f"up to {MAX_QUERIES} queries on one timeline, with the same "
                "filters: counts, the denominator and shares per period",
                "parameters": compare_params,
                "responses": {"200": _json("Comparison", "the queries' series"), **bad},
            }
        },
        "/api/compare.csv": {
            "get": {
                "summary": "the comparison as CSV",
                "parameters": compare_params,
                "responses": {"200": _text("text/csv", compare_csv), **bad},
            }
        },
    }


def _analysis_schemas() -> dict[str, Any]:
    share = {"type": "number", "nullable": True, "description": "count / all_stories"}
    counts = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "period": {"type": "string"},
                "count": {"type": "integer"},
                "share": share,
            },
        },
    }
    series = {
        "total": {"type": "integer"},
        "undated": {"type": "integer"},
        "counts": counts,
    }
    period = {
        "type": "object",
        "properties": {
            "period": {"type": "string", "example": "2021-10"},
            "all_stories": {"type": "integer", "description": "every indexed story of the period"},
            "matching": {"type": "integer"},
            "share": share,
        },
    }
    coverage_ref = {"$ref": "#/components/schemas/Coverage"}
    return {
        "Trends": {
            "type": "object",
            "required": ["query", "by", "interval", "total", "periods", "series", "coverage"],
            "properties": {
                "query": {"type": "string"},
                "by": {"type": "string", "enum": list(BY)},
                "interval": {"type": "string", "enum": ["month", "year"]},
                "total": {"type": "integer", "description": "matching stories"},
                "periods": {"type": "array", "items": period},
                "undated": {"type": "object", "additionalProperties": {"type": "integer"}},
                "series": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": {
                                "type": "string",
                                "description": "a chain id or country code; other; none",
                            },
                            "name": {"type": "string"},
                            "values": {"type": "array", "items": {"type": "string"}},
                            **series,
                        },
                    },
                },
                "coverage": coverage_ref,
            },
        },
        "Comparison": {
            "type": "object",
            "required": ["queries", "interval", "periods", "series", "coverage"],
            "properties": {
                "queries": {"type": "array", "items": {"type": "string"}},
                "interval": {"type": "string", "enum": ["month", "year"]},
                "periods": {"type": "array", "items": period},
                "series": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"query": {"type": "string"}, **series},
                    },
                },
                "coverage": coverage_ref,
            },
        },
        "Coverage": {
            "type": "object",
            "description": "where the crawl was thin in the charted periods, from the crawl "
            "store's runs; without a crawl store, crawl_store is false and note says so",
            "required": ["crawl_store", "gaps"],
            "properties": {
                "crawl_store": {"type": "boolean"},
                "note": {"type": "string", "nullable": True},
                "sites": {"type": "array", "items": {"type": "object"}},
                "gaps": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "site": {"type": "string"},
                            "start": {"type": "string", "format": "date-time"},
                            "end": {"type": "string", "format": "date-time"},
                            "ongoing": {"type": "boolean"},
                            "kind": {"type": "string", "enum": ["failed", "not crawled"]},
                            "failed_runs": {"type": "integer"},
                            "error": {"type": "string", "nullable": True},
                        },
                    },
                },
            },
        },
    }
