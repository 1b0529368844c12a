"""What every browser test shares: a real waitress server on loopback over an index built from
tests/fixtures/articles.jsonl, Debian's chromium driven by Playwright, and the screenshots kept
for people to look at.

Chromium comes from `.ci/system-deps` (Playwright cannot download browsers here). Missing
chromium skips the tests on a workstation and fails them under CI=true, where it must be present.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.article import Article
from indexer.whoosh import index_articles
from tests.conftest import fixture_articles
from tests.loopback import running
from web import get_index
from web.server import make_server, server_url

CHROMIUM = Path("/usr/bin/chromium")
# Named in the README: the screenshots of the last test run, for people to look at (gitignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The search page's address, served over the fixture articles."""
    index_dir = tmp_path_factory.mktemp("browser-index")
    index_articles(index_dir, fixture_articles())
    with served(index_dir) as url:
        yield url


@contextmanager
def served(index_dir: Path, config: dict[str, Any] | None = None) -> Iterator[str]:
    """A waitress server over `index_dir` on a free loopback port, in a thread (stopped from
    its own loop: `tests.loopback.running`): its address."""
    server = make_server(index_dir, host="127.0.0.1", port=0, threads=4, config=config)
    try:
        with running(server):
            yield server_url(server)
    finally:
        get_index(server.flask_app).close()  # its searchers, once no request can use them


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium missing at {CHROMIUM}: run .ci/system-deps")
        pytest.skip(f"chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@contextmanager
def opened(browser: object, **options: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page in a new browser context (a desktop-sized viewport unless `options` say
    otherwise), and the script errors and CSP violations it reports; closed after."""
    options.setdefault("viewport", {"width": 1200, "height": 900})
    context = browser.new_context(**options)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        yield page, errors
    finally:
        context.close()


def keep_screenshot(target: object, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot of a page (or of one element) as test-output/browser/NAME.png.

    Returns the file; a blank or failed capture would be a few hundred bytes, so callers can
    assert on its size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}.png"
    if full_page:
        target.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    else:
        target.screenshot(path=str(shot))  # type: ignore[attr-defined]
    print(f"screenshot: {shot}")
    return shot


@pytest.fixture(scope="session")
def news_site(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over 600 real articles of NewsArticles (2016-17), for a timeline of real shape
    and countries that real news names together."""
    with gzip.open(shared / "data/news/NewsArticles.csv.gz", "rt", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["title"].strip() and r["text"].strip()]
    articles = [
        Article(
            url=r["article_source_link"] or f"https://newsarticles.example/{r['article_id']}",
            title=r["title"].strip(),
            text=r["text"].strip(),
            published=_ymd(r["publish_date"]),
        )
        for r in rows[:: max(1, len(rows) // 600)]
    ]
    index_dir = tmp_path_factory.mktemp("news-index")
    index_articles(index_dir, articles)
    with served(index_dir) as url:
        yield url


def _ymd(value: str) -> str | None:
    try:
        return datetime.strptime(value.strip(), "%Y/%m/%d").date().isoformat()
    except ValueError:
        return None
