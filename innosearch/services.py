"""The application's services: what the commands do, callable without a command line.

`innosearch.cli` parses arguments and calls these; the demo calls them too. Each takes the
configuration (`innosearch.config.Config`) and raises `UserError` for what a user can fix,
which the command line prints as one line.
"""

from __future__ import annotations

import logging
from typing import Any

from innosearch.config import Config
from innosearch.logs import facts

log = logging.getLogger("innosearch")


class UserError(Exception):
    """A mistake the user can fix; printed as one line."""


def crawl_into_store(seeds: list[str], config: Config) -> Any:
    """One ad-hoc crawl, recorded in the store's site history like a recrawl's, under the
    configured site that covers its first seed, else that seed's host."""
    from crawler.crawl import crawl
    from crawler.store import CrawlStore
    from innosearch.progress import TerminalProgress
    from innosearch.recrawl import site_name_for

    name, hosts = site_name_for(seeds, config)
    progress = TerminalProgress()
    with CrawlStore(config.data_dir) as store:
        try:
            summary = crawl(seeds, store, config.crawl, progress=progress, site=name, hosts=hosts)
        finally:
            progress.done()
    log.info(f"crawl: {describe(summary)}", extra=facts(event="crawl", **summary.to_dict()))
    return summary


def describe(obj: Any) -> str:
    """A one-line account of a progress or summary dataclass: its non-zero numbers."""
    parts = []
    for name, value in vars(obj).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value:
            continue
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        parts.append(f"{name.replace('_', ' ')} {shown}")
    return ", ".join(parts) or "nothing to do"


def open_index_backend(config: Config, writable: bool = False) -> Any:
    """The configured index, Whoosh directory or PostgreSQL URL, as a context manager;
    `writable` for the commands that write (it may upgrade a PostgreSQL schema)."""
    from contextlib import closing

    from indexer.backend import open_backend

    return closing(
        open_backend(
            config.index_dir,
            config.index_read_urls,
            writable=writable,
            site_names=config.site_names(),
        )
    )


def index_store(config: Config, rebuild: bool) -> int:
    """Incremental update or `--rebuild` (a fresh version swapped in atomically), under the
    index lock."""
    from innosearch.recrawl import update_index

    if not (config.data_dir / "crawl.sqlite").exists():
        raise UserError(f"no crawl store in {config.data_dir}: run `innosearch crawl URL...` first")
    summary = update_index(config, rebuild=rebuild)
    log.info(
        f"index: {summary.added} added or updated, {summary.removed} removed, "
        f"{summary.total} in {config.index_dir} ({summary.seconds:.1f} s)"
        + (", rebuilt and swapped in" if rebuild else ""),
        extra={
            "event": "index",
            "rebuild": rebuild,
            "added": summary.added,
            "removed": summary.removed,
            "total": summary.total,
            "seconds": round(summary.seconds, 2),
        },
    )
    return 0


def progress_line(done: int) -> None:
    """Logs an indexing run's progress (every 500 articles)."""
    log.info(f"index: {done} articles…", extra={"event": "index-progress", "done": done})


def app_settings(config: Config) -> dict[str, Any]:
    """The web app's settings from the configuration (the app itself never reads files)."""
    return {
        "DATA_DIR": str(config.data_dir),  # /stats reads the crawl store (read-only)
        "STATS_TOKEN": config.stats_token,
        # The configured sites, so coverage (web/analysis.py) names those that never ran too.
        "SITES": [(site.name, site.site_hosts()) for site in config.sites],
        "INDEX_READ_URLS": list(config.index_read_urls),
        "SITE_NAMES": config.site_names(),  # shown before the host, over the pages' own
        "RATE_LIMIT_PER_SECOND": config.rate_limit_per_second,
        "RATE_LIMIT_BURST": config.rate_limit_burst,
        "TRUSTED_PROXY": config.trusted_proxy or None,
        "MAX_QUERY_STRING": config.max_query_string,
        "MAX_CONTENT_LENGTH": config.max_content_length,
        "CONNECTION_LIMIT": config.connection_limit,
        "IDLE_TIMEOUT": config.idle_timeout,
    }


def serve_index(config: Config) -> None:
    """Serves the app: in this process with one worker, else a master over `workers` processes
    (`web.workers`; `workers` 0 means one per core)."""
    run_server(bind_server(config), config)


def bind_server(config: Config) -> Any:
    """The server, its port bound but not yet serving: a busy port is the user's mistake, told
    before any other work (the demo binds, then crawls). The index is opened by the first
    request, so it may not exist yet."""
    from web import create_app
    from web.server import make_server
    from web.workers import Master, default_workers

    workers = config.workers or default_workers()
    try:
        if workers == 1:
            server = make_server(
                config.index_dir, config.host, config.port, config.threads, app_settings(config)
            )
        else:
            app = create_app({**app_settings(config), "INDEX_DIR": str(config.index_dir)})
            server = Master(app, workers, config.host, config.port, config.threads)
    except OSError as e:
        raise UserError(
            f"cannot listen on {config.host}:{config.port} ({e.strerror}); "
            "choose another with --port"
        ) from None
    return server


def run_server(server: Any, config: Config) -> None:
    """Serves until SIGTERM or Ctrl-C, then closes `server` (from `bind_server`)."""
    from web.server import server_url
    from web.workers import WorkerError, default_workers

    workers = config.workers or default_workers()
    url = server_url(server)
    log.info(
        f"innosearch: serving {config.index_dir} at {url} ({workers} "
        + ("process)" if workers == 1 else "worker processes)"),
        extra={"event": "serve", "url": url, "workers": workers},
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except WorkerError as e:
        raise UserError(f"{e}; see the log above") from None
    finally:
        server.close()
