"""The analysis views in a real browser (Debian's chromium, as tests/browser/test_search_page.py
launches it): the sample site crawled by the real crawler and indexed, its crawl store given a
history with a failed spell and a silence, then /trends and /compare opened from the search
page, hovered, and photographed into test-output/browser/ (the README's pictures come from there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from innosearch.sample_site import serve
from tests.browser.conftest import keep_screenshot, opened, served
from tests.indexer.test_coverage import daily, history


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from innosearch.cli import main

    root = tmp_path_factory.mktemp("analysis-browser")
    data, index = root / "data", root / "index"
    env = {"INNOSEARCH_CRAWL_ALLOW_LOCAL": "1", "INNOSEARCH_CRAWL_DELAY": "0"}
    with pytest.MonkeyPatch.context() as mp, serve() as sample:
        for name, value in env.items():
            mp.setenv(name, value)
        assert main(["crawl", sample.url(), "--data", str(data)]) == 0
        assert main(["index", "--data", str(data), "--index", str(index)]) == 0
    # The history a deployment would have: crawled daily, failing for six weeks in 2022, then
    # not crawled for four months of 2023.
    runs = daily(datetime(2022, 1, 1, tzinfo=UTC), 60)
    runs += daily(datetime(2022, 3, 2, tzinfo=UTC), 42, ok=False)
    runs += daily(datetime(2022, 4, 13, tzinfo=UTC), 470)
    runs += daily(datetime(2023, 12, 1, tzinfo=UTC), 400)
    history(data, "herald", runs)
    config = {"DATA_DIR": str(data), "RATE_LIMIT_PER_SECOND": 0}
    with served(index, config) as url:
        yield url


def keep(page: object, name: str) -> Path:
    shot = keep_screenshot(page, name, full_page=True)
    assert shot.stat().st_size > 10_000
    return shot


def test_trends_by_chain_from_the_search_page(sample: str, browser: object) -> None:
    with opened(browser) as (page, errors):
        page.goto(sample + "?q=innovation OR technology OR energy")
        total = int(page.locator(".summary strong").inner_text())
        page.locator(".analysis-links a", has_text="trends by chain").click()
        page.wait_for_url("**/trends?*by=chain*")
        assert int(page.locator(".analysis .summary strong").inner_text()) == total
        panels = page.locator("figure.panel")
        assert panels.count() == 2 + 6 + 2  # denominator, matching, six chains, other, none
        names = panels.locator("figcaption").all_inner_texts()
        assert names[0].startswith("All indexed stories") and names[1].startswith("All matching")
        # Values on hover: the bar's tooltip says the count and the share.
        bar = page.locator("figure.panel[data-series=matching] rect.bar").first
        bar.hover()
        tooltip = bar.locator("title").text_content()
        assert "stor" in tooltip and "% of all stories" in tooltip
        # The crawl's gaps are shaded, labelled, and listed in words below the heading.
        assert page.locator("rect.gap-failed").count() >= 1
        assert (page.locator("text.gap-label").first.text_content() or "").startswith("herald")
        assert (
            "herald: 42 failed runs from 2022-03-01 to 2022-04-13"
            in page.locator(".coverage").inner_text()
        )
        page.mouse.move(0, 0)  # no hover highlight in the picture
        keep(page, "trends-page")
        page.select_option("select[name=by]", "country")
        page.locator(".analysis-form button").click()
        page.wait_for_url("**by=country*")
        assert "China" in " ".join(page.locator("figure.panel figcaption").all_inner_texts())
        assert not errors, errors


def test_compare_three_queries_on_one_timeline(sample: str, browser: object) -> None:
    with opened(browser) as (page, errors):
        page.goto(sample + "?q=chip")
        page.locator(".analysis-links a", has_text="compare").click()
        page.wait_for_url("**/compare?q=chip*")
        boxes = page.locator(".analysis-form input[name=q]")
        boxes.nth(1).fill("battery")
        boxes.nth(2).fill("vaccine")
        page.locator(".analysis-form button").click()  # the two empty boxes are left out
        page.wait_for_url("**q=vaccine*")
        assert page.url.count("q=") == 3
        legend = page.locator(".legend li").all_inner_texts()
        assert [item.split()[0].strip('"“”') for item in legend] == ["chip", "battery", "vaccine"]
        assert page.locator("svg.lines polyline").count() == 3
        # Hovering a period gives every query's value in it (points of equal value overlap).
        column = page.locator("svg.lines rect.hover").first
        column.hover()
        tooltip = column.locator("title").text_content() or ""
        assert all(f"{q} " in tooltip for q in ("chip", "battery", "vaccine")), tooltip
        assert "% of all stories" in page.locator("svg.lines circle").first.get_attribute(
            "aria-label"
        )
        assert page.locator("svg.lines rect.gap").count() >= 1
        page.mouse.move(0, 0)
        keep(page, "compare-page")
        assert not errors, errors


def test_the_search_pages_timeline_shades_the_gaps_too(sample: str, browser: object) -> None:
    with opened(browser) as (page, errors):
        page.goto(sample + "?q=innovation OR technology OR energy")
        assert page.locator("svg.chart rect.gap").count() >= 1
        assert "the crawl was thin" in page.locator("figure.timeline").inner_text()
        shot = keep_screenshot(page.locator("figure.timeline"), "timeline-coverage")
        assert shot.stat().st_size > 5_000
        assert not errors, errors
