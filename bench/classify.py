"""Benchmark: which crawled pages are kept as articles, on real pages and on listing pages.

    .venv/bin/python bench/classify.py            # the three sites, figures and every miss
    .venv/bin/python bench/classify.py --quiet    # figures only

Three sites on loopback, each crawled by the real crawler (`crawler.crawl.crawl`):

1. real pages: every page of ``data/extraction/aeb`` and ``data/dates`` (real publishers' HTML
   with their menus, related-story blocks and share bars), each served at its own URL's path
   and query, behind a front page and section pages of teasers (headline links and
   summaries, 25 a page, paged with rel=next) like a real section front. Every aeb page is one
   news article; so are the dates pages except the NOT_ARTICLES below, checked by hand.
2. the bundled sample site (`innosearch.sample_site`): its home and section pages are listings;
3. the crawler tests' trap site (`innosearch.sample_site.wire`): its front and section pages are.

Printed: real article pages kept as articles / real article pages (floor: 98%; pages whose
robots meta says noindex are not counted: the crawler must not keep them), and listing
pages kept as articles on each site (floor: 0), then every real article page not kept with the
reason the crawl store recorded for it (what `innosearch why URL` prints).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.crawl import crawl  # noqa: E402
from crawler.extract import extract  # noqa: E402
from crawler.settings import CrawlSettings  # noqa: E402
from crawler.store import CrawlStore  # noqa: E402
from crawler.urls import normalize_url  # noqa: E402
from innosearch.sample_site import LoopbackSite, Route  # noqa: E402
from innosearch.sample_site import serve as serve_sample_site  # noqa: E402
from innosearch.sample_site.wire import TrapSite  # noqa: E402

SHARED = Path(os.environ.get("INNOSEARCH_SHARED", REPO.parent / "shared"))
SETS = ("extraction/aeb", "dates")
PER_SECTION = 25
# Pages of data/dates that are not one news article (looked at one by one, mostly among the
# pages the crawler did not keep): not counted as real article pages.
NOT_ARTICLES = {
    "096a0b26eb672469": "a bot-block page ('Request unsuccessful. Incapsula incident'), no story",
    "27f92a389534fbda": "an encyclopedia entry (baike.baidu.com)",
    "3443be3f29e37320": "a photo page (500px), a caption and no text",
    "3dc5e8e1085188ac": "a wiki revision diff (index.php?diff=...)",
    "6066abd43ad06a66": "a shop's product page (an eBay template)",
    "70a9a77062fd00b8": "a tweet's photo view (twitter.com/.../photo/1)",
    "76ea3558268bcc29": "a forum thread (katzen-forum.net/threads/...)",
    "7d3dd85f9e9b43a9": "a radio programme's page ('Jutarnji program za Srbiju'), audio",
    "7cd364d5acde8262": "a forum thread of patch notes (villagersandheroes.com/forums/...)",
    "86baf6fccf45a12d": "a forum thread (hypixel.net/threads/...)",
    "99bcb816659e5877": "a forum thread (foren.myoos.de/viewtopic.php)",
    "cca61fbd379e68eb": "a press office's overview; the story (#!/news/...) loads by JavaScript",
    "cee87cddacfc4a58": "a forum discussion (mactechnews.de/forum/...)",
    "d88f665457d7c22f": "a blog's 'about us' page (/uber-uns/)",
}


def settings(max_pages: int, max_depth: int) -> CrawlSettings:
    return CrawlSettings(
        delay=0.0,
        max_pages=max_pages,
        max_depth=max_depth,
        connect_timeout=2.0,
        read_timeout=2.0,
        deadline=3.0,
        retries=2,
        allow_local=True,
        workers=2,
    )


def kept_urls(store: CrawlStore) -> set[str]:
    """The page URLs live articles were stored from."""
    return {stored.article.url for stored in store.articles_since(0) if not stored.gone}


def note(store: CrawlStore, url: str) -> str:
    state = store.page_state(url)
    if state is None:
        return f"not fetched ({store.frontier_note(url) or 'never reached'})"
    return state.note or f"HTTP {state.status}"


# -- 1. the real pages ----------------------------------------------------------------------


def real_pages() -> list[tuple[str, str, str, bytes]]:
    """(set, id, original URL, HTML bytes) of every page of the two sets."""
    pages = []
    for name in SETS:
        root = SHARED / "data" / name
        truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
        for page_id, record in sorted(truth.items()):
            body = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
            pages.append((name, page_id, record["url"], body))
    return pages


def build_real_site(site: LoopbackSite, pages: list[tuple[str, str, str, bytes]]) -> dict[str, str]:
    """Routes every page at its original URL's path and query on ``site``; returns the page
    URL on the site for each "set:id". Then the section pages that link to them."""
    urls: dict[str, str] = {}
    teasers: list[str] = []
    for name, page_id, original, body in pages:
        parts = urlsplit(original)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        url = normalize_url(site.base + target)
        path = url[len(site.base) :] if url and url.startswith(site.base) else ""
        unusable = not path or path == "/" or path.startswith(("//", "/section/"))
        if unusable or path in site.routes:
            path = f"/{name.rsplit('/', 1)[-1]}/{page_id}"  # an unusable or taken path
            url = site.base + path
        site.routes[path] = Route(body=body, content_type="text/html")
        urls[f"{name}:{page_id}"] = site.base + path
        article = extract(body, url=original)
        title = escape(article.title or parts.path.rsplit("/", 1)[-1] or page_id)
        # A standfirst of a sentence or two, as section fronts show.
        summary = escape(" ".join((article.description or article.text).split()[:40])[:240])
        teasers.append(
            f'<div class="teaser"><h3><a href="{escape(path)}">{title}</a></h3>'
            f'<p class="summary">{summary}</p></div>'
        )
    sections = [teasers[i : i + PER_SECTION] for i in range(0, len(teasers), PER_SECTION)]
    menu = "".join(f'<a href="/section/{n}">Section {n}</a> ' for n in range(1, 6))
    for n, chunk in enumerate(sections, 1):
        following = f'<link rel="next" href="/section/{n + 1}">' if n < len(sections) else ""
        site.html(
            f"/section/{n}",
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Section {n} | '
            f"Real Pages</title>{following}</head><body><div class='top'>{menu}</div>"
            f"<div class='content'><h1>Section {n}</h1>{''.join(chunk)}</div>"
            "<div class='bottom'><a href='/'>Front page</a></div></body></html>",
        )
    site.html(
        "/",
        "<!doctype html><html><head><title>Real Pages</title></head><body>"
        + "".join(f'<a href="/section/{n}">Section {n}</a> ' for n in range(1, len(sections) + 1))
        + "</body></html>",
    )
    return urls


def real_site(quiet: bool) -> tuple[int, int, int]:
    """Kept real articles, real articles, section pages kept; prints each miss."""
    pages = real_pages()
    with LoopbackSite() as site, tempfile.TemporaryDirectory() as data:
        urls = build_real_site(site, pages)
        section_urls = {site.base + path for path in site.routes if path.startswith("/section/")}
        with CrawlStore(data) as store:
            crawl([site.base + "/"], store, settings(len(pages) + len(section_urls) + 10, 2))
            kept = kept_urls(store)
            articles = {k: url for k, url in urls.items() if k.split(":")[1] not in NOT_ARTICLES}
            # A page that asks not to be indexed is not kept, on purpose: not counted either.
            noindex = {k for k, url in articles.items() if note(store, url).startswith("noindex")}
            real = {k: url for k, url in articles.items() if k not in noindex}
            lost = sorted((key, url) for key, url in real.items() if url not in kept)
            for name in SETS:
                in_set = [url for key, url in real.items() if key.startswith(name + ":")]
                print(
                    f"  {name}: {sum(url in kept for url in in_set)} / {len(in_set)} real "
                    "article pages kept"
                )
            others = sorted(key for key in urls if key.split(":")[1] in NOT_ARTICLES)
            print(
                f"  not counted: {len(others)} dates pages that are not articles "
                f"({sum(urls[key] in kept for key in others)} of them kept), {len(noindex)} "
                "article pages that ask not to be indexed (robots noindex, honoured)"
            )
            if not quiet:
                for key, url in lost:
                    print(f"    lost {key}: {note(store, url)}")
            section_kept = len(section_urls & kept)
    return len(real) - len(lost), len(real), section_kept


# -- 2. and 3. the sites with listing pages -------------------------------------------------


def sample_site() -> tuple[int, int, int, int]:
    """Articles kept, articles, other pages fetched (home, sections, about...), other pages
    kept as articles."""
    with serve_sample_site() as site, tempfile.TemporaryDirectory() as data:
        article_urls = {site.article_url(rec) for rec in site.articles}
        with CrawlStore(data) as store:
            crawl([site.url()], store, settings(500, 10))
            kept = kept_urls(store)
            others = {url for url, _ in store.archived_pages()} - article_urls
    return len(kept & article_urls), len(article_urls), len(others), len(kept - article_urls)


def trap_site() -> tuple[int, int, int, int]:
    with LoopbackSite() as site, tempfile.TemporaryDirectory() as data:
        trap = TrapSite(site)
        listings = {site.base + "/", site.base + "/section?page=1", site.base + "/section?page=2"}
        with CrawlStore(data) as store:
            crawl([site.base + "/", site.base + "/atom.xml"], store, settings(100, 5))
            kept = kept_urls(store)
            canonical = {
                stored.article.canonical_url or stored.article.url
                for stored in store.articles_since(0)
            }
            fetched = sum(1 for url in listings if store.page_state(url) is not None)
    expected = trap.article_urls()
    return len(canonical & expected), len(expected), fetched, len(kept & listings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quiet", action="store_true", help="figures only, not every miss")
    args = parser.parse_args()

    print("real pages (data/extraction/aeb + data/dates, behind section pages):")
    kept, real, sections_kept = real_site(args.quiet)
    print(f"real article pages kept as articles: {kept} / {real} = {kept / real:.1%} (floor 98%)")
    print(f"section pages kept as articles (real-page site): {sections_kept} (floor 0)")
    s_kept, s_all, s_listings, s_wrong = sample_site()
    print(
        f"sample site: {s_kept} / {s_all} articles kept; listing and other pages kept as "
        f"articles: {s_wrong} of {s_listings} fetched (floor 0)"
    )
    t_kept, t_all, t_listings, t_wrong = trap_site()
    print(
        f"trap site: {t_kept} / {t_all} articles kept; listing pages kept as articles: "
        f"{t_wrong} of {t_listings} fetched (floor 0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
