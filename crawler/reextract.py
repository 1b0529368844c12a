"""Re-extraction of every stored article from the WARC archive, without fetching anything.

When extraction improves (a better date rule, a new selector), the crawl store can be brought up
to date from the raw responses it archived: each page whose last fetch succeeded is read back
from its WARC record and goes through the same decision as in the crawl (`page_article`, then
`store_article`). Articles whose text or metadata changed get a new ``seq``, so the next
``innosearch index`` picks up exactly those.

What it does not do: a page that stops counting as an article under the new rules keeps its
old article (only a 404/410 from the site takes an article down), and a damaged WARC record is
skipped with a warning (its page will be archived afresh on the next crawl).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from crawler.crawl import page_article, store_article
from crawler.store import CrawlStore
from crawler.urls import normalize_url

__all__ = ["ReextractSummary", "reextract"]


@dataclass
class ReextractSummary:
    """What one `reextract` call did; ``damaged`` counts unreadable WARC records."""

    pages: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    duplicates: int = 0
    not_articles: int = 0
    damaged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reextract(
    store: CrawlStore, progress: Callable[[ReextractSummary], None] | None = None
) -> ReextractSummary:
    """Re-extracts every archived page into ``store``; ``progress`` is called after each page."""
    summary = ReextractSummary()
    for url, response in store.archived_pages():
        summary.pages += 1
        if response is None:
            summary.damaged += 1
        else:
            page_url = normalize_url(response.url) or url
            article, _page, verdict = page_article(response.body, page_url, response.headers)
            with store.transaction():
                store.note_page(url, verdict.reason)
            if article is None:
                summary.not_articles += 1
            else:
                with store.transaction():
                    written = store_article(
                        store,
                        article,
                        fetched_at=response.fetched_at,
                        http_status=response.status,
                    )
                    if written != "duplicate":
                        store.link_page_article(url, article.id)
                if written == "new":
                    summary.articles_new += 1
                elif written == "updated":
                    summary.articles_updated += 1
                elif written == "unchanged":
                    summary.articles_unchanged += 1
                else:
                    summary.duplicates += 1
        if progress is not None:
            progress(summary)
    return summary
