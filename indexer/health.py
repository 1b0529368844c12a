"""Health of a deployment for maintainers: which sites still yield articles, and how fresh the
index is. Feeds `innosearch stats` and the `/stats` page, so both say the same thing (it sits
below `web/`, which must not import the command line's package).

Everything about sites comes from the crawl store, opened read-only (the web app never writes):
its history of runs (`CrawlStore.site_runs`: one row per crawl of a site, with whether it
succeeded and its counts) and its per-host fetch state (`CrawlStore.site_health`). "Days since
the last new article" comes from the history: a site that stopped producing articles is the
quiet failure maintainers most need to see, since its fetches still succeed. The last crawl's
counts also say what it found of the articles it already knew: how many it asked for although
no link led to them (revalidated), how many of those were unchanged, and how many articles left
the index (gone: a 404 or 410, linked or not).
"""

from __future__ import annotations

import calendar
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crawler.store import CrawlStore, StoreOutdated
from indexer.backend import Backend, describe, open_backend
from indexer.errors import IndexAccessError
from indexer.request import SearchRequest

RUNS_SHOWN = 10  # new articles per run: how many recent runs a site's row lists
_DAY = 86400.0


def _parse_iso(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def read_store(data_dir: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The crawl store's figures and its site history, read without writing. A missing store
    gives zeros; one that cannot be read (older schema, damaged) gives zeros and a "note"."""
    store: dict[str, Any] = {
        "path": str(data_dir),
        "pages": 0,
        "articles": 0,
        "not_articles": {},
        "sites": [],
    }
    runs: list[dict[str, Any]] = []
    try:
        with CrawlStore(data_dir, read_only=True) as s:
            store.update(
                pages=s.count_pages(),
                articles=s.count_articles(),
                not_articles=s.page_reasons(),
                sites=s.site_health(),
            )
            runs = s.site_runs()
    except FileNotFoundError:
        pass
    except (StoreOutdated, sqlite3.Error) as e:
        store["note"] = str(e)
    return store, runs


# ---- per-site health ----------------------------------------------------------------------------


def site_rows(
    runs: list[dict[str, Any]],
    store_rows: list[dict[str, Any]] | None = None,
    configured: Iterable[tuple[str, list[str]]] = (),
    now: float | None = None,
) -> list[dict[str, Any]]:
    """One row per site, from the store's history of runs (`CrawlStore.site_runs`), its
    per-host rows (`CrawlStore.site_health`) and the configured sites ((name, hosts) pairs, so
    a site that never ran still shows up)."""
    now = time.time() if now is None else now
    hosts_of: dict[str, list[str]] = {}
    for name, hosts in configured:
        hosts_of[name] = list(hosts)
    by_site: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_site.setdefault(run["site"], []).append(run)
        hosts_of.setdefault(run["site"], list(run.get("hosts") or []))
    owner = {host: name for name, hosts in hosts_of.items() for host in hosts}
    host_rows: dict[str, list[dict[str, Any]]] = {}
    for row in store_rows or []:
        name = owner.get(row["site"], row["site"])
        hosts_of.setdefault(name, [row["site"]])
        host_rows.setdefault(name, []).append(row)

    rows = []
    for name in sorted(hosts_of):
        history = by_site.get(name, [])
        last = history[-1] if history else None
        failed = 0
        for run in reversed(history):
            if run.get("ok"):
                break
            failed += 1
        ok_runs = [r for r in history if r.get("ok")]
        with_new = [r for r in history if r.get("articles_new")]
        last_new = _parse_iso(with_new[-1].get("finished_at")) if with_new else None
        fetch = host_rows.get(name, [])
        successes = [r["last_success"] for r in fetch if r.get("last_success")]
        # What the last crawl that got under way found of the articles it knew (None: no such
        # crawl, or one recorded before revalidation existed).
        crawled = next((r for r in reversed(history) if "pages_fetched" in r), {})
        rows.append(
            {
                "site": name,
                "hosts": hosts_of[name],
                "last_run": last.get("finished_at") if last else None,
                "last_run_ok": bool(last.get("ok")) if last else None,
                "last_error": last.get("error") if last and not last.get("ok") else None,
                "last_success": ok_runs[-1].get("finished_at") if ok_runs else None,
                "failed_runs": failed,
                "new_per_run": [int(r.get("articles_new") or 0) for r in history[-RUNS_SHOWN:]],
                "days_since_new_article": (
                    round((now - last_new) / _DAY, 1) if last_new is not None else None
                ),
                "pages": sum(int(r.get("pages") or 0) for r in fetch),
                "articles": sum(int(r.get("articles") or 0) for r in fetch),
                "last_fetch_success": max(successes) if successes else None,
                "fetch_failures": sum(int(r.get("failures") or 0) for r in fetch),
                "revalidated": crawled.get("revalidated"),
                "revalidated_unchanged": crawled.get("revalidated_unchanged"),
                "revalidated_gone": crawled.get("revalidated_gone"),
                "articles_gone": crawled.get("articles_gone"),
            }
        )
    return rows


# ---- the index ----------------------------------------------------------------------------------


def index_stats(target: str | Path, index: Backend | None = None) -> dict[str, Any]:
    """The index's figures from its backend (`Backend.stats`): `index` is the caller's open
    backend when it has one (the web app); otherwise the index is opened for the call, read-only.
    An index that is missing or cannot be reached reports "exists" False."""
    opened = None
    try:
        if index is None:
            index = opened = open_backend(target)
        stats = dict(index.stats())
        if stats.get("exists"):
            # What a search counts: copies of one story (a syndicated release) count once, so
            # the page says why its total and the documents differ.
            stats["stories"] = index.search(SearchRequest(per_page=1))["total"]
        return stats
    except IndexAccessError:
        return {"path": describe(target), "exists": False, "documents": 0, "bytes": 0}
    finally:
        if opened is not None:
            opened.close()


# ---- everything together ------------------------------------------------------------------------


def collect_stats(
    data_dir: str | Path,
    index_dir: str | Path,
    configured: Iterable[tuple[str, list[str]]] = (),
    index: Backend | None = None,
) -> dict[str, Any]:
    """The maintainers' view: index, crawl store and one row per site."""
    store, runs = read_store(data_dir)
    return {
        "index": index_stats(index_dir, index),
        "store": store,
        "sites": site_rows(runs, store["sites"], configured),
    }


def public_summary(
    data_dir: str | Path, index_dir: str | Path, index: Backend | None = None
) -> dict[str, Any]:
    """What anyone may see: is the index there, how big and how fresh, how many sites fail.
    No paths, no per-site names (the list of sources can be an editorial secret)."""
    _store, runs = read_store(data_dir)
    return summarize({"index": index_stats(index_dir, index), "sites": site_rows(runs)})


def summarize(stats: dict[str, Any]) -> dict[str, Any]:
    """The public summary of full stats (from `collect_stats`, or just "index" and "sites")."""
    index, sites = stats["index"], stats["sites"]
    runs = [s["last_run"] for s in sites if s["last_run"]]
    return {
        "documents": index["documents"],
        "stories": index.get("stories", 0),
        "index_updated_at": index.get("updated_at"),
        "index_age_hours": index.get("age_hours"),
        "sites": len(sites),
        "sites_failing": sum(1 for s in sites if s["last_run_ok"] is False),
        "last_run": max(runs) if runs else None,
    }
