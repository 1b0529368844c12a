"""Reading a search from URL parameters: shared by the page and the API so they cannot differ."""

from __future__ import annotations

import difflib
import re
from datetime import date

from werkzeug.datastructures import MultiDict

from indexer import QueryError, SearchRequest
from indexer.enrich import countries
from indexer.enrich.taxonomy import chain_for, chain_ids
from indexer.facets import FACETS
from indexer.querylang import MAX_QUERY_CHARS

MAX_VALUES = 50  # values of one facet in one request
MAX_VALUE_CHARS = 100  # characters of one facet value (ids and codes are far shorter)
YEAR = re.compile(r"[0-9]{4}")
DAY = re.compile(r"[0-9]{4}(?:-[0-9]{2}-[0-9]{2})?")

# What a switch (`any`, `timeline`) may say: HTML forms send "on" or the box's value, scripts
# "1" or "true". Anything else is refused rather than read as off, so a typo is noticed.
FLAGS = {
    **{"0": False, "false": False, "off": False, "no": False},
    **{"1": True, "true": True, "on": True, "yes": True},
}


# Every parameter a search reads; any other is refused (a typo such as `contry=CN` would
# otherwise widen the search without a word).
PARAMETERS = (
    "q", "any", *FACETS, "country_all", "from", "to", "sort", "page", "per_page", "timeline",
    "interval",
)  # fmt: skip
# What a search selects (the rest orders and pages it): what a citation or a feed names.
SELECTION = ("q", "any", *FACETS, "country_all", "from", "to")


def search_request(args: MultiDict[str, str], extra: tuple[str, ...] = ()) -> SearchRequest:
    """Builds a SearchRequest from `q`, `year`, `chain`, `country`, `country_all`, `from`,
    `to`, `sort`, `page`, `per_page`, `any`, `timeline` and `interval`; raises QueryError with
    a helpful message on bad values. `extra` names the parameters a view reads beside the
    search's (the analysis views' `by`, `top`, `scale`).

    Values are read strictly (exactly what `/api/openapi.json` promises): a value the server
    would quietly read as something else is refused, so a script's typo shows at once.
    """
    known = PARAMETERS + extra
    for name in args:
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            raise QueryError(
                f"unknown parameter {name[:40]!r}"
                + (f" (did you mean {near[0]!r}?)" if near else "")
                + f"; parameters: {', '.join(known)}"
            )
    filters: dict[str, list[str]] = {}
    for name in FACETS:
        values = _facet_values(args, name)
        if values:
            filters[name] = values
    q = args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:  # as sent, spaces included: what the API document promises
        raise QueryError(f"query too long ({len(q)} characters; at most {MAX_QUERY_CHARS})")
    request = SearchRequest(
        q=q,
        filters=filters,
        country_all=[v.upper() for v in _facet_values(args, "country_all", "country")],
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        sort=args.get("sort", "relevance"),
        page=_int(args, "page", 1),
        per_page=_int(args, "per_page", 20),
        any_word=_flag(args, "any"),
        timeline=_flag(args, "timeline"),
        interval=args.get("interval", "auto"),
    )
    request.validate()
    return request


def _facet_values(args: MultiDict[str, str], name: str, kind: str = "") -> list[str]:
    """The values of parameter `name`, checked as values of facet `kind` (default: `name`)."""
    kind = kind or name
    raw = args.getlist(name)
    if len(raw) > MAX_VALUES:
        raise QueryError(f"too many values for {name} (at most {MAX_VALUES})")
    if kind == "year":
        for v in raw:
            if not YEAR.fullmatch(v):
                raise QueryError(f"year must be four digits, like 2021, not {v[:20]!r}")
        return raw
    for v in raw:
        if len(v) > MAX_VALUE_CHARS:
            raise QueryError(f"a {name} value is too long (at most {MAX_VALUE_CHARS} characters)")
    values = [v for v in raw if v]  # an empty value (an empty form field) selects nothing
    for v in values:
        known = country_names()
        if kind == "country" and not (v in known or (v.islower() and v.upper() in known)):
            meant = countries.code_for(v)
            raise QueryError(
                f"unknown country {v[:40]!r}: a two-letter ISO code, like CN"
                + (f"; did you mean {meant} ({countries.name_of(meant)})?" if meant else "")
                + " (GET /api/facets lists them)",
                fix=meant, param=name, wrong=v,
            )  # fmt: skip
        if kind == "chain" and v not in chain_ids():
            meant = chain_for(v)
            raise QueryError(
                f"unknown chain {v[:40]!r}"
                + (f"; did you mean {meant!r}?" if meant else "")
                + f"; chains: {', '.join(chain_ids())}",
                fix=meant, param=name, wrong=v,
            )  # fmt: skip
    return values


def country_names() -> dict[str, str]:
    """Code -> name of every country a story can be tagged with: the valid `country` values."""
    return countries.rules().names


def _flag(args: MultiDict[str, str], name: str) -> bool:
    raw = args.get(name)
    if raw is None:
        return False
    if raw not in FLAGS:
        raise QueryError(f"{name} must be 1 or 0, not {raw[:20]!r}")
    return FLAGS[raw]


def choice(args: MultiDict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first by default); anything else is refused, naming them."""
    raw = args.get(name, choices[0])
    if raw not in choices:
        raise QueryError(f"{name} must be one of {', '.join(choices)}, not {raw[:20]!r}")
    return raw


def bounded_int(
    args: MultiDict[str, str], name: str, default: int, most: int, least: int = 1
) -> int:
    """A whole number from `least` to `most` (`default` when absent)."""
    value = _int(args, name, default)
    if not least <= value <= most:
        raise QueryError(f"{name} must be between {least} and {most}")
    return value


def _int(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise QueryError(f"{name} must be a whole number, not {raw[:20]!r}")
    return int(raw)


def _date(args: MultiDict[str, str], name: str) -> date | None:
    """A day (2021-10-20) or a year (2021: its first day for `from`, its last for `to`); empty
    is no bound, as an empty date field of the page's form sends."""
    raw = args.get(name, "")
    if not raw:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError
        if len(raw) == 4:
            return date(int(raw), 12, 31) if name == "to" else date(int(raw), 1, 1)
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"{name} must be an ISO date like 2021-10-20, not {raw[:20]!r}") from None
