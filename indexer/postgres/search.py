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
import threading
from dataclasses import dataclass
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
# The row DISTINCT ON (dup) ... ORDER BY dup, (id = dup) DESC, id keeps of its group when no
# filter removes any: the row named by the group key, else the group's smallest id.
_REPRESENTATIVE = (
    "(d.id = d.dup OR (NOT EXISTS (SELECT 1 FROM documents r WHERE r.id = d.dup AND r.dup = d.dup)"
    " AND NOT EXISTS (SELECT 1 FROM documents o WHERE o.dup = d.dup AND o.id < d.id)))"
)


class BrowseCache:
    """The counts of browsing with no words, filters or dates, computed once per generation.

    Browsing counts every story's facets: at a million documents that is seconds of work per
    page, the same for every visitor until the next write run. Every committed write run bumps
    `index_state.generation` in its own transaction, and a search using these counts reads the
    generation in the same statement as its page (one snapshot): when the two differ, the counts
    are recomputed and the search runs again, so no search shows counts of another generation.
    """

    def __init__(self) -> None:
        self._counts: Counts | None = None
        self._lock = threading.Lock()

    def counts(self, conn: psycopg.Connection, stale: int | None = None) -> Counts:
        """The counts last computed, unless there are none or they are of generation `stale`
        (one thread recomputes; the others wait for its result rather than repeat it)."""
        with self._lock:
            if self._counts is None or self._counts.generation == stale:
                self._counts = _unfiltered(conn)
            return self._counts


@dataclass(frozen=True)
class Counts:
    """Total, facet counts (value, n pairs) and months of every story at one generation."""

    generation: int
    total: int
    facets: dict[str, list[list[Any]]]
    months: dict[int, int]
    undated: int


def run_search(
    conn: psycopg.Connection, req: SearchRequest, cache: BrowseCache | None = None
) -> dict[str, Any]:
    """Runs a search and returns the INTERFACE.md JSON object (as a dict).

    With a `cache`, browsing (no words, no dates, at most one facet selected) takes the
    unfiltered counts from it: all of them with no selection, the selected facet's otherwise
    (its counts ignore its own selection).
    """
    req.validate()
    node = parse(req.q, req.any_word)
    selected = [name for name in FACETS if req.filters.get(name)]
    browsing = node is None and not (req.date_from or req.date_to) and len(selected) <= 1
    if cache is not None and browsing:
        stale = None
        for _attempt in range(3):
            counts = cache.counts(conn, stale)
            result, generation = _search(conn, req, None, counts)
            if generation == counts.generation:
                return result
            stale = counts.generation  # a write run committed in between
    return _search(conn, req, node, None)[0]


def _search(
    conn: psycopg.Connection, req: SearchRequest, node: Any, counts: Counts | None
) -> tuple[dict[str, Any], int]:
    """One statement: the search object and the generation it saw. With `counts`, the request
    is browsing with at most one facet selected, and the unfiltered counts come from them."""
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
    conditions = [where]
    condition_args: list[Any] = []
    cached: set[str] = set(FACETS) if counts is not None else set()
    for name in FACETS:
        selected = [v.strip() for v in req.filters.get(name) or [] if v.strip()]
        if not req.filters.get(name):
            continue
        if counts is not None:  # the only selection: a plain condition, its own counts cached
            cached = {name}
            conditions.append(_FLAG[name])
            condition_args.append(_values(name, selected))
        else:
            flags[name] = f"f_{name}"
            columns.append(f"({_FLAG[name]}) AS f_{name}")
            args.append(_values(name, selected))
    days, day_args = day_range(req.date_from, req.date_to)
    conditions += days
    args += params + condition_args + day_args

    by_relevance = rank is not None and req.sort == "relevance"
    order = (
        "p.score DESC, p.pubday DESC NULLS LAST, p.id"
        if by_relevance
        else "p.pubday DESC NULLS LAST, p.score DESC, p.id"
    )
    everything = counts is not None and len(cached) == len(FACETS)
    selects: dict[str, str] = {"generation": "(SELECT generation FROM index_state)"}
    if everything:
        # Every story, newest first: the newest-first index walked, keeping each group's
        # representative (as DISTINCT ON below picks it), instead of collapsing every group.
        sql.append(
            "WITH page AS (SELECT d.id, 0::float8 AS score, d.pubday FROM documents d "
            f"WHERE {_REPRESENTATIVE} ORDER BY d.pubday DESC NULLS LAST, d.id LIMIT %s OFFSET %s)"
        )
    else:
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
        selects["total"] = f"(SELECT count(*) FROM {final})"
        for name in FACETS:
            if name not in cached:
                selects[name] = _facet_counts(name, selection(name))
        if req.timeline:
            selects.update(_timeline_counts(final))
        sql.append(
            f", page AS (SELECT id, score, pubday FROM {final} p ORDER BY {order} "
            "LIMIT %s OFFSET %s)"
        )
    args += [req.per_page, (req.page - 1) * req.per_page]

    snippet = "NULL::text"
    if rank:
        snippet = f"ts_headline('{TS_CONFIG}', {_ESCAPED_BODY}, %s::tsquery, %s)"
    selects["results"] = (
        "(SELECT coalesce(json_agg(json_build_object("
        "'id', d.id, 'url', d.url, 'title', d.title, 'published', d.published, "
        "'year', d.year, 'chains', d.chains, 'countries', d.countries, 'site', d.site, "
        "'evidence', d.evidence, "
        f"'score', p.score, 'snippet', {snippet}, 'lead', left(d.body, 600), "
        "'also', (SELECT coalesce(json_agg(json_build_object('site', o.site, 'url', o.url, "
        "'id', o.id) ORDER BY o.id), '[]') FROM documents o WHERE o.dup = d.dup AND o.id <> d.id)"
        f") ORDER BY {order}), '[]') FROM page p JOIN documents d ON d.id = p.id)"
    )
    if rank:
        args += [rank, _HEADLINE_OPTIONS]
    sql.append(" SELECT " + ", ".join(selects.values()))

    row = conn.execute(" ".join(sql).encode(), args).fetchone()
    assert row is not None
    got = dict(zip(selects, row, strict=True))
    if counts is not None:
        got = {"total": counts.total, "months": counts.months, "undated": counts.undated} | got
        got = {name: counts.facets[name] for name in cached} | got
    result: dict[str, Any] = {
        "query": req.q,
        "total": int(got["total"]),
        "page": req.page,
        "per_page": req.per_page,
        "results": [_result(r) for r in got["results"]],
        "facets": {name: _ordered(got[name], numeric=name == "year") for name in FACETS},
        "did_you_mean": None,
    }
    if req.timeline:
        result["timeline"] = timeline_of(dict(got["months"]), int(got["undated"]), req.interval)
    return result, int(got["generation"])


def _unfiltered(conn: psycopg.Connection) -> Counts:
    """Total, facets and months of every story (each duplicate group once), in one snapshot."""
    source = (
        "(SELECT DISTINCT ON (dup) year, chains, countries, pubday FROM documents "
        "ORDER BY dup, (id = dup) DESC, id)"
    )
    selects = {"generation": "(SELECT generation FROM index_state)"}
    selects["total"] = "(SELECT count(*) FROM c)"
    selects |= {name: _facet_counts(name, "c") for name in FACETS} | _timeline_counts("c")
    row = conn.execute(
        f"WITH c AS MATERIALIZED {source} SELECT {', '.join(selects.values())}".encode()
    ).fetchone()
    assert row is not None
    got = dict(zip(selects, row, strict=True))
    return Counts(
        generation=int(got["generation"]),
        total=int(got["total"]),
        facets={name: got[name] for name in FACETS},
        months={int(k): int(v) for k, v in got["months"]},
        undated=int(got["undated"]),
    )


def _facet_counts(name: str, source: str) -> str:
    """A subquery giving a facet's [value, count] pairs over a collapsed selection."""
    return (
        "(SELECT coalesce(json_agg(json_build_array(v, n)), '[]') FROM ("
        + _VALUES[name].format(c=source)
        + ") t)"
    )


def _timeline_counts(final: str) -> dict[str, str]:
    """Subqueries giving stories per month (YYYYMM, n pairs) and the undated ones."""
    return {
        "months": "(SELECT coalesce(json_agg(json_build_array(mon, n)), '[]') FROM ("
        "SELECT (extract(year FROM pubday) * 100 + extract(month FROM pubday))::int AS mon, "
        f"count(*) AS n FROM {final} WHERE pubday IS NOT NULL GROUP BY 1) t)",
        "undated": f"(SELECT count(*) FROM {final} WHERE pubday IS NULL)",
    }


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
