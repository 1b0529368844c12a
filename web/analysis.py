"""The analysis views: trends by chain or country (`/trends`) and queries compared on one
timeline (`/compare`), each a page, a JSON endpoint and a CSV download over one data function
(so the three cannot disagree), all reading the search's own query string (`web.params`).

Each also lists where the crawl itself was thin in the charted periods (`indexer.coverage`),
and draws it, so a dip in coverage is not read as a dip in interest.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from indexer import QueryError, SearchRequest
from indexer.export import csv_lines
from indexer.trends import (
    BY,
    DEFAULT_TOP,
    MAX_QUERIES,
    MAX_TOP,
    NONE,
    OTHER,
    SCALES,
    compare,
    trends,
)
from web import get_index
from web.api import download
from web.charts import (
    COLOURS,
    DASHES,
    LEFT,
    WIDTH,
    charted_coverage,
    coverage_bands,
    describe_gap,
    levels,
    percent,
)
from web.pages import period_label, period_range, query_string, ticks
from web.params import bounded_int, choice, search_request

bp = Blueprint("analysis", __name__)


TREND_PARAMETERS = ("by", "top", "scale")
COMPARE_PARAMETERS = ("scale",)
PANEL_HEIGHT, LINES_HEIGHT = 56, 180


# ---- the data: one function per view, for the page, the JSON and the CSV -----------------------


def trends_data(args: MultiDict[str, str]) -> dict[str, Any]:
    """The `/api/trends` object: periods with their denominators, the series, the coverage."""
    req = search_request(args, TREND_PARAMETERS)
    by = choice(args, "by", BY)
    top = bounded_int(args, "top", DEFAULT_TOP, MAX_TOP)
    choice(args, "scale", SCALES)  # read by the page only, but checked everywhere
    data = trends(get_index(current_app), req, by, top)
    data["coverage"] = charted_coverage([p["period"] for p in data["periods"]])
    return data


def compare_requests(args: MultiDict[str, str]) -> list[SearchRequest]:
    """One request per `q` (one to MAX_QUERIES, none empty), each with every other parameter."""
    queries = args.getlist("q")
    example = "for instance ?q=chip&q=battery"
    if not queries:
        raise QueryError(f"give one to {MAX_QUERIES} queries to compare, each as q ({example})")
    if len(queries) > MAX_QUERIES:
        raise QueryError(
            f"at most {MAX_QUERIES} queries can be compared on one timeline, not {len(queries)}: "
            "remove some q"
        )
    if not all(q.strip() for q in queries):
        raise QueryError(f"each q needs a query: remove the empty one ({example})")
    choice(args, "scale", SCALES)
    rest = [(k, v) for k, v in args.items(multi=True) if k != "q"]
    return [search_request(MultiDict([("q", q), *rest]), COMPARE_PARAMETERS) for q in queries]


def compare_data(args: MultiDict[str, str]) -> dict[str, Any]:
    """The `/api/compare` object: the queries' series on one timeline, and the coverage."""
    data = compare(get_index(current_app), compare_requests(args))
    data["coverage"] = charted_coverage([p["period"] for p in data["periods"]])
    return data


# ---- JSON and CSV --------------------------------------------------------------------------------


@bp.get("/api/trends")
def api_trends() -> ResponseReturnValue:
    return jsonify(trends_data(request.args))


@bp.get("/api/trends.csv")
def api_trends_csv() -> ResponseReturnValue:
    """One row per period and series (tidy data): period, series, name, count, all_stories,
    share; the matching stories first (series "matching"), undated stories last."""
    data = trends_data(request.args)
    rows: list[tuple[Any, ...]] = [("period", "series", "name", "count", "all_stories", "share")]
    for p in data["periods"]:
        row = ("matching", "all matching stories", p["matching"], p["all_stories"], p["share"])
        rows.append((p["period"], *row))
    for s in data["series"]:
        for c in s["counts"]:
            share = c["share"]
            rows.append((c["period"], s["value"], s["name"], c["count"], _all(data, c), share))
    undated = data["undated"]
    rows.append(("undated", "matching", "all matching stories", undated["matching"],
                 undated["all_stories"], None))  # fmt: skip
    rows += [
        ("undated", s["value"], s["name"], s["undated"], undated["all_stories"], None)
        for s in data["series"]
    ]
    return download("".join(csv_lines(_blank(rows))), "text/csv", "innosearch-trends.csv")


@bp.get("/api/compare")
def api_compare() -> ResponseReturnValue:
    return jsonify(compare_data(request.args))


@bp.get("/api/compare.csv")
def api_compare_csv() -> ResponseReturnValue:
    """One row per period and query: period, query, count, all_stories, share."""
    data = compare_data(request.args)
    rows: list[tuple[Any, ...]] = [("period", "query", "count", "all_stories", "share")]
    for s in data["series"]:
        rows += [
            (c["period"], s["query"], c["count"], _all(data, c), c["share"]) for c in s["counts"]
        ]
        rows.append(("undated", s["query"], s["undated"], None, None))
    return download("".join(csv_lines(_blank(rows))), "text/csv", "innosearch-compare.csv")


def _all(data: dict[str, Any], count: dict[str, Any]) -> int:
    return next(p["all_stories"] for p in data["periods"] if p["period"] == count["period"])


def _blank(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """None as an empty cell (no denominator), not the text "None"."""
    return [tuple("" if v is None else v for v in row) for row in rows]


# ---- the pages -----------------------------------------------------------------------------------


@bp.get("/trends")
def trends_page() -> ResponseReturnValue:
    data = trends_data(request.args)
    scale = request.args.get("scale", SCALES[0])
    return _page(
        "trends.html",
        "analysis.api_trends",
        data,
        req=search_request(request.args, TREND_PARAMETERS),
        top=request.args.get("top", str(DEFAULT_TOP)),
        panels=_panels(data, scale),
        hidden=_hidden(("q", "by", "top", "scale")),
        max_top=MAX_TOP,
    )


@bp.get("/compare")
def compare_page() -> ResponseReturnValue:
    data = compare_data(request.args)
    scale = request.args.get("scale", SCALES[0])
    queries = data["queries"]
    return _page(
        "compare.html",
        "analysis.api_compare",
        data,
        req=compare_requests(request.args)[0],
        chart=_lines(data, scale),
        boxes=[*queries, *[""] * (MAX_QUERIES - len(queries))],
        hidden=_hidden(("q", "scale")),
    )


def _page(template: str, api: str, data: dict[str, Any], **context: Any) -> ResponseReturnValue:
    """A view's page, linked to its JSON twin (`Link: rel=alternate`) and its CSV."""
    here = query_string(request.args.items(multi=True))
    api_url = url_for(api) + here
    page = render_template(
        template,
        data=data,
        scale=request.args.get("scale", SCALES[0]),
        gaps=[describe_gap(g) for g in data["coverage"]["gaps"]],
        api_url=api_url,
        csv_url=url_for(api + "_csv") + here,
        **context,
    )
    response = current_app.make_response(page)
    response.headers["Link"] = f'<{api_url}>; rel="alternate"; type="application/json"'
    return response


def _hidden(own: tuple[str, ...]) -> list[tuple[str, str]]:
    """The URL's other parameters (filters, dates), kept by the view's own form."""
    return [(k, v) for k, v in request.args.items(multi=True) if k not in own and v]


def _value(count: dict[str, Any], scale: str) -> float:
    return (count["share"] or 0.0) if scale == "share" else count["count"]


def _panels(data: dict[str, Any], scale: str) -> list[dict[str, Any]]:
    """Small multiples: all indexed stories (the denominator, in counts), all matching stories,
    then one panel per series; the matching and series panels share one scale."""
    periods = [p["period"] for p in data["periods"]]
    step = WIDTH / max(1, len(periods))
    bands = coverage_bands(data["coverage"]["gaps"], periods, LEFT, step)
    denominator = [
        {"period": p["period"], "count": p["all_stories"], "share": None} for p in data["periods"]
    ]
    matching = [
        {"period": p["period"], "count": p["matching"], "share": p["share"]}
        for p in data["periods"]
    ]
    rows = [("matching", "All matching stories", data["total"], matching)]
    rows += [(s["value"], s["name"], s["total"], s["counts"]) for s in data["series"]]
    peak = max((_value(c, scale) for *_x, counts in rows for c in counts), default=0)
    fmt = percent if scale == "share" else _whole
    den_peak = max((c["count"] for c in denominator), default=0)
    panels = [
        _panel(
            "all",
            "All indexed stories (the denominator)",
            sum(c["count"] for c in denominator),
            denominator,
            "count",
            den_peak,
            _whole,
            step,
            bands,
            by=None,
        )
    ]
    for value, name, total, counts in rows:
        panels.append(
            _panel(value, name, total, counts, scale, peak, fmt, step, bands, by=data["by"])
        )
    return panels


def _stories(n: int) -> str:
    return f"{n:,} stor{'y' if n == 1 else 'ies'}"


def _whole(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.1f}"


def _panel(
    value: str,
    name: str,
    total: int,
    counts: list[dict[str, Any]],
    scale: str,
    peak: float,
    fmt: Any,
    step: float,
    bands: list[dict[str, Any]],
    by: str | None,
) -> dict[str, Any]:
    bars = []
    for i, c in enumerate(counts):
        v = _value(c, scale)
        height = round(PANEL_HEIGHT * v / peak, 1) if peak else 0
        label = period_label(c["period"])
        text = f"{label}: {_stories(c['count'])}"
        if c["share"] is not None:
            text += f", {percent(c['share'])} of all stories"
        bars.append(
            {
                "period": c["period"],
                "label": label,
                "count": c["count"],
                "text": text,
                "x": round(LEFT + i * step, 2),
                "width": round(max(step - 1, 0.5), 2),
                "y": round(PANEL_HEIGHT - height, 1),
                "height": height,
                "url": _stories_url(c["period"], by, value) if by and c["count"] else None,
            }
        )
    return {
        "value": value,
        "name": name,
        "total": total,
        "bars": bars,
        "levels": levels(peak, PANEL_HEIGHT, fmt),
        "ticks": ticks(bars, step),
        "bands": bands,
        "height": PANEL_HEIGHT,
    }


def _stories_url(period: str, by: str, value: str) -> str:
    """The search page for the stories behind one bar: the period, and the series' value."""
    start, end = period_range(period)
    own = ("by", "top", "scale", "page", "from", "to", "timeline", "interval")
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in own]
    if value not in ("matching", OTHER, NONE):
        items.append((by, value))
    return url_for("pages.search_page") + query_string([*items, ("from", start), ("to", end)])


def _lines(data: dict[str, Any], scale: str) -> dict[str, Any]:
    """The comparison chart: one line per query, a point per period, the coverage bands."""
    periods = [p["period"] for p in data["periods"]]
    step = WIDTH / max(1, len(periods))
    peak = max((_value(c, scale) for s in data["series"] for c in s["counts"]), default=0)
    lines = []
    for n, s in enumerate(data["series"]):
        points = []
        for i, c in enumerate(s["counts"]):
            v = _value(c, scale)
            y = round(LINES_HEIGHT * (1 - v / peak), 1) if peak else LINES_HEIGHT
            text = f"{s['query']}, {period_label(c['period'])}: {_stories(c['count'])}"
            if c["share"] is not None:
                text += f", {percent(c['share'])} of all stories"
            value = _stories(c["count"])
            if c["share"] is not None:
                value += f" ({percent(c['share'])})"
            points.append(
                {"x": round(LEFT + (i + 0.5) * step, 2), "y": y, "text": text, "value": value}
            )
        lines.append(
            {
                "query": s["query"],
                "total": s["total"],
                "colour": COLOURS[n % len(COLOURS)],
                "dash": DASHES[n % len(DASHES)],
                "points": points,
                "path": " ".join(f"{p['x']},{p['y']}" for p in points),
            }
        )
    marks = ticks(
        [
            {"x": LEFT + i * step, "period": p, "label": period_label(p)}
            for i, p in enumerate(periods)
        ],
        step,
    )
    # One hover target per period over every line: points of equal value overlap, so each
    # column's tooltip gives all the queries' values of its period at once.
    columns = []
    for i, period in enumerate(periods):
        parts = [f"{line['query']} {line['points'][i]['value']}" for line in lines]
        columns.append(
            {
                "x": round(LEFT + i * step, 2),
                "width": round(step, 2),
                "text": f"{period_label(period)}: " + "; ".join(parts),
            }
        )
    return {
        "lines": lines,
        "columns": columns,
        "levels": levels(peak, LINES_HEIGHT, percent if scale == "share" else _whole),
        "ticks": marks,
        "bands": coverage_bands(data["coverage"]["gaps"], periods, LEFT, step),
        "height": LINES_HEIGHT,
    }
