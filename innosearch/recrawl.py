"""`innosearch recrawl`: every configured and known site crawled again, then the index updated.

One run at a time: the run lock (`DATA_DIR/recrawl.lock`) makes an overlapping run refuse at
once, and a run that crashed or was killed leaves the lock free and a note that the next run
reports before taking over. The crawl of a killed run resumes where it stopped, because the
crawler keeps its frontier in the store.

Sites are crawled one after another, each with its own limits; one site failing does not stop
the others, and the index is updated with whatever was crawled. The run fails (exit 1) when a
site failed, so cron mails and systemd marks the unit failed, and the summary names the site.
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.article import site_of
from innosearch.config import Config, SiteConfig
from innosearch.lock import RunLock
from innosearch.progress import TerminalProgress

log = logging.getLogger("innosearch.recrawl")

LOCK_FILE = "recrawl.lock"


class NothingToCrawl(ValueError):
    """No configured site, no known seed, or a `--site` that names no site."""


@dataclass
class SiteResult:
    site: SiteConfig
    ok: bool
    error: str | None = None
    crawl: Any = None  # crawler.crawl.CrawlSummary, when the crawl returned
    seconds: float = 0.0


@dataclass
class RecrawlResult:
    sites: list[SiteResult] = field(default_factory=list)
    index: Any = None  # indexer.whoosh.write.IndexSummary
    index_error: str | None = None

    @property
    def failed(self) -> list[SiteResult]:
        return [r for r in self.sites if not r.ok]


# ---- which sites ---------------------------------------------------------------------------------


def plan_sites(config: Config, known_seeds: list[str]) -> list[SiteConfig]:
    """The configured sites, then one site per host for seeds the store knows (from earlier
    `innosearch crawl` runs) or `seeds` lists, on hosts no configured site covers."""
    sites = list(config.sites)
    covered = {host for site in sites for host in site.site_hosts()}
    by_host: dict[str, list[str]] = {}
    for seed in [*known_seeds, *config.seeds]:
        host = site_of(seed)
        if host and host not in covered:
            by_host.setdefault(host, [])
            if seed not in by_host[host]:
                by_host[host].append(seed)
    sites += [SiteConfig(name=host, seeds=seeds) for host, seeds in by_host.items()]
    return sites


def site_name_for(seeds: list[str], config: Config) -> tuple[str, list[str]]:
    """The site name and hosts under which an ad-hoc `innosearch crawl` is recorded in the
    crawl store's history: the
    configured site covering its first seed, else that seed's host."""
    host = site_of(seeds[0]) if seeds else ""
    for site in config.sites:
        if host in site.site_hosts():
            return site.name, site.site_hosts()
    return host, sorted({site_of(s) for s in seeds})


# ---- the run -------------------------------------------------------------------------------------


def run_recrawl(config: Config, only: list[str] | None = None) -> RecrawlResult:
    """Crawls every site (or those named in `only`), then updates the index, under the lock.

    Raises LockedError when another run holds the lock, NothingToCrawl when there is nothing to
    do; a failing site is reported in the result, not raised.
    """
    from crawler.store import CrawlStore

    with RunLock(Path(config.data_dir) / LOCK_FILE) as lock:
        if lock.stale:
            log.warning(
                "recrawl: the previous run did not finish (%s): taking over; its crawl resumes",
                lock.stale,
                extra={"event": "stale-lock", "previous": lock.stale},
            )
        with CrawlStore(config.data_dir) as store:
            sites = plan_sites(config, store.seeds())
            if only:
                unknown = sorted(set(only) - {s.name for s in sites})
                if unknown:
                    names = ", ".join(s.name for s in sites) or "none"
                    raise NothingToCrawl(f"no site named {', '.join(unknown)} (sites: {names})")
                sites = [s for s in sites if s.name in only]
            if not sites:
                raise NothingToCrawl(
                    "no sites to re-crawl: add [[sites]] to innosearch.toml "
                    "or run `innosearch crawl URL...` first"
                )
            result = RecrawlResult()
            for number, site in enumerate(sites, 1):
                progress = TerminalProgress(f"[site {number}/{len(sites)}: {site.name}] ")
                try:
                    outcome = crawl_site(site, config, store, progress)
                finally:
                    progress.done()
                result.sites.append(outcome)
                _log_site(outcome)
        try:
            result.index = update_index(config, rebuild=False)
        except Exception as e:  # the crawl is kept; the next run indexes it
            result.index_error = str(e)
    _log_summary(result)
    return result


def crawl_site(site: SiteConfig, config: Config, store: Any, progress: Any = None) -> SiteResult:
    """One site's crawl with its own limits; any error becomes the site's failure."""
    from crawler.crawl import crawl

    started = time.monotonic()
    try:
        summary = crawl(
            site.start_urls(),
            store,
            site.crawl_settings(config.crawl),
            path_prefixes=tuple(site.path_prefixes),
            site=site.name,
            hosts=site.site_hosts(),
            progress=progress,
        )
    except Exception as e:  # one site's trouble must not stop the others
        log.debug("crawl of %s failed", site.name, exc_info=True)
        outcome = SiteResult(site, ok=False, error=f"{type(e).__name__}: {e}")
    else:
        error = summary.failure()
        outcome = SiteResult(site, ok=error is None, error=error, crawl=summary)
    outcome.seconds = time.monotonic() - started
    return outcome


def update_index(config: Config, rebuild: bool) -> Any:
    """Brings the index up to date with the store (or rebuilds it), holding the index lock so
    two writers (say a recrawl and a maintainer's `--rebuild`) never interleave."""
    from crawler.store import CrawlStore
    from indexer.backend import open_backend

    with index_lock(config.index_dir), CrawlStore(config.data_dir) as store:
        index = open_backend(config.index_dir, config.index_read_urls, writable=True)
        try:
            build = index.rebuild_from_store if rebuild else index.index_from_store
            return build(store)
        finally:
            index.close()


def index_lock(index_dir: str | Path) -> AbstractContextManager[Any]:
    """The lock every index write holds: the backend's lock file (a Whoosh directory), or none
    (PostgreSQL: each write run is one transaction)."""
    from indexer.backend import write_lock_file

    path = write_lock_file(index_dir)
    return nullcontext() if path is None else RunLock(path, what="index write")


# ---- what the maintainer reads -------------------------------------------------------------------


def _log_site(outcome: SiteResult) -> None:
    c = outcome.crawl
    facts: dict[str, Any] = {"event": "site", "site": outcome.site.name, "ok": outcome.ok}
    if c is not None:
        facts.update(
            pages_fetched=c.pages_fetched,
            not_modified=c.not_modified,
            articles_new=c.articles_new,
            articles_updated=c.articles_updated,
            articles_gone=c.articles_gone,
            articles_moved=c.articles_moved,
            revalidated=c.revalidated,
            revalidated_unchanged=c.revalidated_unchanged,
            revalidated_gone=c.revalidated_gone,
            errors=c.errors,
            resumed=c.resumed,
        )
        numbers = (
            f"{c.pages_fetched} pages ({c.not_modified} not modified), {c.articles_new} new, "
            f"{c.articles_updated} updated, {c.articles_gone} gone, {c.errors} errors; "
            f"{c.revalidated} unlinked articles revalidated ({c.revalidated_unchanged} "
            f"unchanged, {c.revalidated_gone} gone)" + (", resumed" if c.resumed else "")
        )
    else:
        numbers = "no crawl"
    facts.update(seconds=round(outcome.seconds, 2), error=outcome.error)
    state = "ok" if outcome.ok else f"FAILED ({outcome.error})"
    level = logging.INFO if outcome.ok else logging.WARNING
    message = f"recrawl: {outcome.site.name}: {state}; {numbers}; {outcome.seconds:.1f} s"
    log.log(level, message, extra=facts)


def _log_summary(result: RecrawlResult) -> None:
    failed = result.failed
    parts = [f"{len(result.sites)} sites, {len(failed)} failed"]
    if failed:
        parts[0] += " (" + "; ".join(f"{r.site.name}: {r.error}" for r in failed) + ")"
    if result.index is not None:
        i = result.index
        parts.append(f"index: {i.added} added or updated, {i.removed} removed, {i.total} in all")
    else:
        parts.append(f"index not updated: {result.index_error}")
    ok = not failed and result.index is not None
    log.log(
        logging.INFO if ok else logging.WARNING,
        "recrawl: " + "; ".join(parts),
        extra={
            "event": "recrawl",
            "ok": ok,
            "sites": len(result.sites),
            "failed": [r.site.name for r in failed],
            "articles_new": sum(r.crawl.articles_new for r in result.sites if r.crawl),
            "index_added": result.index.added if result.index else None,
            "index_total": result.index.total if result.index else None,
            "index_error": result.index_error,
        },
    )
