"""What a search asks for, checked: the same request object for every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from indexer.facets import FACETS
from indexer.querylang import QueryError

MAX_PER_PAGE = 100
MAX_PAGE = 1000
SNIPPET_CHARS = 240
SORTS = ("relevance", "date")
INTERVALS = ("auto", "month", "year")


@dataclass
class SearchRequest:
    q: str = ""
    # facet name ("year", "chain", "country") -> selected values
    filters: dict[str, list[str]] = field(default_factory=dict)
    # country codes a story must all name (`country_all`), beside `filters`, which ORs values
    country_all: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    any_word: bool = False
    timeline: bool = False  # also count matching stories per period (the page's chart)
    interval: str = "auto"  # the timeline's period: month, year, or auto by span

    def validate(self) -> None:
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        if self.interval not in INTERVALS:
            raise QueryError(
                f"interval must be one of {', '.join(INTERVALS)}, not {self.interval[:20]!r}"
            )
        unknown = set(self.filters) - set(FACETS)
        if unknown:
            raise QueryError(f"unknown facet {sorted(unknown)[0]!r}; facets: {', '.join(FACETS)}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError("'from' is after 'to': swap the two dates")
