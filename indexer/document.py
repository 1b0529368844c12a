"""From an Article to the fields of one index document, and what a writing run reports: the
same for every backend, so Whoosh and PostgreSQL index exactly the same enrichment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from crawler.article import Article, bare_host
from indexer.enrich import enrich


@dataclass
class IndexSummary:
    added: int = 0
    removed: int = 0
    total: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.added / self.seconds if self.seconds else 0.0


Progress = Callable[[int], None]


class Story(NamedTuple):
    """One matching story (copies collapsed) as the analyses read it: its id and the
    countries it names, upper-case codes. Both backends list these for a request."""

    id: str
    countries: tuple[str, ...]


# What a writing run takes, for each backend: article, fetched at, HTTP status, gone.
Item = tuple[Article, str | None, int | None, bool]


def to_document(
    article: Article, fetched_at: str | None = None, http_status: int | None = None
) -> dict[str, Any]:
    """Turns an article into the fields of one index document, enriching it on the way."""
    facets = enrich(article.title, article.text, article.published)
    published = article.published or ""
    doc: dict[str, Any] = {
        "id": article.id,
        "url": article.canonical_url or article.url,
        "site": article.site,
        "site_name": _site_name(article),
        "title": article.title,
        "text": article.text,
        "published": published,
        "chains": ",".join(facets.chains),
        "countries": ",".join(facets.countries),
        "authors": list(article.authors),
        "language": article.language or "",
        "evidence": facets.evidence,
        "fetched_at": fetched_at or "",
        "http_status": http_status,
        "extraction_method": article.extraction_method,
    }
    if facets.year:
        doc["year"] = str(facets.year)
    if published[:10].replace("-", "").isdigit() and len(published) >= 10:
        doc["pubday"] = int(published[:10].replace("-", ""))
    if named := _named(article):
        doc["named"] = named
    return doc


def _site_name(article: Article) -> str:
    """The name the article's site declares, or "" when it declares none or only its host
    (a name is shown before the host, and "example.com · example.com" says nothing)."""
    name = (article.site_name or "").strip()
    return "" if bare_host(name) == article.site else name


def _named(article: Article) -> str:
    """The URL an article names as its original: a canonical link to another site's page, or
    (a JSON record) a `canonical_url` other than its own `url`; "" when it names none. Among
    copies of one story, a copy naming another defers to it (`indexer.duplicates.original`)."""
    if article.original_url:
        return article.original_url
    if article.canonical_url and article.url and article.canonical_url != article.url:
        return article.canonical_url
    return ""
