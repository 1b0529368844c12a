"""URL normalisation and crawl scope.

The frontier deduplicates on the normalised URL, so every spelling of one page that a site links
to (``HTTP://Example.com:80/a?utm_source=x#top``, ``http://example.com/a``) must collapse to one
string here, or the crawler fetches the same page twice and the index holds it twice.
Normalisation stays conservative: it only rewrites what cannot change the resource a server
returns (case of scheme and host, default ports, fragments, dot segments, parameter order,
tracking parameters), never the path's case or a trailing slash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from crawler.article import bare_host

__all__ = [
    "TRACKING_PARAMS",
    "Scope",
    "host_key",
    "is_tracking_param",
    "looks_like_binary",
    "normalize_url",
]

# Query parameters that only tell the target site where a click came from. Dropping them turns
# "the same article shared in a newsletter" into the article's own URL.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt.mc_id",
        "ref_src",
        "spm",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}

# File endings that are never HTML, sitemaps or feeds: skipping them at link time saves a request
# that the content-type filter would refuse anyway.
_BINARY_SUFFIXES = frozenset(
    {
        ".7z", ".avi", ".bmp", ".css", ".csv", ".doc", ".docx", ".epub", ".exe", ".gif", ".ico",
        ".jpeg", ".jpg", ".js", ".json", ".m4a", ".mov", ".mp3", ".mp4", ".mpeg", ".ogg", ".pdf",
        ".png", ".ppt", ".pptx", ".rar", ".svg", ".tar", ".tif", ".tiff", ".wav", ".webm",
        ".webp", ".woff", ".woff2", ".xls", ".xlsx", ".zip",
    }
)  # fmt: skip

# Characters left alone when re-quoting a path or query: the reserved set plus "%" so existing
# escapes survive. Anything else (spaces, non-ASCII) gets percent-encoded as UTF-8.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter only tracks the click (utm_*, fbclid, gclid, mc_cid, ...)."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def _normal_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(0)[1:], 16))
    return char if char in _UNRESERVED else match.group(0).upper()


def _requote(text: str, safe: str) -> str:
    """Escapes in their RFC 3986 normal form (6.2.2): upper case, unreserved ones decoded.

    Bytes that must be escaped (spaces, non-ASCII) are escaped as UTF-8, as browsers do.
    """
    return _PERCENT_ESCAPE.sub(_normal_escape, quote(text, safe=safe))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, on whole segments: ``/a/./b/../c`` is ``/a/c``; ``//`` is left alone."""
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _normalize_query(query: str) -> str:
    """Tracking parameters dropped and the rest sorted, each pair kept byte for byte.

    Pairs are not decoded and re-encoded: ``a+b`` and ``a%20b`` may differ to a server, and
    an escaped ``%26`` inside a value must stay escaped.
    """
    kept = [
        pair
        for pair in query.split("&")
        if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))
    ]
    return "&".join(sorted(_requote(pair, _QUERY_SAFE) for pair in kept))


def normalize_url(url: str, base: str | None = None) -> str | None:
    """The canonical spelling of an http(s) URL, or None for anything that is not one.

    ``base`` resolves relative links (``href="../a"``) against the page they were found on.
    None covers ``mailto:``, ``javascript:``, URLs without a host and malformed ports, so a caller
    can drop whatever does not normalise.
    """
    url = url.strip()
    if not url:
        return None
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if not host:
        return None
    try:
        # IDNA: a host in Unicode and its punycode spelling are one host.
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_requote(parts.path or "/", _PATH_SAFE))
    return urlunsplit((scheme, netloc, path, _normalize_query(parts.query), ""))


def host_key(url: str) -> str:
    """Host and port of a URL, the unit of politeness: one robots.txt and one delay per key."""
    parts = urlsplit(url)
    return parts.netloc.lower()


def looks_like_binary(url: str) -> bool:
    """Whether the URL's path ends in a suffix that is never a page, sitemap or feed."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:] in _BINARY_SUFFIXES


@dataclass(frozen=True)
class Scope:
    """Which URLs a crawl may visit: the seeds' hosts, optionally under some path prefixes.

    ``www.example.com`` and ``example.com`` count as one host, since news sites link both
    spellings interchangeably; any other subdomain is a different site and out of scope.
    """

    hosts: frozenset[str]
    path_prefixes: tuple[str, ...] = ()

    @classmethod
    def from_seeds(cls, seeds: Iterable[str], path_prefixes: Iterable[str] = ()) -> Scope:
        """The scope of a crawl started from ``seeds`` (already normalised URLs)."""
        hosts = frozenset(bare_host(host_key(seed)) for seed in seeds)
        prefixes = tuple(p if p.startswith("/") else "/" + p for p in path_prefixes)
        return cls(hosts=hosts, path_prefixes=prefixes)

    def covers_host(self, url: str) -> bool:
        """Whether ``url`` is on one of the scope's hosts, whatever its path (for sitemaps,
        which may list in-scope pages while living outside the path prefixes)."""
        parts = urlsplit(url)
        return parts.scheme in _DEFAULT_PORTS and bare_host(parts.netloc) in self.hosts

    def __contains__(self, url: object) -> bool:
        if not isinstance(url, str) or not self.covers_host(url):
            return False
        parts = urlsplit(url)
        if not self.path_prefixes:
            return True
        path = parts.path or "/"
        return any(path.startswith(prefix) for prefix in self.path_prefixes)


def normalize_seeds(seeds: list[str]) -> list[str]:
    """Seed URLs normalised, each once, in order; ValueError for one that is not http(s)."""
    normalized: list[str] = []
    for seed in seeds:
        url = normalize_url(seed)
        if url is None:
            raise ValueError(f"not an http(s) URL: {seed!r}")
        if url not in normalized:
            normalized.append(url)
    if not normalized:
        raise ValueError("no seed URLs given")
    return normalized
