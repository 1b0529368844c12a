"""The search that everything calls: the web page, the JSON API and `innosearch search`.

One function returns one plain dict, the JSON of INTERFACE.md, so the page and the API cannot
drift apart. Facets are multi-select as in Kibana or Datasette: values of one facet are ORed,
different facets ANDed, and each facet's counts ignore that facet's own selection (so choosing
"ai" still shows how many "nev" articles there are).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from whoosh import highlight, query
from whoosh.searching import Searcher

from indexer.facets import FACETS, FacetCache, count
from indexer.live import LiveIndex
from indexer.query import QueryError, parse_query

MAX_PER_PAGE = 100
MAX_PAGE = 1000
SNIPPET_CHARS = 240
SORTS = ("relevance", "date")

_facet_cache = FacetCache()


@dataclass
class SearchRequest:
    q: str = ""
    # facet name ("year", "chain", "country") -> selected values
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    any_word: bool = False

    def validate(self) -> None:
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        unknown = set(self.filters) - set(FACETS)
        if unknown:
            raise QueryError(f"unknown facet {sorted(unknown)[0]!r}; facets: {', '.join(FACETS)}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError("'from' is after 'to': swap the two dates")


def search(index: LiveIndex, request: SearchRequest) -> dict[str, Any]:
    """Runs a search and returns the INTERFACE.md JSON object (as a dict)."""
    request.validate()
    return index.run(lambda searcher: _search(searcher, request))


def _search(searcher: Searcher, req: SearchRequest) -> dict[str, Any]:
    parsed = parse_query(req.q, searcher.schema, any_word=req.any_word)
    matched = set(searcher.docs_for_query(parsed))
    if req.date_from or req.date_to:
        matched &= _date_docs(searcher, req.date_from, req.date_to)

    values = {name: _facet_cache.values(searcher, facet) for name, facet in FACETS.items()}
    chosen: dict[str, set[int]] = {}
    for name, selected in req.filters.items():
        if selected:
            facet = FACETS[name]
            docs: set[int] = set()
            for value in selected:
                docs |= values[name].get(facet.display(facet.term(value)), frozenset())
            chosen[name] = docs

    final = _intersect(matched, chosen.values())
    facets = {
        name: count(
            values[name], _intersect(matched, [d for n, d in chosen.items() if n != name]), facet
        )
        for name, facet in FACETS.items()
    }
    start = (req.page - 1) * req.per_page
    results: list[dict[str, Any]] = []
    if final and start < len(final):
        by_date = req.sort == "date" or isinstance(parsed, query.Every)
        hits = searcher.search(
            parsed,
            filter=final,
            limit=start + req.per_page,
            sortedby="pubday" if by_date else None,
            reverse=by_date,
            terms=True,
        )
        hits.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
        hits.formatter = MarkFormatter()
        results = [_hit(hit) for hit in hits[start : start + req.per_page]]
    return {
        "query": req.q,
        "total": len(final),
        "page": req.page,
        "per_page": req.per_page,
        "results": results,
        "facets": facets,
    }


def _intersect(base: set[int], others: Any) -> set[int]:
    result = base
    for docs in sorted(others, key=len):
        result = result & docs
    return result


def _date_docs(searcher: Searcher, start: date | None, end: date | None) -> set[int]:
    low = int(start.strftime("%Y%m%d")) if start else None
    high = int(end.strftime("%Y%m%d")) if end else None
    return set(searcher.docs_for_query(query.NumericRange("pubday", low, high)))


def _hit(hit: Any) -> dict[str, Any]:
    stored = hit.fields()
    snippet = hit.highlights("text", top=2) if hit.matched_terms() else ""
    return {
        "id": stored["id"],
        "url": stored.get("url", ""),
        "title": stored.get("title", ""),
        "published": stored.get("published") or None,
        "year": int(stored["year"]) if stored.get("year") else None,
        "chains": _split(stored.get("chains")),
        "countries": [c.upper() for c in _split(stored.get("countries"))],
        "site": stored.get("site", ""),
        "score": round(float(hit.score or 0.0), 4),
        "snippet": snippet or _lead(stored.get("text", "")),
    }


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _lead(text: str) -> str:
    """The article's opening words, escaped: the snippet when no query term is in the text."""
    text = " ".join(text.split())
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(text, quote=False)


class MarkFormatter(highlight.Formatter):
    """Highlights as bare `<mark>` around escaped text: crawled text is attacker-controlled."""

    between = " "

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        """A fragment, with an ellipsis where it starts or ends inside the text."""
        out = super().format_fragment(fragment, replace)
        if fragment.startchar > 0:
            out = "… " + out
        if fragment.endchar < len(fragment.text):
            out += " …"
        return out

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "<mark>" + self._text(highlight.get_text(text, token, replace)) + "</mark>"


def get_document(index: LiveIndex, doc_id: str) -> dict[str, Any] | None:
    """All stored fields of one article, for the article view (None when unknown)."""

    def find(searcher: Searcher) -> dict[str, Any] | None:
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        stored = dict(stored)
        stored["chains"] = _split(stored.get("chains"))
        stored["countries"] = [c.upper() for c in _split(stored.get("countries"))]
        stored["year"] = int(stored["year"]) if stored.get("year") else None
        return stored

    return index.run(find)
