"""The researchers' page in a real browser: Debian's chromium driven by Playwright, against a
real waitress server on loopback over an index built from tests/fixtures/articles.jsonl.

Chromium comes from `.ci/system-deps` (Playwright cannot download browsers here). Missing
chromium skips the test on a workstation and fails it under CI=true, where it must be present.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.whoosh import index_articles
from tests.conftest import fixture_articles
from web.server import make_server, server_url

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index_dir = tmp_path_factory.mktemp("browser-index")
    index_articles(index_dir, fixture_articles())
    server = make_server(index_dir, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server_url(server)
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
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


def bars(page: object) -> dict[str, str]:
    rects = page.locator("svg.chart rect.bar")  # type: ignore[attr-defined]
    return {
        rects.nth(i).get_attribute("data-period"): rects.nth(i).get_attribute("data-count")
        for i in range(rects.count())
    }


def test_search_click_facets_see_timeline_change_and_download_csv(
    site: str, browser: object, tmp_path: Path
) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(site)
        page.fill("#q", "chip OR battery OR innovation")
        page.press("#q", "Enter")
        page.wait_for_url("**q=chip*")
        summary = page.locator(".summary strong")
        total = int(summary.inner_text())
        assert total == page.locator(".hit").count() >= 4
        before = bars(page)
        assert sum(int(n) for n in before.values()) == total - 1  # the solar article is undated

        page.locator(".facet[data-facet=chain] a", has_text="Integrated circuits").click()
        page.wait_for_url("**chain=integrated-circuits*")
        assert 1 < int(summary.inner_text()) < total
        after_chain = bars(page)
        assert after_chain != before

        page.locator(".facet[data-facet=year] a", has_text="2021").click()
        page.wait_for_url("**year=2021*")
        assert int(summary.inner_text()) == 1
        titles = page.locator(".hit h3").all_inner_texts()
        assert titles == [
            "Nanjing chip makers expand wafer fabs as China pushes semiconductor self-reliance"
        ]
        assert bars(page) == {"2021-10": "1"}

        with page.expect_download() as info:
            page.locator(".export a", has_text="CSV").click()
        saved = tmp_path / "export.csv"
        info.value.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
        assert [r["id"] for r in rows] == ["chips-nanjing"]

        shot = tmp_path / "search-page.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        kept = Path(__file__).resolve().parents[2] / "test-output" / "browser" / shot.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(shot.read_bytes())  # test-output/ is gitignored: a copy to look at
        print(f"screenshot: {shot} (copy: {kept})")
        assert not errors, errors  # no CSP violations or script errors
    finally:
        context.close()


def test_page_is_usable_on_a_phone_and_by_keyboard(site: str, browser: object) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(site + "?q=vaccine")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        assert page.evaluate("document.activeElement.id") == "q"  # typing can start at once
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Search"
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to results"
    finally:
        context.close()


def test_sort_applies_at_once_and_an_error_page_leads_back_to_results(
    site: str, browser: object, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(site + "?q=chip")
        page.select_option("select[name=sort]", "date")
        page.wait_for_url("**sort=date*")
        assert "from=" not in page.url and "to=" not in page.url  # empty dates stay out

        page.goto(site + "?q=chip&country=China")
        assert "Your search could not run" in page.locator("h1").inner_text()
        assert page.input_value("#q") == "chip"
        shot = tmp_path / "error-page.png"
        page.screenshot(path=str(shot), full_page=True)
        kept = Path(__file__).resolve().parents[2] / "test-output" / "browser" / shot.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(shot.read_bytes())
        page.locator("a.fix").click()
        page.wait_for_url("**country=CN*")
        assert int(page.locator(".summary strong").inner_text()) >= 1
        assert "China" in page.locator(".summary .chip").inner_text()
    finally:
        context.close()
