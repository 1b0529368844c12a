"""The `innosearch` command: argument parsing and one small function per subcommand.

Errors a user can fix (a bad URL, a bad query, a missing index) print one line on stderr and
exit non-zero; only a real bug shows a traceback.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexer.target import index_target
from innosearch.config import Config, ConfigError, check_config, load_config
from innosearch.lock import LockedError
from innosearch.logs import setup_logging
from innosearch.records import InputError, Skipped, read_articles, read_valid
from innosearch.services import (
    UserError,
    crawl_into_store,
    describe,
    index_store,
    open_index_backend,
    progress_line,
    serve_index,
)

log = logging.getLogger("innosearch")

# "Try again later" (sysexits EX_TEMPFAIL): another recrawl holds the lock. Distinct from 1 so a
# wrapper script can tell "refused, the other run will do the work" from "failed".
EXIT_BUSY = 75


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    setup_logging("auto")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from indexer import IndexAccessError, QueryError
    from innosearch.recrawl import NothingToCrawl

    try:
        # `config check` reads the file itself, to report every mistake rather than the first.
        config = Config() if args.command == "config" else load_config(args.config)
        setup_logging(config.log_format)
        _apply_flags(config, args)
        return int(args.func(args, config) or 0)
    except LockedError as e:
        print(f"innosearch {args.command}: {e}", file=sys.stderr)
        return EXIT_BUSY if args.command in ("recrawl", "index") else 1
    except (UserError, InputError, ConfigError, QueryError, IndexAccessError, NothingToCrawl) as e:
        print(f"innosearch {args.command}: {e}", file=sys.stderr)
        if isinstance(e, QueryError) and e.fix:
            fix = repr(e.fix) if e.param == "q" else f"--{e.param} {e.fix}"
            print(f"innosearch {args.command}: try {fix}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"innosearch {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _apply_flags(config: Config, args: argparse.Namespace) -> None:
    """Command-line flags win over the file and the environment."""
    if getattr(args, "data", None):
        config.data_dir = Path(args.data)
    if getattr(args, "index", None):
        config.index_dir = index_target(args.index)
    if getattr(args, "host", None):
        config.host = args.host
    if getattr(args, "port", None) is not None:
        config.port = args.port
    if getattr(args, "workers", None) is not None:
        config.workers = args.workers
    if getattr(args, "max_pages", None) is not None:
        config.crawl.max_pages = args.max_pages
    if getattr(args, "delay", None) is not None:
        config.crawl.delay = args.delay


# ---- crawling -----------------------------------------------------------------------------------


def cmd_crawl(args: argparse.Namespace, config: Config) -> int:
    from crawler.fetch import local_address

    for url in args.urls:
        if not url.startswith(("http://", "https://")):
            raise UserError(f"not an http(s) URL: {url!r}")
    if args.allow_local:
        config.crawl.allow_local = True
    for url in args.urls if not config.crawl.allow_local else []:
        address = local_address(url)
        if address:
            raise UserError(
                f"{url} is on a loopback or private address ({address}): to crawl your own "
                "local site, add --allow-local or set crawl.allow_local = true in innosearch.toml"
            )
    if args.queue:
        return _seed_frontier(args.queue, args.urls, config)
    summary = crawl_into_store(args.urls, config)
    return 1 if summary.pages_fetched == 0 and summary.errors else 0


def cmd_recrawl(args: argparse.Namespace, config: Config) -> int:
    """Exit 0 when every site was crawled and the index updated, 1 when a site failed or the
    index could not be updated (the summary line says which), 75 when another run holds the
    lock."""
    from innosearch.recrawl import run_recrawl

    result = run_recrawl(config, only=args.site)
    return 1 if result.failed or result.index is None else 0


def cmd_schedule(args: argparse.Namespace, config: Config) -> int:
    """Recrawl every `--every`; the configuration is read again before each run, so a site
    added to innosearch.toml is picked up without restarting the loop."""
    from innosearch.schedule import parse_interval, run_schedule

    try:
        every = parse_interval(args.every)
    except ValueError as e:
        raise UserError(str(e)) from None

    def once() -> int:
        from indexer import IndexAccessError
        from innosearch.recrawl import NothingToCrawl, run_recrawl

        try:
            fresh = load_config(args.config)
            _apply_flags(fresh, args)
            result = run_recrawl(fresh, only=args.site)
        except LockedError as e:
            log.warning("schedule: run skipped: %s", e, extra={"event": "run-skipped"})
            return EXIT_BUSY
        except (ConfigError, NothingToCrawl, IndexAccessError, UserError) as e:
            log.error("schedule: run not started: %s", e, extra={"event": "run-error"})
            return 1
        return 1 if result.failed or result.index is None else 0

    return run_schedule(every, once, max_runs=args.runs)


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    """`config check`: exit 0 and a one-line account when the configuration is usable, else one
    line per problem on stderr and exit 1."""
    checked, problems = check_config(args.config)
    _apply_flags(checked, args)
    where = str(checked.source) if checked.source else "no file (defaults and environment)"
    for problem in problems:
        print(f"innosearch config: {where}: {problem}", file=sys.stderr)
    if any(not p.startswith("no [[sites]]") for p in problems):
        return 1
    names = ", ".join(s.name for s in checked.sites) or "none"
    days = checked.crawl.revisit_days
    print(
        f"{where}: ok; {len(checked.sites)} sites ({names}); data {checked.data_dir}; "
        f"index {checked.index_dir}; stats details "
        + ("enabled" if checked.stats_token else "disabled (no stats_token)")
        + "; unlinked articles revalidated "
        + (f"every {days:g} day{'s' if days != 1 else ''}" if days else "in every crawl")
    )
    return 0


def _seed_frontier(queue: str, urls: list[str], config: Config) -> int:
    """`crawl --queue`: puts the seeds on the shared Redis frontier for `innosearch worker`s."""
    import redis

    from crawler.distributed.frontier import seed

    try:
        added = seed(queue, urls, config.crawl)
    except ValueError as e:
        raise UserError(str(e)) from None
    except redis.RedisError as e:
        raise UserError(f"cannot reach the queue {queue}: {e}") from None
    log.info(f"crawl: {added} URLs queued on {queue}; start `innosearch worker --queue {queue}`")
    return 0


def cmd_reextract(args: argparse.Namespace, config: Config) -> int:
    """Runs the current extractor over the archived raw pages (no fetching), then updates the
    index with the articles whose text or metadata changed."""
    from crawler.reextract import reextract
    from crawler.store import CrawlStore

    if not (config.data_dir / "crawl.sqlite").exists():
        raise UserError(f"no crawl store in {config.data_dir}: run `innosearch crawl URL...` first")
    with CrawlStore(config.data_dir) as store:
        summary = reextract(store)
    log.info(f"reextract: {describe(summary)}", extra={"event": "reextract", **summary.to_dict()})
    return index_store(config, rebuild=False)


WORKER_WRITE_WAIT = 120.0  # seconds a worker waits for its turn to write before giving up


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    """A crawl worker on the shared frontier: fetches politely (per-host times live in Redis),
    keeps raw pages in its own --data, and writes articles to the shared --index."""
    import redis

    from crawler.distributed.worker import run_worker
    from indexer import IndexAccessError
    from innosearch.lock import LockedError
    from innosearch.recrawl import index_lock

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    with open_index_backend(config, writable=True) as index:

        def sink(items: list[Any]) -> None:
            # Workers share one index, which takes one writer at a time (a file lock for a
            # Whoosh directory, an advisory lock in PostgreSQL): take turns, for a while.
            deadline = time.monotonic() + WORKER_WRITE_WAIT
            while True:
                try:
                    with index_lock(config.index_dir):
                        index.write(items)
                        return
                except (LockedError, IndexAccessError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

        try:
            summary = run_worker(
                args.queue, config.crawl, config.data_dir, sink, burst=args.burst, stop=stop
            )
        except ValueError as e:
            raise UserError(str(e)) from None
        except redis.RedisError as e:
            raise UserError(f"cannot reach the queue {args.queue}: {e}") from None
    log.info(
        f"worker: {summary.urls} URLs, {summary.articles} articles, {summary.gone} gone "
        f"in {summary.seconds:.1f} s ({summary.stopped or 'stopped'})",
        extra={"event": "worker", **summary.to_dict()},
    )
    return 0


# ---- indexing -----------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, config: Config) -> int:
    from innosearch.recrawl import index_lock

    if args.from_jsonl:
        if args.rebuild:
            raise UserError("--rebuild rebuilds from the crawl store; it cannot take --from-jsonl")
        skipped = Skipped()
        articles = read_articles(args.from_jsonl, skipped)
        with index_lock(config.index_dir), open_index_backend(config, writable=True) as index:
            summary = index.write(((a, None, None, False) for a in articles), progress_line)
        log.info(
            f"index: {summary.added} articles indexed in {summary.seconds:.1f} s "
            f"({summary.rate:.0f}/s); {summary.total} in {config.index_dir}",
            extra={"event": "index", "added": summary.added, "total": summary.total},
        )
        if skipped.count:
            raise UserError(skipped.summary())
        return 0
    return index_store(config, rebuild=args.rebuild)


# ---- searching and serving ----------------------------------------------------------------------


def _search_request(args: argparse.Namespace) -> Any:
    """The search the flags ask for, read by the same code as the API's URL parameters (so
    `--year 21` is refused as `year=21` is); messages name the flags, not URL parameters."""
    from werkzeug.datastructures import MultiDict

    from indexer import QueryError
    from web.params import search_request

    params: MultiDict[str, str] = MultiDict([("q", args.query)])
    for name in ("year", "chain", "country", "country_all"):
        for value in getattr(args, name) or []:
            params.add(name, value)
    for name, value in (("from", args.date_from), ("to", args.date_to), ("sort", args.sort)):
        if value:
            params.add(name, value)
    if args.any:
        params.add("any", "1")
    if getattr(args, "limit", None) is not None:
        params.add("per_page", str(args.limit))
        params.add("page", str(args.page))
    try:
        return search_request(params)
    except QueryError as e:
        message = re.sub(r"^per_page\b", "--limit", re.sub(r"^page\b", "--page", str(e)))
        raise QueryError(message, e.fix, e.param, e.wrong) from None


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    request = _search_request(args)
    with open_index_backend(config) as index:
        result = index.search(request)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"{result['total']} article{'' if result['total'] == 1 else 's'}")
    if result.get("did_you_mean"):
        print(f"did you mean: {result['did_you_mean']}?")
    for n, hit in enumerate(result["results"], (request.page - 1) * request.per_page + 1):
        facets = ", ".join(hit["chains"] + hit["countries"])
        source = " · ".join(filter(None, [hit["site_name"], hit["site"]]))
        print(f"{n:3}. {hit['title']}  [{hit['published'] or 'no date'}] {source}")
        print(f"     {hit['url']}  {facets}")
    shown = 8
    for name, counts in result["facets"].items():
        top = ", ".join(f"{v} {c}" for v, c in list(counts.items())[:shown])
        more = len(counts) - shown
        print(f"{name}: {top}" + (f" (and {more} more: --json lists all)" if more > 0 else ""))
    return 0


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    """Every matching story as CSV or JSON Lines: the rows of `/api/export.*`, no server."""
    from indexer import cite, export

    request = _search_request(args)
    with open_index_backend(config) as index:
        rows = index.export_rows(request)
        if not args.output:
            # UTF-8 bytes whatever the terminal's locale: the output is meant for other programs.
            sys.stdout.flush()
            out = sys.stdout.buffer
            for chunk in export.lines(rows, args.format):
                out.write(chunk.encode("utf-8"))
            out.flush()
            return 0
        target = Path(args.output)
        partial = target.with_name(target.name + ".partial")
        ids: list[str] = []

        def counted() -> Any:
            for row in rows:
                ids.append(row["id"])
                yield row

        companion = target.with_name(target.name + ".cite.json")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out_file:
                out_file.writelines(export.lines(counted(), args.format))
            # The citation of exactly the rows written (indexer/cite.py), beside the file.
            citation = cite.citation(request, ids, index.generation(), index.name)
            companion.write_text(json.dumps(citation, indent=1) + "\n", encoding="utf-8")
            partial.replace(target)  # a failed export leaves no half-written file behind
        finally:
            partial.unlink(missing_ok=True)
    print(
        f"{len(ids)} stories written to {target} (SHA-256 {citation['sha256']}; "
        f"citation in {companion})",
        file=sys.stderr,
    )
    return 0


def cmd_cite(args: argparse.Namespace, config: Config) -> int:
    """A search's citation (as /api/cite), its ids recorded in the index's citation store; with
    --sha256, whether the search still gives the cited set, and how it changed."""
    from indexer import QueryError, cite

    request = _search_request(args)
    if args.sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", args.sha256):
        raise QueryError("--sha256 must be 64 hexadecimal digits, as the citation gives it")
    with open_index_backend(config) as index:
        data, ids = cite.cite_search(index, request)
        if args.sha256:
            cited = index.cited_ids(args.sha256.lower())
            data["check"] = cite.compare(ids, args.sha256.lower(), args.stories, cited)
        else:
            data["recorded"] = index.record_citation(data["sha256"], ids)
    print(json.dumps(data, ensure_ascii=False, indent=1))
    return 0


def cmd_migrate(args: argparse.Namespace, config: Config) -> int:
    """Upgrades the crawl store's schema, if there is a store, and creates or upgrades a
    PostgreSQL index's schema (the web app never changes either)."""
    from crawler.store import DB_NAME, SCHEMA_VERSION, CrawlStore
    from indexer.backend import migrate

    if (config.data_dir / DB_NAME).exists():
        CrawlStore(config.data_dir).close()
        print(f"the crawl store in {config.data_dir} is at schema version {SCHEMA_VERSION}")
    print(migrate(config.index_dir))
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    with open_index_backend(config) as index:
        index.doc_count()  # a clear error now rather than 503s later
    serve_index(config)
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from innosearch.demo import run_demo

    run_demo(config)
    return 0


# ---- inspecting ---------------------------------------------------------------------------------


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    stats = collect_stats(config)
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
        return 0
    index = stats["index"]
    print(f"index {index['path']}: {index['documents']} documents", end="")
    if index["exists"]:
        age = index.get("age_hours")
        print(
            f", {index['bytes'] / 1e6:.1f} MB, last commit {index.get('updated_at', '?')}"
            + (f" ({age:.1f} h ago)" if age is not None else "")
        )
    else:
        print(" (no index)")
    store = stats["store"]
    print(f"crawl store {store['path']}: {store['pages']} pages, {store['articles']} articles")
    if store.get("note"):
        print(f"crawl store not read: {store['note']}")
    if store.get("not_articles"):
        reasons = ", ".join(f"{kind} {n}" for kind, n in store["not_articles"].items())
        print(f"pages not kept as articles: {reasons} (`innosearch why URL` for one page)")
    header = (
        "site",
        "last run",
        "ok",
        "last success",
        "failed runs",
        "new per run",
        "days idle",
        "revalidated",
        "unchanged",
        "gone",
    )
    rows = [header]
    for site in stats["sites"]:
        idle = site["days_since_new_article"]
        last = [site["revalidated"], site["revalidated_unchanged"], site["articles_gone"]]
        rows.append(
            (
                site["site"],
                site["last_run"] or "never",
                {True: "yes", False: "NO", None: "-"}[site["last_run_ok"]],
                site["last_success"] or "never",
                str(site["failed_runs"]),
                " ".join(map(str, site["new_per_run"])) or "-",
                "-" if idle is None else f"{idle:g}",
                *("-" if n is None else str(n) for n in last),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows if len(rows) > 1 else ():
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for site in stats["sites"]:
        if site["last_error"]:
            print(f"{site['site']}: last error: {site['last_error']}")
    return 0


def cmd_why(args: argparse.Namespace, config: Config) -> int:
    """Why a URL is or is not in the index: the crawl store's verdict on its last fetch."""
    from crawler.store import CrawlStore
    from crawler.urls import normalize_url

    url = normalize_url(args.url)
    if url is None:
        raise UserError(f"{args.url!r} is not an http(s) URL")
    if not (config.data_dir / "crawl.sqlite").exists():
        raise UserError(f"no crawl store in {config.data_dir}: run `innosearch crawl URL...` first")
    with CrawlStore(config.data_dir) as store:
        print("\n".join(why_lines(store, url)))
    return 0


def why_lines(store: Any, url: str) -> list[str]:
    """The answer of `innosearch why`: a verdict line, then the last fetch and the reason."""
    state = store.page_state(url)
    note = store.frontier_note(url) if state is None else None
    if note and note.startswith("fetched via "):
        # A redirect target: its answer is recorded under the URL that redirected to it.
        state = store.page_state(note.removeprefix("fetched via "))
    if state is None:
        if note:
            return [f"{url}: not fetched: {note}"]
        return [f"{url}: not in the crawl store (never reached by a crawl)"]
    fetch = f"last fetch: HTTP {state.status} at {state.fetched_at}"
    if state.url != url:
        fetch += f" (through {state.url})"
    elif state.final_url != url:
        fetch += f" (from {state.final_url})"
    reason = state.note or store.frontier_note(url)
    source = store.article_source(state.article_id) if state.article_id else None
    if source is not None and source[1]:
        verdict = f"not kept: its article {state.article_id} is gone (HTTP 404/410 from its page)"
    elif source is not None:
        verdict = f"kept as article {state.article_id}"
        if source[0] != url:
            verdict += f" (stored from {source[0]})"
    elif 200 <= state.status < 300:
        verdict = "not kept as an article"
        reason = reason or "no reason recorded (fetched by an older innosearch: run reextract)"
    else:
        verdict = f"not kept: HTTP {state.status}"
    lines = [f"{url}: {verdict}", fetch]
    if reason:
        lines.append(f"why: {reason}")
    return lines


def collect_stats(config: Config) -> dict[str, Any]:
    """`innosearch stats --json`: index, crawl store, and per-site health (indexer.health)."""
    from indexer.health import collect_stats as collect

    configured = [(site.name, site.site_hosts()) for site in config.sites]
    return collect(config.data_dir, config.index_dir, configured)


def cmd_extract(args: argparse.Namespace, config: Config) -> int:
    from crawler.extract import extract

    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            raw = path.read_bytes()
            if path.suffix == ".gz":
                raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            print(f"innosearch extract: {name}: {e}", file=sys.stderr)
            failed += 1
            continue
        article = extract(raw, url=args.url or "")
        doc_id = path.name.removesuffix(".gz").removesuffix(".html").removesuffix(".htm")
        out = {
            "id": doc_id,
            "title": article.title,
            "text": article.text,
            "published": article.published,
            "authors": article.authors,
            "language": article.language,
            "canonical_url": article.canonical_url,
        }
        print(json.dumps(out, ensure_ascii=False))
    return 1 if failed else 0


def cmd_enrich(args: argparse.Namespace, config: Config) -> int:
    from indexer.enrich import enrich

    skipped = Skipped()
    for _line, record, article in read_valid(args.file or "-", skipped):
        facets = enrich(article.title, article.text, article.published)
        out = {
            "id": article.id if record.get("id") is not None else None,
            "year": facets.year,
            "chains": facets.chains,
            "countries": facets.countries,
        }
        print(json.dumps(out, ensure_ascii=False))
    if skipped.count:
        raise UserError(skipped.summary())
    return 0


# ---- the parser ---------------------------------------------------------------------------------


def _count(text: str) -> int:
    """A whole number >= 1, as argparse reads a flag (its error names the flag)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("innosearch")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="innosearch", description="Search engine over innovation press coverage."
    )
    parser.add_argument("--config", help="TOML configuration file (default: ./innosearch.toml)")
    parser.add_argument("--version", action="version", version=f"innosearch {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    def data(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", metavar="DIR", help="crawl store directory (default ./data)")

    def index(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", metavar="DIR", help="index directory (default ./index)")

    p = command("demo", cmd_demo, "crawl, index and serve the bundled sample news site")
    p.add_argument("--port", type=int, help="port of the web UI (default 8080)")

    p = command("crawl", cmd_crawl, "politely crawl from seed URLs into the crawl store")
    p.add_argument("urls", nargs="+", metavar="URL")
    data(p)
    index(p)
    p.add_argument("--max-pages", type=int, metavar="N", help="most pages to fetch")
    p.add_argument("--delay", type=float, metavar="S", help="seconds between requests to a host")
    p.add_argument("--queue", metavar="URL", help="seed a shared Redis frontier instead")
    p.add_argument(
        "--allow-local",
        action="store_true",
        help="allow loopback and private addresses (your own local sites; crawl.allow_local)",
    )

    p = command("index", cmd_index, "bring the index up to date with the crawl store")
    data(p)
    index(p)
    p.add_argument("--rebuild", action="store_true", help="build afresh beside and swap in")
    p.add_argument("--from-jsonl", metavar="FILE", help="index JSON lines records directly")

    p = command(
        "recrawl", cmd_recrawl, "re-crawl every configured and known site, then update the index"
    )
    data(p)
    index(p)
    p.add_argument("--site", action="append", metavar="NAME", help="only this site (repeatable)")

    p = command("schedule", cmd_schedule, "recrawl on an interval, in the foreground")
    p.add_argument("--every", required=True, metavar="INTERVAL", help="e.g. 6h, 30m, 1h30m, 1d")
    data(p)
    index(p)
    p.add_argument("--site", action="append", metavar="NAME", help="only this site (repeatable)")
    p.add_argument("--runs", type=int, metavar="N", help="stop after N runs (default: never)")

    p = command("config", cmd_config, "check the configuration file")
    p.add_argument("action", choices=["check"], help="check: validate and summarise")

    p = command(
        "migrate", cmd_migrate, "upgrade the crawl store; create or upgrade a PostgreSQL index"
    )
    data(p)
    index(p)

    p = command("serve", cmd_serve, "serve the web UI and JSON API")
    index(p)
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080)")
    p.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        help="server processes (default: one per core); the rate limit counts across them",
    )

    def selection(p: argparse.ArgumentParser) -> None:
        """What a search selects, as the API's parameters of the same names."""
        p.add_argument(
            "query", metavar="QUERY", help='the query language of the page ("" for everything)'
        )
        index(p)
        p.add_argument(
            "--year", action="append", metavar="YYYY", help="publication year (repeat to OR)"
        )
        p.add_argument(
            "--chain",
            action="append",
            metavar="ID",
            help="industry chain id, e.g. integrated-circuits (repeat to OR)",
        )
        p.add_argument(
            "--country",
            action="append",
            metavar="CC",
            help="ISO country code, e.g. CN (repeat to OR)",
        )
        p.add_argument(
            "--country-all",
            action="append",
            metavar="CC",
            help="ISO country code a story must name (repeat: every one of them)",
        )
        p.add_argument(
            "--from",
            dest="date_from",
            metavar="DAY",
            help="first publication day (2021-10-20, or a year)",
        )
        p.add_argument(
            "--to",
            dest="date_to",
            metavar="DAY",
            help="last publication day (2021-10-20, or a year)",
        )
        p.add_argument("--any", action="store_true", help="match any word instead of all")
        p.add_argument(
            "--sort",
            default="relevance",
            choices=["relevance", "date"],
            help="result order (default: relevance)",
        )

    p = command("search", cmd_search, "search the index from the shell")
    selection(p)
    p.add_argument("--json", action="store_true", help="print the API's JSON object")
    p.add_argument(
        "--limit", type=int, default=10, metavar="N", help="results per page (default 10)"
    )
    p.add_argument(
        "--page", type=int, default=1, metavar="N", help="which page of results (default 1)"
    )

    p = command("cite", cmd_cite, "cite a search: its stories' SHA-256, recorded (as /api/cite)")
    selection(p)
    p.add_argument(
        "--sha256",
        metavar="HEX",
        help="check a citation: is the set the same, what was added and removed",
    )
    p.add_argument("--stories", type=int, metavar="N", help="the cited count, with --sha256")

    p = command(
        "export", cmd_export, "every matching story as CSV or JSON Lines (as /api/export.*)"
    )
    selection(p)
    p.add_argument(
        "--format", choices=["csv", "jsonl"], default="csv", help="file format (default csv)"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default: standard output)"
    )

    p = command("stats", cmd_stats, "documents, pages and per-site health")
    data(p)
    index(p)
    p.add_argument("--json", action="store_true")

    p = command("why", cmd_why, "why a page is or is not kept as an article")
    p.add_argument("url", metavar="URL")
    data(p)

    p = command("extract", cmd_extract, "extract articles from HTML files (plain or .gz)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--url", help="the URL the files came from")

    p = command("reextract", cmd_reextract, "re-extract stored pages from the WARC archive")
    data(p)
    index(p)

    p = command("enrich", cmd_enrich, "year, chains and countries for article JSON lines")
    p.add_argument("file", nargs="?", metavar="FILE", help="JSON lines (default: stdin)")

    p = command("worker", cmd_worker, "scale-out crawl worker on a Redis frontier")
    p.add_argument("--queue", required=True, metavar="URL")
    index(p)
    data(p)
    p.add_argument("--burst", action="store_true")
    return parser


if __name__ == "__main__":
    sys.exit(main())
