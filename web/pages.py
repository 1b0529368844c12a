"""The researchers' pages: search with facets, and one article with its evidence."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from indexer.enrich import countries, taxonomy
from indexer.facets import FACETS
from web import get_index
from web.charts import charted_coverage, coverage_bands
from web.params import search_request

bp = Blueprint("pages", __name__)


@bp.app_template_test("http_url")
def is_http_url(url: Any) -> bool:
    """Whether a crawled URL may become a link: only absolute http(s) URLs. Escaping keeps
    markup out of an href, but not `javascript:` or `data:`, which run when clicked."""
    try:
        parts = urlsplit(str(url or ""))
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def chain_names() -> dict[str, str]:
    """Chain id -> name, from the taxonomy data file (indexer/enrich/data/chains.toml)."""
    return {chain.id: chain.name for chain in taxonomy.rules().chains}


@bp.app_template_filter("source")
def source(story: dict[str, Any]) -> str:
    """Where a story (a result, a copy of it, the article) comes from: "Site Name · host",
    or the host alone when neither the configuration nor the site's pages name the site."""
    return " · ".join(filter(None, [story.get("site_name"), story.get("site") or story["url"]]))


@bp.app_context_processor
def search_form() -> dict[str, Any]:
    """What the search box and its options show, read from the URL as sent: the same on the
    results page and on an error page, so a refused search keeps its words and filters."""
    args = request.args
    facets = [(k, v) for k, v in args.items(multi=True) if k in (*FACETS, "country_all") and v]
    return {
        "form": {
            "q": args.get("q", ""),
            "any": args.get("any", "") in ("1", "true", "on", "yes"),
            "sort": args.get("sort", "relevance"),
            "from": args.get("from", ""),
            "to": args.get("to", ""),
            "filters": facets,
        }
    }


@bp.get("/")
def search_page() -> ResponseReturnValue:
    req = search_request(request.args)
    req.timeline = True
    result = get_index(current_app).search(req)
    pages = max(1, -(-result["total"] // req.per_page))
    here = query_string(request.args.items(multi=True))
    api_url = url_for("api.api_search") + here
    selection = query_string(
        (k, v) for k, v in request.args.items(multi=True) if k not in ("page", "per_page")
    )
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
            downloads={
                "CSV": url_for("api.api_export_csv") + selection,
                "JSON Lines": url_for("api.api_export_jsonl") + selection,
                "timeline JSON": url_for("api.api_timeline") + selection,
                "timeline CSV": url_for("api.api_timeline_csv") + selection,
                "who works with whom": url_for("cooccurrence.cooccurrence_page") + selection,
                "Atom feed": url_for("feeds.feed") + selection,
                "cite": url_for("cite.cite_page") + selection,
            },
            chart=timeline_chart(result["timeline"], with_coverage=True),
            analysis_urls=_analysis_urls(),
            suggestion_url=_suggestion_url(result.get("did_you_mean")),
        )
    )
    response.headers["Link"] = f'<{api_url}>; rel="alternate"; type="application/json"'
    return response


@bp.get("/article/<article_id:doc_id>")
def article_page(doc_id: str) -> ResponseReturnValue:
    doc = get_index(current_app).get_document(doc_id)
    if doc is None:
        abort(404, description=f"no article with id {doc_id!r}")
    return render_template(
        "article.html", doc=doc, chain_names=chain_names(), country_name=country_name
    )


def country_name(code: str) -> str:
    """The English name of an ISO 3166-1 code (former states too), as facets and badges show it."""
    return countries.name_of(code)


def query_string(items: Any) -> str:
    pairs = [(k, v) for k, v in items if v != ""]
    return "?" + urlencode(pairs) if pairs else ""


def _toggle_url(facet: str, value: str) -> str:
    """The URL of this page with one facet value added, or removed when already selected."""
    items = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    if (facet, value) in items:
        items.remove((facet, value))
    else:
        items.append((facet, value))
    return url_for("pages.search_page") + query_string(items)


CHART_WIDTH, CHART_HEIGHT = 600, 120  # the plot area, in SVG units
CHART_LEFT, CHART_BOTTOM = 40, 18  # room for the count axis and the period labels
MAX_TICKS = 8  # period labels under the bars: more would run into each other
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def timeline_chart(timeline: dict[str, Any], with_coverage: bool = False) -> dict[str, Any]:
    """Bars of the attention chart, laid out here so the page draws it as SVG without script.

    Each bar links to the same search narrowed to its month or year, and carries its period
    and count as a tooltip and for screen readers. The axes say what is counted: the count
    at the top and the middle of the scale, and at most MAX_TICKS period labels, on year
    boundaries when a range of months is long (as Media Cloud's attention chart does).
    `with_coverage` shades where the crawl was thin (`web.charts.coverage_bands`).
    """
    counts = timeline["counts"]
    peak = max((c["count"] for c in counts), default=0)
    width = CHART_WIDTH / max(1, len(counts))
    bars = []
    for i, c in enumerate(counts):
        height = round(CHART_HEIGHT * c["count"] / peak, 1) if peak else 0
        start, end = period_range(c["period"])
        bars.append(
            {
                "period": c["period"],
                "label": period_label(c["period"]),
                "count": c["count"],
                "x": round(CHART_LEFT + i * width, 2),
                "width": round(max(width - 1, 0.5), 2),
                "y": round(CHART_HEIGHT - height, 1),
                "height": height,
                "url": _narrow_url(start, end),
            }
        )
    return {
        "bars": bars,
        "peak": peak,
        "width": CHART_LEFT + CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "bottom": CHART_BOTTOM,
        "levels": _levels(peak),
        "ticks": ticks(bars, width),
        "interval": timeline["interval"],
        "undated": timeline["undated"],
        "bands": _bands([c["period"] for c in counts], width) if with_coverage else [],
    }


def _bands(periods: list[str], width: float) -> list[dict[str, Any]]:
    gaps = charted_coverage(periods)["gaps"]
    return coverage_bands(gaps, periods, CHART_LEFT, width)


def period_label(period: str) -> str:
    """ "2021-03" -> "Mar 2021"; a year stays as it is."""
    if len(period) == 4:
        return period
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def _levels(peak: int) -> list[dict[str, Any]]:
    """Count-axis labels: 0, about the middle, and the peak (each at its true height)."""
    values = sorted({0, peak // 2, peak})
    return [{"value": v, "y": round(CHART_HEIGHT * (1 - v / peak), 1)} for v in values if peak]


def ticks(bars: list[dict[str, Any]], width: float) -> list[dict[str, Any]]:
    """Period labels at most MAX_TICKS: every year's January when months span several years,
    else every n-th bar; each centred under its bar."""
    if not bars:
        return []
    marked = bars
    if len(bars) > MAX_TICKS and len(bars[0]["period"]) == 7:
        marked = [b for b in bars if b["period"].endswith("-01")] or bars[:1]
        marked = [{**b, "label": b["period"][:4]} for b in marked]
    step = -(-len(marked) // MAX_TICKS)
    return [{"x": round(b["x"] + width / 2, 2), "label": b["label"]} for b in marked[::step]]


def period_range(period: str) -> tuple[str, str]:
    if len(period) == 4:
        return f"{period}-01-01", f"{period}-12-31"
    year, month = (int(p) for p in period.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return f"{period}-01", date.fromordinal(following.toordinal() - 1).isoformat()


def _narrow_url(start: str, end: str) -> str:
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "from", "to")]
    return url_for("pages.search_page") + query_string([*items, ("from", start), ("to", end)])


def _analysis_urls() -> dict[str, str]:
    """This search in the analysis views (web/analysis.py): by chain, by country, compared."""
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "per_page")]
    trends = url_for("analysis.trends_page")
    return {
        "chain": trends + query_string([*items, ("by", "chain")]),
        "country": trends + query_string([*items, ("by", "country")]),
        "compare": url_for("analysis.compare_page") + query_string(items),
    }


def _suggestion_url(suggestion: str | None) -> str | None:
    if not suggestion:
        return None
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "q")]
    return url_for("pages.search_page") + query_string([("q", suggestion), *items])


def _page_url(page: int) -> str:
    items = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    if page > 1:
        items.append(("page", str(page)))
    return url_for("pages.search_page") + query_string(items)
