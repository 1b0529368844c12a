"""The `innosearch` command: argument parsing and one small function per subcommand.

Errors a user can fix (a bad URL, a bad query, a missing index) print one line on stderr and
exit non-zero; only a real bug shows a traceback.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from crawler.article import Article
from innosearch.config import Config, ConfigError, load_config
from innosearch.lock import LockedError, RunLock

log = logging.getLogger("innosearch")


class UserError(Exception):
    """A mistake the user can fix; printed as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr, force=True)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from indexer import IndexAccessError, QueryError

    try:
        config = load_config(args.config)
        _apply_flags(config, args)
        return int(args.func(args, config) or 0)
    except (UserError, ConfigError, QueryError, IndexAccessError, LockedError) as e:
        print(f"innosearch {args.command}: {e}", file=sys.stderr)
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
        config.index_dir = Path(args.index)
    if getattr(args, "host", None):
        config.host = args.host
    if getattr(args, "port", None) is not None:
        config.port = args.port
    if getattr(args, "max_pages", None) is not None:
        config.crawl.max_pages = args.max_pages
    if getattr(args, "delay", None) is not None:
        config.crawl.delay = args.delay


# ---- crawling -----------------------------------------------------------------------------------


def cmd_crawl(args: argparse.Namespace, config: Config) -> int:
    if args.queue:
        raise UserError("the shared Redis frontier (--queue) is not available yet")
    for url in args.urls:
        if not url.startswith(("http://", "https://")):
            raise UserError(f"not an http(s) URL: {url!r}")
    summary = crawl_into_store(args.urls, config)
    return 1 if summary.pages_fetched == 0 and summary.errors else 0


def crawl_into_store(seeds: list[str], config: Config) -> Any:
    from crawler.crawl import crawl
    from crawler.store import CrawlStore

    last = [0.0]

    def progress(p: Any) -> None:
        if sys.stderr.isatty() and time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            print(f"\r{_describe(p)}", end="", file=sys.stderr, flush=True)

    with CrawlStore(config.data_dir) as store:
        summary = crawl(seeds, store, config.crawl, progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"crawl: {_describe(summary)}", file=sys.stderr)
    return summary


def _describe(obj: Any) -> str:
    """A one-line account of a progress or summary dataclass: its non-zero numbers."""
    parts = []
    for name, value in vars(obj).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value:
            continue
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        parts.append(f"{name.replace('_', ' ')} {shown}")
    return ", ".join(parts) or "nothing to do"


def cmd_recrawl(args: argparse.Namespace, config: Config) -> int:
    from crawler.store import CrawlStore

    with RunLock(config.data_dir / "recrawl.lock"):
        with CrawlStore(config.data_dir) as store:
            seeds = store.seeds() or config.seeds
        if not seeds:
            raise UserError("no known seeds: run `innosearch crawl URL...` first or set `seeds`")
        summary = crawl_into_store(seeds, config)
        index_store(config, rebuild=False)
    return 1 if getattr(summary, "errors", 0) and not getattr(summary, "pages_fetched", 0) else 0


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    raise UserError("scale-out crawl workers (Redis frontier) are not available yet")


# ---- indexing -----------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, config: Config) -> int:
    from indexer import index_articles

    if args.from_jsonl:
        records = _read_jsonl(args.from_jsonl)
        summary = index_articles(config.index_dir, (_article(r, n) for n, r in records), _progress)
        print(
            f"index: {summary.added} articles indexed in {summary.seconds:.1f} s "
            f"({summary.rate:.0f}/s); {summary.total} in {config.index_dir}",
            file=sys.stderr,
        )
        return 0
    return index_store(config, rebuild=args.rebuild)


def index_store(config: Config, rebuild: bool) -> int:
    from crawler.store import CrawlStore
    from indexer import index_from_store, rebuild_from_store

    if not (config.data_dir / "crawl.sqlite").exists():
        raise UserError(f"no crawl store in {config.data_dir}: run `innosearch crawl URL...` first")
    with CrawlStore(config.data_dir) as store:
        build = rebuild_from_store if rebuild else index_from_store
        summary = build(config.index_dir, store, _progress)
    print(
        f"index: {summary.added} added or updated, {summary.removed} removed, "
        f"{summary.total} in {config.index_dir} ({summary.seconds:.1f} s)",
        file=sys.stderr,
    )
    return 0


def _progress(done: int) -> None:
    print(f"index: {done} articles…", file=sys.stderr)


def _read_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields (line number, record); a bad line is reported and skipped, never fatal."""
    stream = _open_input(path)
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as e:
                log.warning("%s line %d skipped: %s", path, number, e)
                continue
            yield number, record


def _open_input(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such file: {path}")
    if p.suffix == ".gz":
        return gzip.open(p, "rt", encoding="utf-8")
    return p.open(encoding="utf-8")


def _article(record: dict[str, Any], line: int) -> Article:
    record = dict(record)
    published = record.get("published")
    record["published"] = _iso_date(published) if published else None
    if record.get("id") is not None:
        record["id"] = str(record["id"])
    article = Article.from_dict(record)
    if not article.url and not record.get("id"):
        log.warning("line %d has neither id nor url: indexed under a generated id", line)
    return article


def _iso_date(value: Any) -> str | None:
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None


# ---- searching and serving ----------------------------------------------------------------------


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    from indexer import LiveIndex, SearchRequest, search

    filters = {
        name: values
        for name, values in (("year", args.year), ("chain", args.chain), ("country", args.country))
        if values
    }
    request = SearchRequest(
        q=args.query, filters=filters, sort=args.sort, per_page=args.limit, page=args.page
    )
    index = LiveIndex(config.index_dir)
    try:
        result = search(index, request)
    finally:
        index.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"{result['total']} articles")
    for n, hit in enumerate(result["results"], (request.page - 1) * request.per_page + 1):
        facets = ", ".join(hit["chains"] + hit["countries"])
        print(f"{n:3}. {hit['title']}  [{hit['published'] or 'no date'}] {hit['site']}")
        print(f"     {hit['url']}  {facets}")
    for name, counts in result["facets"].items():
        top = ", ".join(f"{v} {c}" for v, c in list(counts.items())[:8])
        print(f"{name}: {top}")
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from indexer.write import open_index

    open_index(config.index_dir).close()  # a clear error now rather than 503s later
    serve_index(config)
    return 0


def serve_index(config: Config) -> None:
    from web.server import make_server, server_url

    try:
        server = make_server(config.index_dir, config.host, config.port, config.threads)
    except OSError as e:
        raise UserError(
            f"cannot listen on {config.host}:{config.port} ({e.strerror}); "
            "choose another with --port"
        ) from None
    print(f"innosearch: serving {config.index_dir} at {server_url(server)}", file=sys.stderr)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


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
    print(f", {index['bytes'] / 1e6:.1f} MB" if index["exists"] else " (no index)")
    store = stats["store"]
    print(f"crawl store {store['path']}: {store['pages']} pages, {store['articles']} articles")
    for site in store["sites"]:
        print("  " + ", ".join(f"{k} {v}" for k, v in site.items()))
    return 0


def collect_stats(config: Config) -> dict[str, Any]:
    from whoosh import index as whoosh_index

    index: dict[str, Any] = {"path": str(config.index_dir), "exists": False, "documents": 0}
    if whoosh_index.exists_in(config.index_dir):
        ix = whoosh_index.open_dir(config.index_dir)
        try:
            index.update(exists=True, documents=ix.doc_count(), generation=ix.latest_generation())
        finally:
            ix.close()
        files = [p for p in Path(config.index_dir).iterdir() if p.is_file()]
        index["bytes"] = sum(p.stat().st_size for p in files)
        index["updated_at"] = _iso_time(max(p.stat().st_mtime for p in files))
    else:
        index["bytes"] = 0
    store: dict[str, Any] = {"path": str(config.data_dir), "pages": 0, "articles": 0, "sites": []}
    if (config.data_dir / "crawl.sqlite").exists():
        from crawler.store import CrawlStore

        with CrawlStore(config.data_dir) as s:
            store.update(pages=s.count_pages(), articles=s.count_articles(), sites=s.site_health())
    return {"index": index, "store": store}


def _iso_time(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


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

    for _line, record in _read_jsonl(args.file or "-"):
        published = _iso_date(record["published"]) if record.get("published") else None
        facets = enrich(str(record.get("title") or ""), str(record.get("text") or ""), published)
        out = {
            "id": record.get("id"),
            "year": facets.year,
            "chains": facets.chains,
            "countries": facets.countries,
        }
        print(json.dumps(out, ensure_ascii=False))
    return 0


# ---- the parser ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="innosearch", description="Search engine over innovation press coverage."
    )
    parser.add_argument("--config", help="TOML configuration file (default: ./innosearch.toml)")
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

    p = command("index", cmd_index, "bring the index up to date with the crawl store")
    data(p)
    index(p)
    p.add_argument("--rebuild", action="store_true", help="build afresh beside and swap in")
    p.add_argument("--from-jsonl", metavar="FILE", help="index JSON lines records directly")

    p = command("recrawl", cmd_recrawl, "re-crawl every known seed, then update the index")
    data(p)
    index(p)

    p = command("serve", cmd_serve, "serve the web UI and JSON API")
    index(p)
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080)")

    p = command("search", cmd_search, "search the index from the shell")
    p.add_argument("query", metavar="QUERY")
    index(p)
    p.add_argument("--json", action="store_true", help="print the API's JSON object")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="results per page")
    p.add_argument("--page", type=int, default=1, metavar="N")
    p.add_argument("--year", action="append", metavar="Y", help="filter (repeatable)")
    p.add_argument("--chain", action="append", metavar="ID", help="filter (repeatable)")
    p.add_argument("--country", action="append", metavar="CC", help="filter (repeatable)")
    p.add_argument("--sort", default="relevance", choices=["relevance", "date"])

    p = command("stats", cmd_stats, "documents, pages and per-site health")
    data(p)
    index(p)
    p.add_argument("--json", action="store_true")

    p = command("extract", cmd_extract, "extract articles from HTML files (plain or .gz)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--url", help="the URL the files came from")

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
