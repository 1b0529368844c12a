"""The article: the plain record that flows from the crawler to the indexer.

Every stage speaks this one dataclass instead of passing dicts around, so a reader can see in one
place what an extracted article holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Article:
    """One news article as extracted from a page (or given directly as a JSON record).

    ``published`` is an ISO date ("YYYY-MM-DD") or None when no trustworthy date was found; a
    guessed date is worse than none because it puts the article under a wrong year facet.
    """

    url: str
    title: str = ""
    text: str = ""
    published: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    site_name: str | None = None
    id: str = ""
    # How the text was found ("json-ld", "density", ...): provenance shown in the article view.
    extraction_method: str = ""
    # The canonical URL the page declares on another site: the original a syndicated copy names.
    # The copy keeps its own id and site; the index shows the original first when it has it.
    original_url: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = article_id(self.canonical_url or self.url)

    @property
    def site(self) -> str:
        """The host the article was published on, without a leading ``www.``."""
        return site_of(self.canonical_url or self.url)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Builds an article from a JSON record, ignoring keys it does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        values.setdefault("url", "")
        return cls(**values)


def article_id(url: str) -> str:
    """A stable id for an article: its canonical URL hashed, so re-crawls update in place."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def bare_host(host: str) -> str:
    """A host name (or host:port) lower-cased, without a leading ``www.``: what names a site."""
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def site_of(url: str) -> str:
    """The site a URL belongs to: its host without ``www.``."""
    return bare_host(urlsplit(url).hostname or "")
