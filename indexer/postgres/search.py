"""Searching the PostgreSQL index: the INTERFACE.md object from one SQL statement.

The semantics are those of `indexer.whoosh.search` on Whoosh, so callers cannot tell the backends
apart: all words required (or any word), facets multi-select (values of one facet ORed,
facets ANDed, each facet's counts computed without its own selection), copies of one story
(`dup` groups) shown and counted once, relevance then newest first, or newest first.

The statement computes the matching rows once (`m`, with one boolean per selected facet),
collapses each needed selection to one row per duplicate group (`DISTINCT ON (dup)`,
preferring the group's representative as Whoosh does), and returns totals, facet counts and
the page (with ts_headline snippets and the other copies of each story) as JSON, so a search
is two round trips: normalising the words, then this.

Snippets: the body is HTML-escaped before ts_headline marks it with control characters
(stripped from the text first), which then become `<mark>`; so the snippet holds `<mark>` and
escaped text only, and the crawled markup shows as text, never as HTML.
"""

from __future__ import annotations

import html
from typing import Any

import psycopg

from indexer.facets import FACETS
from indexer.postgres.query import day_range, normalise, parse, translate
from indexer.postgres.schema import TS_CONFIG
from indexer.request import SNIPPET_CHARS, SearchRequest
from indexer.timeline import timeline_of

_START, _STOP = "\x02", "\x03"
_HEADLINE_OPTIONS = (
    f'StartSel="{_START}", StopSel="{_STOP}", MaxFragments=2, MaxWords=28, MinWords=12, '
    'FragmentDelimiter=" … "'
)
_ESCAPED_BODY = (
    "replace(replace(replace(translate(d.body, E'\\x02\\x03', ''), '&', '&amp;'), "
    "'<', '&lt;'), '>', '&gt;')"
)
# How a facet selection restricts rows, and how each facet's values are listed.
_FLAG = {
    "year": "d.year = ANY(%s::integer[])",
    "chain": "d.chains && %s::text[]",
    "country": "d.countries && %s::text[]",
}
_VALUES = {
    "year": "SELECT year::text AS v, count(*) AS n FROM {c} WHERE year IS NOT NULL GROUP BY year",
    "chain": "SELECT v, count(*) AS n FROM {c}, unnest(chains) AS v GROUP BY v",
    "country": "SELECT v, count(*) AS n FROM {c}, unnest(countries) AS v GROUP BY v",
}


def run_search(conn: psycopg.Connection, req: SearchRequest) -> dict[str, Any]:
    """Runs a search and returns the INTERFACE.md JSON object (as a dict)."""
    req.validate()
    node = parse(req.q, req.any_word)
    where, params, rank = "TRUE", [], None
    if node is not None:
        translated = translate(node, normalise(conn, node), req.q)
        where, params, rank = translated.where, list(translated.params), translated.rank

    sql: list[str] = []
    args: list[Any] = []
    flags: dict[str, str] = {}
    score = "0::float8"
    if rank:
        score = "ts_rank_cd(d.tsv, %s::tsquery, 1)::float8"
        args.append(rank)
    columns = [f"{score} AS score"]
    for name in FACETS:
        selected = [v.strip() for v in req.filters.get(name) or [] if v.strip()]
        if req.filters.get(name):
            flags[name] = f"f_{name}"
            columns.append(f"({_FLAG[name]}) AS f_{name}")
            args.append(_values(name, selected))
    days, day_args = day_range(req.date_from, req.date_to)
    conditions = [where, *days]
    args += params + day_args
    sql.append(
        "WITH m AS MATERIALIZED (SELECT d.id, d.dup, d.year, d.chains, d.countries, d.pubday, "
        + ", ".join(columns)
        + " FROM documents d WHERE "
        + " AND ".join(conditions)
        + ")"
    )

    # One collapsed selection per distinct condition: the results, and each facet's counts
    # (which ignore that facet's own selection).
    collapsed: dict[str, str] = {}

    def selection(without: str | None) -> str:
        cond = " AND ".join(f for n, f in flags.items() if n != without) or "TRUE"
        if cond not in collapsed:
            name = collapsed[cond] = f"c{len(collapsed)}"
            sql.append(
                f", {name} AS MATERIALIZED (SELECT DISTINCT ON (dup) * FROM m WHERE {cond} "
                "ORDER BY dup, (id = dup) DESC, id)"
            )
        return collapsed[cond]

    final = selection(None)
    facet_sources = {name: selection(name) for name in FACETS}

    by_relevance = rank is not None and req.sort == "relevance"
    order = (
        "p.score DESC, p.pubday DESC NULLS LAST, p.id"
        if by_relevance
        else "p.pubday DESC NULLS LAST, p.score DESC, p.id"
    )
    sql.append(
        f", page AS (SELECT id, score, pubday FROM {final} p ORDER BY {order} LIMIT %s OFFSET %s)"
    )
    args += [req.per_page, (req.page - 1) * req.per_page]

    snippet = "NULL::text"
    snippet_args: list[Any] = []
    if rank:
        snippet = f"ts_headline('{TS_CONFIG}', {_ESCAPED_BODY}, %s::tsquery, %s)"
        snippet_args = [rank, _HEADLINE_OPTIONS]
    selects = [f"(SELECT count(*) FROM {final})"]
    for name in FACETS:
        selects.append(
            "(SELECT coalesce(json_agg(json_build_array(v, n)), '[]') FROM ("
            + _VALUES[name].format(c=facet_sources[name])
            + ") t)"
        )
    selects.append(
        "(SELECT coalesce(json_agg(json_build_object("
        "'id', d.id, 'url', d.url, 'title', d.title, 'published', d.published, "
        "'year', d.year, 'chains', d.chains, 'countries', d.countries, 'site', d.site, "
        "'evidence', d.evidence, "
        f"'score', p.score, 'snippet', {snippet}, 'lead', left(d.body, 600), "
        "'also', (SELECT coalesce(json_agg(json_build_object('site', o.site, 'url', o.url, "
        "'id', o.id) ORDER BY o.id), '[]') FROM documents o WHERE o.dup = d.dup AND o.id <> d.id)"
        f") ORDER BY {order}), '[]') FROM page p JOIN documents d ON d.id = p.id)"
    )
    args += snippet_args
    if req.timeline:
        selects.append(
            "(SELECT coalesce(json_agg(json_build_array(mon, n)), '[]') FROM ("
            "SELECT (extract(year FROM pubday) * 100 + extract(month FROM pubday))::int AS mon, "
            f"count(*) AS n FROM {final} WHERE pubday IS NOT NULL GROUP BY 1) t)"
        )
        selects.append(f"(SELECT count(*) FROM {final} WHERE pubday IS NULL)")
    sql.append(" SELECT " + ", ".join(selects))

    row = conn.execute(" ".join(sql).encode(), args).fetchone()
    assert row is not None
    total, year_counts, chain_counts, country_counts, rows = row[:5]
    result: dict[str, Any] = {
        "query": req.q,
        "total": int(total),
        "page": req.page,
        "per_page": req.per_page,
        "results": [_result(r) for r in rows],
        "facets": {
            "year": _ordered(year_counts, numeric=True),
            "chain": _ordered(chain_counts),
            "country": _ordered(country_counts),
        },
        "did_you_mean": None,
    }
    if req.timeline:
        result["timeline"] = timeline_of(dict(row[5]), int(row[6]), req.interval)
    return result


def _values(name: str, selected: list[str]) -> list[Any]:
    """A facet's selected values as the column holds them (case- and type-tolerant)."""
    if name == "year":
        return [int(v) for v in selected if v.isdigit()]
    if name == "country":
        return [v.upper() for v in selected]
    return [v.lower() for v in selected]


def _ordered(pairs: list[list[Any]], numeric: bool = False) -> dict[str, int]:
    """Most frequent first (years newest first), as `indexer.facets.count` orders them."""
    counts = {str(v): int(n) for v, n in pairs}
    if numeric:
        return dict(sorted(counts.items(), key=lambda kv: int(kv[0]), reverse=True))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _result(row: dict[str, Any]) -> dict[str, Any]:
    lead = row.pop("lead") or ""
    marked = row.pop("snippet")
    row["score"] = round(float(row["score"] or 0.0), 4)
    row["published"] = row["published"] or None
    row["snippet"] = _snippet(marked, lead) if marked and _START in marked else _lead(lead)
    # The keys in INTERFACE.md order, then the extras.
    keys = ("id", "url", "title", "published", "year", "chains", "countries", "site", "score")
    extras = {"snippet": row["snippet"], "also": row["also"], "evidence": row["evidence"]}
    return {k: row[k] for k in keys} | extras


def _snippet(marked: str, lead: str) -> str:
    """ts_headline output (already escaped) with its markers as `<mark>`, and a leading
    ellipsis when it does not start where the article does."""
    text = " ".join(marked.split())
    plain = text.replace(_START, "").replace(_STOP, "")
    opening = " ".join(html.escape(lead, quote=False).split())
    out = text.replace(_START, "<mark>").replace(_STOP, "</mark>")
    return out if opening.startswith(plain[:30]) else "… " + out


def _lead(text: str) -> str:
    """The article's opening words, escaped: the snippet when no query word is in the text."""
    text = " ".join(text.split())
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(text, quote=False)
