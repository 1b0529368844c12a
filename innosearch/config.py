"""Configuration in one place: defaults, then `innosearch.toml`, then `INNOSEARCH_*` variables,
then command-line flags (each later source wins).

Every setting is listed once in `SETTINGS` with its default and help, so there are no hidden knobs
(Datasette's pattern); `tests/test_config.py` checks each one is documented in the README.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.article import bare_host, site_of
from crawler.settings import CrawlSettings
from indexer.target import index_target
from web.limits import DEFAULTS as LIMIT_DEFAULTS
from web.ratelimit import DEFAULTS as RATE_DEFAULTS

CONFIG_FILE = "innosearch.toml"
LOG_FORMATS = ("auto", "json", "text")


class ConfigError(ValueError):
    """A configuration mistake, reported to the user as one line."""


@dataclass
class SiteConfig:
    """One `[[sites]]` table: what `recrawl` crawls for a site, and the limits that differ from
    `[crawl]` (None means "as in `[crawl]`")."""

    name: str
    seeds: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    path_prefixes: list[str] = field(default_factory=list)
    max_depth: int | None = None
    max_pages: int | None = None
    delay: float | None = None
    # Whether `name` was given (not the host it defaults to): only a given name is shown to
    # readers, before the host, in place of the name the site's pages declare.
    named: bool = False

    def start_urls(self) -> list[str]:
        """Seeds, feeds and sitemaps in one list: the crawler reads feeds and sitemaps it is
        handed as seeds, and remembers them all for the next run."""
        return list(dict.fromkeys([*self.seeds, *self.feeds, *self.sitemaps]))

    def site_hosts(self) -> list[str]:
        """The hosts this site covers (`hosts`, or those of its URLs), without `www.`."""
        hosts = self.hosts or [urlsplit(u).hostname or "" for u in self.start_urls()]
        return list(dict.fromkeys(bare_host(h) for h in hosts if h))

    def crawl_settings(self, base: CrawlSettings) -> CrawlSettings:
        """`base` with this site's own limits applied; `base` itself is left untouched."""
        own = {"max_depth": self.max_depth, "max_pages": self.max_pages, "delay": self.delay}
        return replace(base, **{k: v for k, v in own.items() if v is not None})


SITE_KEYS = ("name", "seeds", "feeds", "sitemaps", "hosts", "path_prefixes")
SITE_LIMITS = {"max_depth": int, "max_pages": int, "delay": float}


@dataclass
class Config:
    data_dir: Path = Path("data")
    # A directory (the embedded Whoosh index) or a `postgresql://` URL (the shared index).
    index_dir: Path | str = Path("index")
    # Read-replica URLs that searches on a PostgreSQL index spread over (writes stay on index_dir).
    index_read_urls: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 0  # 0: one per core
    threads: int = 8
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    seeds: list[str] = field(default_factory=list)
    stats_token: str = ""
    log_format: str = "auto"
    # The web app's limits: their defaults are the app's own (web/limits.py, web/ratelimit.py).
    rate_limit_per_second: float = RATE_DEFAULTS["RATE_LIMIT_PER_SECOND"]
    rate_limit_burst: int = RATE_DEFAULTS["RATE_LIMIT_BURST"]
    trusted_proxy: str = ""
    max_query_string: int = LIMIT_DEFAULTS["MAX_QUERY_STRING"]
    max_content_length: int = LIMIT_DEFAULTS["MAX_CONTENT_LENGTH"]
    connection_limit: int = LIMIT_DEFAULTS["CONNECTION_LIMIT"]
    idle_timeout: int = LIMIT_DEFAULTS["IDLE_TIMEOUT"]
    # Not settings: the `[[sites]]` tables, and the file the configuration came from (if any).
    sites: list[SiteConfig] = field(default_factory=list)
    source: Path | None = None

    def site_names(self) -> dict[str, str]:
        """Host -> the name a `[[sites]]` table gives its site, for each of the site's hosts:
        searches show it before the host, over the name the pages declare (og:site_name)."""
        return {host: site.name for site in self.sites if site.named for host in site.site_hosts()}


# (dotted name, help). Defaults come from the dataclasses above, so they cannot drift.
SETTINGS: list[tuple[str, str]] = [
    ("data_dir", "where the crawl store lives (SQLite and raw pages)"),
    ("index_dir", "the index: a directory (Whoosh) or a `postgresql://` URL (shared index)"),
    (
        "index_read_urls",
        "read-replica `postgresql://` URLs that searches use (writes stay on index_dir)",
    ),
    ("host", "address the web server binds to; keep 127.0.0.1 unless behind a proxy"),
    ("port", "port the web server listens on"),
    ("workers", "web server processes (0: one per core); the rate limit counts across them"),
    ("threads", "threads of each web server process"),
    ("seeds", "start URLs that `innosearch recrawl` crawls when the store knows none"),
    ("stats_token", "secret that unlocks the per-site details of `/stats` and `/api/stats`"),
    ("log_format", "`auto` (JSON lines when stderr is not a terminal), `json` or `text`"),
    ("rate_limit_per_second", "page and `/api/` requests per second per client (0: no limit)"),
    ("rate_limit_burst", "requests a client may send at once before the rate limit applies"),
    ("trusted_proxy", "address of a reverse proxy whose X-Forwarded-For names the client"),
    ("max_query_string", "longest query string in bytes; longer answers 414"),
    ("max_content_length", "largest request body in bytes; larger answers 413"),
    ("connection_limit", "most connections the web server holds open at once"),
    ("idle_timeout", "seconds before the web server closes a connection that sends nothing"),
    ("crawl.user_agent", "User-Agent sent with every request; name a contact URL"),
    ("crawl.delay", "seconds between requests to one host (a larger Crawl-delay wins)"),
    ("crawl.max_pages", "most pages fetched in one crawl"),
    ("crawl.max_depth", "most links followed from a seed"),
    ("crawl.connect_timeout", "seconds to wait for a connection"),
    ("crawl.read_timeout", "seconds to wait between two bytes of a response"),
    ("crawl.deadline", "seconds one whole response may take"),
    ("crawl.max_bytes", "largest body kept; larger pages are cut off and skipped"),
    ("crawl.retries", "retries for transient errors (connection errors, 429, 5xx)"),
    ("crawl.obey_robots", "obey robots.txt (turn off only for your own sites)"),
    ("crawl.allow_local", "allow loopback and private addresses (for your own local sites)"),
    ("crawl.workers", "hosts crawled at the same time (one request in flight per host)"),
    (
        "crawl.revisit_days",
        "days after which a known article no link leads to is asked for again (0: every crawl)",
    ),
]


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Builds the configuration from defaults, the TOML file and the environment.

    Without `path`, `innosearch.toml` in the working directory is read when it exists; a path
    given explicitly must exist.
    """
    config, _values = _load(path, environ)
    return config


def check_config(
    path: str | Path | None = None, environ: dict[str, str] | None = None
) -> tuple[Config, list[str]]:
    """What `innosearch config check` reports: the configuration, and the mistakes that loading
    alone lets pass (unknown keys, which would otherwise be silently ignored).

    Raises ConfigError for a mistake that stops loading at all.
    """
    problems: list[str] = []
    config, values = _load(path, environ, problems)
    problems += [f"unknown setting {key}{_did_you_mean(key)}" for key in _unknown_keys(values)]
    if not config.crawl.allow_local:
        problems += _local_seeds(config)
    if config.stats_token and len(config.stats_token) < 16:
        problems.append("stats_token is shorter than 16 characters: too easy to guess")
    if not values.get("sites") and not config.seeds:
        problems.append(
            "no [[sites]] and no seeds: `recrawl` will only re-crawl sites already in the store"
        )
    return config, problems


def _local_seeds(config: Config) -> list[str]:
    """Seeds a crawl would refuse: on loopback or private addresses, with allow_local off."""
    from crawler.fetch import local_address

    found = []
    for where, urls in [("seeds", config.seeds)] + [
        (f"site {site.name}", site.seeds + site.feeds + site.sitemaps) for site in config.sites
    ]:
        for url in urls:
            address = local_address(url)
            if address:
                found.append(
                    f"{where}: {url} is on a loopback or private address ({address}), which a "
                    "crawl refuses: set crawl.allow_local = true to crawl your own local sites"
                )
    return found


def _load(
    path: str | Path | None, environ: dict[str, str] | None, problems: list[str] | None = None
) -> tuple[Config, dict[str, Any]]:
    """The configuration; with `problems`, each setting or site in error is noted there and
    left at its default (so `config check` reports every mistake in one run), else the first
    mistake raises ConfigError."""

    def attempt(step: Any, *args: Any) -> Any:
        try:
            return step(*args)
        except ConfigError as e:
            if problems is None:
                raise
            problems.append(str(e))
            return None

    environ = os.environ if environ is None else environ
    path = path or environ.get("INNOSEARCH_CONFIG")
    values: dict[str, Any] = {}
    source: Path | None = None
    if path is not None:
        source = Path(path)
    elif Path(CONFIG_FILE).is_file():
        source = Path(CONFIG_FILE)
    if source is not None:
        values = _read_toml(source)
    config = Config(source=source)
    for name, _help in SETTINGS:
        raw = _lookup(values, name)
        env_name = "INNOSEARCH_" + name.replace(".", "_").upper()
        if env_name in environ:
            raw = environ[env_name]
            if _SURROGATE.search(raw):  # bytes that are not UTF-8, as Python decodes them
                raise ConfigError(
                    f"{env_name}: the value is not valid UTF-8 text; set it again in UTF-8"
                )
        if raw is not None:
            attempt(_assign, config, name, raw)
    if config.log_format not in LOG_FORMATS:
        attempt(_bad_log_format, config.log_format)
        config.log_format = Config.log_format
    config.sites = attempt(parse_sites, values.get("sites", []), problems) or []
    return config, values


def _bad_log_format(value: str) -> None:
    raise ConfigError(
        f"setting log_format: expected one of {', '.join(LOG_FORMATS)}, got {value!r}"
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_sites(raw: Any, problems: list[str] | None = None) -> list[SiteConfig]:
    """The `[[sites]]` tables, checked: each mistake names the site and the key. With
    `problems`, a site in error is noted there and left out, and the others are read."""
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError("sites: expected [[sites]] tables")
    sites: list[SiteConfig] = []
    for number, table in enumerate(raw, 1):
        try:
            site = _parse_site(number, table)
            if any(other.name == site.name for other in sites):
                raise ConfigError(f"sites: the name {site.name!r} is used twice")
        except ConfigError as e:
            if problems is None:
                raise
            problems.append(str(e))
            continue
        sites.append(site)
    return sites


def _parse_site(number: int, table: dict[str, Any]) -> SiteConfig:
    label = f"sites[{number}]"
    if isinstance(table.get("name"), str) and table["name"].strip():
        label += f" ({table['name'].strip()})"
    for key in table:
        if key not in SITE_KEYS and key not in SITE_LIMITS:
            known = ", ".join([*SITE_KEYS, *SITE_LIMITS])
            raise ConfigError(f"{label}: unknown key {key!r} (known: {known})")
    lists: dict[str, list[str]] = {}
    for key in SITE_KEYS[1:]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{label}: {key}: expected a list of strings, got {value!r}")
        lists[key] = list(value)
    for key in ("seeds", "feeds", "sitemaps"):
        for url in lists[key]:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"{label}: {key}: not an http(s) URL: {url!r}")
    urls = lists["seeds"] + lists["feeds"] + lists["sitemaps"]
    if not urls:
        raise ConfigError(f"{label}: give at least one of seeds, feeds or sitemaps")
    for prefix in lists["path_prefixes"]:
        if not prefix.startswith("/"):
            raise ConfigError(f"{label}: path_prefixes: {prefix!r} must start with /")
    if lists["hosts"]:
        hosts = {bare_host(h) for h in lists["hosts"]}
        for url in urls:
            if site_of(url) not in hosts:
                raise ConfigError(f"{label}: {url} is not on one of its hosts ({', '.join(hosts)})")
        seeded = {site_of(u) for u in urls}
        for host in sorted(hosts - seeded):
            raise ConfigError(
                f"{label}: host {host} has no seed, feed or sitemap (the crawl only follows "
                "links on the hosts it starts from)"
            )
    limits: dict[str, Any] = {}
    for key, kind in SITE_LIMITS.items():
        if key not in table:
            continue
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{label}: {key}: expected a number >= 0, got {value!r}")
        if kind is int and not isinstance(value, int):
            raise ConfigError(f"{label}: {key}: expected a whole number, got {value!r}")
        limits[key] = kind(value)
    name = table.get("name")
    if name is None:
        name = site_of(urls[0])
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{label}: name: expected a non-empty string, got {name!r}")
    return SiteConfig(name=name.strip(), **lists, **limits, named="name" in table)


def _unknown_keys(values: dict[str, Any]) -> list[str]:
    known = {name for name, _ in SETTINGS} | {"sites"}
    sections = {name.split(".")[0] for name in known if "." in name}
    unknown: list[str] = []
    for key, value in values.items():
        if key in sections and isinstance(value, dict):
            unknown += [f"{key}.{k}" for k in value if f"{key}.{k}" not in known]
        elif key not in known:
            unknown.append(key)
    return unknown


def _did_you_mean(key: str) -> str:
    names = [name for name, _ in SETTINGS]
    names += [n.split(".", 1)[1] for n in names if "." in n]
    match = difflib.get_close_matches(key, names, n=1)
    if not match:
        return ""
    full = next((n for n, _ in SETTINGS if n == match[0] or n.endswith("." + match[0])), match[0])
    return f" (did you mean {full}?)"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(values, dict) or part not in values:
            return None
        values = values[part]
    return values


def _assign(config: Config, dotted: str, raw: Any) -> None:
    *parents, leaf = dotted.split(".")
    target: Any = config
    for part in parents:
        target = getattr(target, part)
    setattr(target, leaf, _coerce(dotted, raw, getattr(target, leaf)))


def _coerce(name: str, raw: Any, default: Any) -> Any:
    """Converts a TOML or environment value to the type of the setting's default."""
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, Path):
            return index_target(str(raw))
        if isinstance(default, list):
            if isinstance(raw, str):
                return [s for s in raw.split() if s]
            if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
                raise ValueError(raw)
            return list(raw)
        if isinstance(default, int | float):
            value = type(default)(raw)
            if value < 0:
                raise ValueError(raw)
            return value
        return str(raw)
    except (TypeError, ValueError):
        kind = type(default).__name__
        raise ConfigError(f"setting {name}: expected {kind}, got {raw!r}") from None
