"""Reading a search from URL parameters: shared by the page and the API so they cannot differ."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from indexer import QueryError, SearchRequest
from indexer.facets import FACETS

MAX_VALUES = 50


def search_request(args: MultiDict[str, str]) -> SearchRequest:
    """Builds a SearchRequest from `q`, `year`, `chain`, `country`, `from`, `to`, `sort`,
    `page`, `per_page`, `any`, `timeline` and `interval`; raises QueryError with a helpful
    message on bad values."""
    filters: dict[str, list[str]] = {}
    for name in FACETS:
        values = [v.strip() for v in args.getlist(name) if v.strip()]
        if len(values) > MAX_VALUES:
            raise QueryError(f"too many values for {name} (at most {MAX_VALUES})")
        if name == "year":
            for v in values:
                if not (v.isdigit() and len(v) == 4):
                    raise QueryError(f"year must be four digits, like 2021, not {v!r}")
        if values:
            filters[name] = values
    request = SearchRequest(
        q=args.get("q", ""),
        filters=filters,
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        sort=args.get("sort", "relevance") or "relevance",
        page=_int(args, "page", 1),
        per_page=_int(args, "per_page", 20),
        any_word=_flag(args, "any"),
        timeline=_flag(args, "timeline"),
        interval=args.get("interval", "auto") or "auto",
    )
    request.validate()
    return request


def _flag(args: MultiDict[str, str], name: str) -> bool:
    return args.get(name, "").strip().lower() in ("1", "true", "on", "yes")


def _int(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 6:
        raise QueryError(f"{name} must be a whole number, not {raw[:20]!r}")
    return int(raw)


def _date(args: MultiDict[str, str], name: str) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 4 and raw.isdigit():
            return date(int(raw), 12, 31) if name == "to" else date(int(raw), 1, 1)
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"{name} must be an ISO date like 2021-10-20, not {raw[:20]!r}") from None
