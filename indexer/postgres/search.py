"""Searching the PostgreSQL index: the INTERFACE.md object from one SQL statement.

The semantics are those of `indexer.whoosh.search` on Whoosh, so callers cannot tell the backends
apart: all words required (or any word), facets multi-select (values of one facet ORed,
facets ANDed, each facet's counts computed without its own selection), copies of one story
(`dup` groups) shown and counted once, through the story's original, relevance then newest
first, or newest first.

Only the rows the writer flags `representative` (one per story: its original) are searched,
through indexes that hold only them, so copies cost a search nothing but the list of them
under each result. The statement computes the matching stories once (`m`, with one boolean per
selected facet) and returns totals, facet counts and the page (with ts_headline snippets and
the other copies of each story) as JSON, so a search is two round trips: normalising the
words, then this.

Snippets: the body is HTML-escaped before ts_headline marks it with control characters
(stripped from the text first), which then become `<mark>`; so the snippet holds `<mark>` and
escaped text only, and the crawled markup shows as text, never as HTML.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg

from indexer.document import Story
from indexer.facets import FACETS
from indexer.postgres.query import day_range, parse, translate
from indexer.postgres.schema import WORDS_CONFIG
from indexer.querylang import Node
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
_NEWEST = "p.pubday DESC NULLS LAST, p.score DESC, p.id"
# Seconds the browsing counts of one generation may take (a search gets SEARCH_SECONDS).
BROWSE_COUNTS_SECONDS = 120
_VALUES = {
    "year": "SELECT year::text AS v, count(*) AS n FROM {c} WHERE year IS NOT NULL GROUP BY year",
    "chain": "SELECT v, count(*) AS n FROM {c}, unnest(chains) AS v GROUP BY v",
    "country": "SELECT v, count(*) AS n FROM {c}, unnest(countries) AS v GROUP BY v",
}


class BrowseCache:
    """What browsing shows (no words, no dates, at most one facet value selected), computed
    once per index generation.

    Browsing counts facets over every story: at a million documents that is seconds of work
    per page, the same for every visitor until the next write run. Every committed write run
    bumps `index_state.generation` in its own transaction, and a search using these counts reads
    the generation in the same statement as its page (one snapshot): when the two differ, the
    counts are recomputed and the search runs again, so no search shows another generation's.
    """

    def __init__(self) -> None:
        self._counts: Counts | None = None
        self._lock = threading.Lock()

    def counts(self, conn: psycopg.Connection, stale: int | None = None) -> Counts:
        """The counts last computed, unless there are none or they are of generation `stale`
        (one thread recomputes; the others wait for its result rather than repeat it)."""
        with self._lock:
            if self._counts is None or self._counts.generation == stale:
                self._counts = _browse_counts(conn)
            return self._counts


@dataclass(frozen=True)
class Tally:
    """The stories of one selection: how many, each facet's (value, n) pairs, and months."""

    total: int = 0
    facets: dict[str, list[list[Any]]] = field(default_factory=dict)
    months: dict[int, int] = field(default_factory=dict)
    undated: int = 0


@dataclass(frozen=True)
class Counts:
    """The tallies of one generation by selection: ("", "") for none, else (facet, value)."""

    generation: int
    tallies: dict[tuple[str, str], Tally]


def run_search(
    conn: psycopg.Connection, req: SearchRequest, cache: BrowseCache | None = None
) -> dict[str, Any]:
    """Runs a search and returns the INTERFACE.md JSON object (as a dict); browsing takes its
    counts from `cache` when one is given."""
    req.validate()
    node = parse(req.q, req.any_word)
    key = _browse_key(req) if node is None else None
    if cache is not None and key is not None:
        stale = None
        for _attempt in range(3):
            counts = cache.counts(conn, stale)
            result, generation = _browse(conn, req, key, counts)
            if generation == counts.generation:
                return result
            stale = counts.generation  # a write run committed in between
    return _search(conn, req, node)


def _browse_key(req: SearchRequest) -> tuple[str, str] | None:
    """The tally a request without words can be answered from: ("", "") with no selection,
    (facet, value) with one value of one facet, None otherwise (or with dates)."""
    if req.date_from or req.date_to or req.country_all:
        return None
    chosen = [name for name in FACETS if req.filters.get(name)]
    if not chosen:
        return "", ""
    if len(chosen) > 1:
        return None
    values = _values(chosen[0], [v.strip() for v in req.filters[chosen[0]] if v.strip()])
    return (chosen[0], str(values[0])) if len(values) == 1 else None


def _browse(
    conn: psycopg.Connection, req: SearchRequest, key: tuple[str, str], counts: Counts
) -> tuple[dict[str, Any], int]:
    """A browsing page: the stories' newest-first index walked (a year's own part of the
    year index when one year is selected), the counts from `counts`; returns the search object
    and the generation the page was read at."""
    facet, value = key
    args: list[Any] = []
    within = "TRUE"
    if facet:
        within = _FLAG[facet]
        args.append(_values(facet, [value]))
    sql = (
        "WITH page AS MATERIALIZED (SELECT d.id, 0::float8 AS score, d.pubday FROM documents d "
        f"WHERE d.representative AND {within} "
        "ORDER BY d.pubday DESC NULLS LAST, d.id LIMIT %s OFFSET %s) "
        "SELECT (SELECT generation FROM index_state), " + _page_json("NULL::text", _NEWEST)
    )
    args += [req.per_page, (req.page - 1) * req.per_page]
    row = conn.execute(sql.encode(), args).fetchone()
    assert row is not None
    everything, tally = counts.tallies.get(("", ""), Tally()), counts.tallies.get(key, Tally())
    result: dict[str, Any] = {
        "query": req.q,
        "total": tally.total,
        "page": req.page,
        "per_page": req.per_page,
        "results": [_result(r) for r in row[1]],
        "facets": {
            name: _ordered(
                (everything if name == facet else tally).facets.get(name, []),
                numeric=name == "year",
            )
            for name in FACETS
        },
        "did_you_mean": None,
    }
    if req.timeline:
        result["timeline"] = timeline_of(tally.months, tally.undated, req.interval)
    return result, int(row[0])


def _browse_counts(conn: psycopg.Connection) -> Counts:
    """Every browsing tally in one statement: the stories once with no selection and once
    per facet value they hold, counted.

    It reads every document, so it may take longer than one search is allowed to; it runs
    once per generation.
    """
    sql = (
        "WITH c AS MATERIALIZED (SELECT s.f, s.v, d.year, d.chains, d.countries, "
        "(extract(year FROM d.pubday) * 100 + extract(month FROM d.pubday))::int AS mon "
        "FROM documents d CROSS JOIN LATERAL ("
        "SELECT '' AS f, '' AS v UNION ALL SELECT 'year', d.year::text WHERE d.year IS NOT NULL "
        "UNION ALL SELECT 'chain', unnest(d.chains) "
        "UNION ALL SELECT 'country', unnest(d.countries)) s WHERE d.representative), "
        "t AS (SELECT f, v, 'total' AS k, '' AS w, count(*) AS n FROM c GROUP BY f, v "
        "UNION ALL SELECT f, v, 'year', year::text, count(*) FROM c WHERE year IS NOT NULL "
        "GROUP BY f, v, year "
        "UNION ALL SELECT f, v, 'chain', w, count(*) FROM c, unnest(chains) w GROUP BY f, v, w "
        "UNION ALL SELECT f, v, 'country', w, count(*) FROM c, unnest(countries) w "
        "GROUP BY f, v, w "
        "UNION ALL SELECT f, v, 'month', mon::text, count(*) FROM c WHERE mon IS NOT NULL "
        "GROUP BY f, v, mon "
        "UNION ALL SELECT f, v, 'undated', '', count(*) FROM c WHERE mon IS NULL GROUP BY f, v) "
        "SELECT g.generation, t.f, t.v, t.k, t.w, t.n FROM index_state g LEFT JOIN t ON TRUE"
    )
    with conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = {BROWSE_COUNTS_SECONDS * 1000}")
        conn.execute("SET LOCAL work_mem = '64MB'")  # hash tables in memory: 14 s -> 12 s at 1M
        rows = conn.execute(sql.encode()).fetchall()
    parts: dict[tuple[str, str], dict[str, Any]] = {}
    for _generation, f, v, kind, w, n in rows:
        if f is None:  # an empty index
            continue
        part = parts.setdefault((f, v), {"facets": {}, "months": {}})
        if kind in ("total", "undated"):
            part[kind] = int(n)
        elif kind == "month":
            part["months"][int(w)] = int(n)
        else:
            part["facets"].setdefault(kind, []).append([w, int(n)])
    return Counts(int(rows[0][0]), {key: Tally(**part) for key, part in parts.items()})


class _Matching:
    """The statement's first part: the matching stories once (`m`: the rows flagged as their
    story's original, with one boolean per selected facet), then each needed selection. `sql`
    and `args` grow as selections are asked for."""

    def __init__(self, conn: psycopg.Connection, req: SearchRequest, node: Node | None) -> None:
        where, params, self.rank = "TRUE", [], None
        if node is not None:
            translated = translate(conn, node, req.q)
            where, params, self.rank = translated.where, list(translated.params), translated.rank
        self.args: list[Any] = []
        self.flags: dict[str, str] = {}
        columns: list[str] = []
        for name in FACETS:
            selected = [v.strip() for v in req.filters.get(name) or [] if v.strip()]
            if req.filters.get(name):
                self.flags[name] = f"f_{name}"
                columns.append(f"({_FLAG[name]}) AS f_{name}")
                self.args.append(_values(name, selected))
        days, day_args = day_range(req.date_from, req.date_to)
        conditions = [where, *days]
        self.args += params + day_args
        if req.country_all:  # every one of them, as a query's country:CN+DE
            conditions.append("d.countries @> %s::text[]")
            self.args.append(_values("country", req.country_all))
        self.sql = [
            "WITH m AS MATERIALIZED (SELECT "
            + ", ".join(["d.id", "d.year", "d.chains", "d.countries", "d.pubday", *columns])
            + " FROM documents d WHERE d.representative AND "
            + " AND ".join(conditions)
            + ")"
        ]
        self.selected: dict[str, str] = {"TRUE": "m"}

    def selection(self, without: str | None = None) -> str:
        """The CTE of the stories selected by every facet but `without` (None: all of them)."""
        cond = " AND ".join(f for n, f in self.flags.items() if n != without) or "TRUE"
        if cond not in self.selected:
            name = self.selected[cond] = f"c{len(self.selected)}"
            self.sql.append(f", {name} AS MATERIALIZED (SELECT * FROM m WHERE {cond})")
        return self.selected[cond]


def run_stories(conn: psycopg.Connection, req: SearchRequest) -> list[Story]:
    """Every matching story (copies collapsed as `_search` collapses them) with the countries
    it names: what the co-occurrence matrix and citations count."""
    req.validate()
    matching = _Matching(conn, req, parse(req.q, req.any_word))
    final = matching.selection()
    sql = " ".join(matching.sql) + f" SELECT id, countries FROM {final}"
    return [Story(i, tuple(sorted(c or ()))) for i, c in conn.execute(sql.encode(), matching.args)]


def _search(conn: psycopg.Connection, req: SearchRequest, node: Node | None) -> dict[str, Any]:
    """The search as one statement over every matching row."""
    matching = _Matching(conn, req, node)
    sql, args, rank, selection = matching.sql, matching.args, matching.rank, matching.selection
    final = selection(None)
    facet_sources = {name: selection(name) for name in FACETS}

    by_relevance = rank is not None and req.sort == "relevance"
    order = "p.score DESC, p.pubday DESC NULLS LAST, p.id" if by_relevance else _NEWEST
    # Ranked after the facet selection: ts_rank_cd reads each row's whole tsvector.
    score = "0::float8"
    if rank:
        score = "ts_rank_cd(d.tsv, %s::tsquery, 1)::float8"
        args.append(rank)
    sql.append(
        f", page AS (SELECT * FROM (SELECT p.id, {score} AS score, p.pubday FROM {final} p "
        f"JOIN documents d ON d.id = p.id) p ORDER BY {order} LIMIT %s OFFSET %s)"
    )
    args += [req.per_page, (req.page - 1) * req.per_page]

    snippet = "NULL::text"
    snippet_args: list[Any] = []
    if rank:
        snippet = f"ts_headline('{WORDS_CONFIG}', {_ESCAPED_BODY}, %s::tsquery, %s)"
        snippet_args = [rank, _HEADLINE_OPTIONS]
    selects = [f"(SELECT count(*) FROM {final})"]
    for name in FACETS:
        selects.append(
            "(SELECT coalesce(json_agg(json_build_array(v, n)), '[]') FROM ("
            + _VALUES[name].format(c=facet_sources[name])
            + ") t)"
        )
    selects.append(_page_json(snippet, order))
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


_FACET_COLUMN = {"year": "ARRAY[year::text]", "chain": "chains", "country": "countries"}


def run_breakdown(
    conn: psycopg.Connection, req: SearchRequest, facet: str
) -> dict[tuple[int, tuple[str, ...]], int]:
    """Matching stories by (month as YYYYMM, 0 when undated; the facet's values the story
    carries, sorted): what trends, shares and "other" are computed from (`indexer.trends`)."""
    req.validate()
    matching = _Matching(conn, req, parse(req.q, req.any_word))
    final = matching.selection(None)
    column = _FACET_COLUMN[facet]
    matching.sql.append(
        " SELECT coalesce((extract(year FROM pubday) * 100 + extract(month FROM pubday))::int, 0),"
        f" coalesce({column}, '{{}}'), count(*) FROM {final} GROUP BY 1, 2"
    )
    rows = conn.execute(" ".join(matching.sql).encode(), matching.args).fetchall()
    out: dict[tuple[int, tuple[str, ...]], int] = {}
    for month, values, n in rows:
        key = (int(month), tuple(sorted(v for v in values if v)))
        out[key] = out.get(key, 0) + int(n)
    return out


def _page_json(snippet: str, order: str) -> str:
    """The page's rows as a JSON array (from the CTE `page`: id, score, pubday), in `order`."""
    return (
        "(SELECT coalesce(json_agg(json_build_object("
        "'id', d.id, 'url', d.url, 'title', d.title, 'published', d.published, "
        "'year', d.year, 'chains', d.chains, 'countries', d.countries, 'site', d.site, "
        "'site_name', d.site_name, 'evidence', d.evidence, "
        f"'score', p.score, 'snippet', {snippet}, 'lead', left(d.body, 600), "
        "'also', (SELECT coalesce(json_agg(json_build_object('site', o.site, "
        "'site_name', o.site_name, 'url', o.url, "
        "'id', o.id) ORDER BY o.pubday ASC NULLS LAST, o.id), '[]') "
        "FROM documents o WHERE o.dup = d.dup AND o.id <> d.id)"
        f") ORDER BY {order}), '[]') FROM page p JOIN documents d ON d.id = p.id)"
    )


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
    keys = ("id", "url", "title", "published", "year", "chains", "countries", "site")
    keys += ("site_name", "score")
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
