"""Where the collection itself is thin: spans of time in which a site was not crawled, or was
crawled and failed, read from the crawl store's history of runs (`CrawlStore.site_runs`).

A chart of stories per month shows interest and crawl volume at once: a month in which a site
went uncrawled has fewer stories whatever the world wrote. The timeline, trends and comparison
views draw these spans over their bars, so a dip in coverage is not read as a dip in interest.

A gap is a stretch between two successful runs of a site (or from its last one until now) that
is longer than the site's own rhythm allows: three times its usual interval between successful
runs, and at least `MIN_GAP`. It is "failed" when runs were attempted and failed in it, "not
crawled" when none ran. Before a site's first run there is no gap to report (its first crawl
reaches back as far as its pages link), and an index built without a crawl store (from JSON
lines) has no history at all: it says so rather than inventing gaps.
"""

from __future__ import annotations

import itertools
import sqlite3
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.store import DB_NAME, CrawlStore, StoreOutdated

MIN_GAP = timedelta(days=2)  # shorter silences are a schedule's ordinary jitter
RHYTHM_FACTOR = 3  # a gap is this many usual intervals between successful runs, or more


def crawl_coverage(
    data_dir: str | Path | None,
    configured: Iterable[tuple[str, list[str]]] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """`{"crawl_store": bool, "note": str | None, "sites": [...], "gaps": [...]}` for the crawl
    store in `data_dir`: per site its runs, and every gap (site, start, end, kind, failed runs,
    the last error). `configured` ((name, hosts) pairs) adds sites that never ran."""
    now = now or datetime.now(UTC)
    out: dict[str, Any] = {"crawl_store": False, "note": None, "sites": [], "gaps": []}
    if data_dir is None or not (Path(data_dir) / DB_NAME).is_file():
        out["note"] = (
            "no crawl store beside this index (built from JSON lines, or the data directory "
            "is elsewhere): when sites went uncrawled is unknown, so no gap is shown"
        )
        return out
    try:
        with CrawlStore(data_dir, read_only=True) as store:
            runs = store.site_runs()
    except (StoreOutdated, sqlite3.Error) as e:
        out["note"] = f"the crawl store could not be read: {e}"
        return out
    out["crawl_store"] = True
    by_site: dict[str, list[dict[str, Any]]] = {name: [] for name, _hosts in configured}
    for run in runs:
        by_site.setdefault(run["site"], []).append(run)
    for site in sorted(by_site):
        history = by_site[site]
        out["sites"].append(
            {
                "site": site,
                "runs": len(history),
                "failed_runs": sum(1 for r in history if not r.get("ok")),
                "first_run": history[0]["started_at"] if history else None,
                "last_run": history[-1]["finished_at"] if history else None,
            }
        )
        out["gaps"] += site_gaps(site, history, now)
    out["gaps"].sort(key=lambda g: (g["start"], g["site"]))
    if not runs:
        out["note"] = "the crawl store has no finished run yet"
    return out


def site_gaps(site: str, history: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The gaps of one site's runs (oldest first, as `CrawlStore.site_runs` gives them)."""
    if not history:
        return []
    ok = [_time(r["finished_at"]) for r in history if r.get("ok")]
    first = _time(history[0]["started_at"])
    if not ok:  # it never succeeded: one gap from the first attempt on, whatever its length
        return [_gap(site, history, first, now, ongoing=True)]
    intervals = [b - a for a, b in itertools.pairwise(ok)]
    longest = max(MIN_GAP, RHYTHM_FACTOR * statistics.median(intervals)) if intervals else MIN_GAP
    stretches = [(a, b, False) for a, b in itertools.pairwise(ok)]
    stretches.append((ok[-1], now, True))
    if not history[0].get("ok"):
        stretches.insert(0, (first, ok[0], False))
    return [
        _gap(site, history, start, end, ongoing)
        for start, end, ongoing in stretches
        if end - start >= longest
    ]


def _gap(
    site: str, history: list[dict[str, Any]], start: datetime, end: datetime, ongoing: bool
) -> dict[str, Any]:
    failed = [r for r in history if not r.get("ok") and start <= _time(r["finished_at"]) <= end]
    return {
        "site": site,
        "start": _iso(start),
        "end": _iso(end),
        "ongoing": ongoing,
        "kind": "failed" if failed else "not crawled",
        "failed_runs": len(failed),
        "error": failed[-1].get("error") if failed else None,
    }


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
