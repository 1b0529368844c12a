"""Configuration in one place: defaults, then `innosearch.toml`, then `INNOSEARCH_*` variables,
then command-line flags (each later source wins).

Every setting is listed once in `SETTINGS` with its default and help, so there are no hidden knobs
(Datasette's pattern); `tests/test_config.py` checks each one is documented in the README.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.settings import CrawlSettings

CONFIG_FILE = "innosearch.toml"


class ConfigError(ValueError):
    """A configuration mistake, reported to the user as one line."""


@dataclass
class Config:
    data_dir: Path = Path("data")
    index_dir: Path = Path("index")
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    seeds: list[str] = field(default_factory=list)


# (dotted name, help). Defaults come from the dataclasses above, so they cannot drift.
SETTINGS: list[tuple[str, str]] = [
    ("data_dir", "where the crawl store lives (SQLite and raw pages)"),
    ("index_dir", "where the Whoosh index lives"),
    ("host", "address the web server binds to; keep 127.0.0.1 unless behind a proxy"),
    ("port", "port the web server listens on"),
    ("threads", "worker threads of the WSGI server"),
    ("seeds", "start URLs that `innosearch recrawl` crawls when the store knows none"),
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
]


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Builds the configuration from defaults, the TOML file and the environment.

    Without `path`, `innosearch.toml` in the working directory is read when it exists; a path
    given explicitly must exist.
    """
    environ = os.environ if environ is None else environ
    path = path or environ.get("INNOSEARCH_CONFIG")
    values: dict[str, Any] = {}
    if path is not None:
        values = _read_toml(Path(path))
    elif Path(CONFIG_FILE).is_file():
        values = _read_toml(Path(CONFIG_FILE))
    config = Config()
    for name, _help in SETTINGS:
        raw = _lookup(values, name)
        env_name = "INNOSEARCH_" + name.replace(".", "_").upper()
        if env_name in environ:
            raw = environ[env_name]
        if raw is not None:
            _assign(config, name, raw)
    return config


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
            return Path(str(raw))
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
