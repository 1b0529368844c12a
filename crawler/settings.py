"""The crawler's settings, with defaults that are polite out of the box.

`innosearch/config.py` fills these from the TOML file, environment variables and command-line
flags; the crawler itself only ever sees this dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_USER_AGENT = "innosearch/0.1 (+https://github.com/innosearch/innosearch; research crawler)"


@dataclass
class CrawlSettings:
    user_agent: str = DEFAULT_USER_AGENT
    # Seconds between two requests to one host; robots.txt Crawl-delay wins when larger.
    delay: float = 1.0
    max_pages: int = 1000
    max_depth: int = 10
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # Total time allowed for one response, however slowly its bytes trickle in.
    deadline: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    retries: int = 2
    obey_robots: bool = True
    # Loopback and private addresses are refused unless a site is explicitly allowed to be local
    # (the demo site is).
    allow_local: bool = False
    # Hosts crawled at the same time, one request in flight per host: more workers speed up a
    # crawl of many sites, never the crawl of one.
    workers: int = 4
    # A known article that no link led to in a crawl is asked for again (conditionally) once
    # its page was last fetched this many days ago, so a story taken down and unlinked still
    # leaves the index. 0: in every crawl. Revalidation shares max_pages with the links.
    revisit_days: float = 1.0
