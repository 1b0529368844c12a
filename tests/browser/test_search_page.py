"""The researchers' page in a real browser (fixtures in conftest.py): searching, facets, the
timeline, the article view, downloads, the error page, a phone and a keyboard."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from tests.browser.conftest import keep_screenshot, opened


def bars(page: object) -> dict[str, str]:
    rects = page.locator("svg.chart rect.bar")  # type: ignore[attr-defined]
    return {
        rects.nth(i).get_attribute("data-period"): rects.nth(i).get_attribute("data-count")
        for i in range(rects.count())
    }


def test_search_click_facets_see_timeline_change_and_download_csv(
    site: str, browser: object, tmp_path: Path
) -> None:
    with opened(browser, accept_downloads=True) as (page, errors):
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

        assert keep_screenshot(page, "search-page", full_page=True).stat().st_size > 10_000
        assert not errors, errors  # no CSP violations or script errors


def test_page_is_usable_on_a_phone_and_by_keyboard(site: str, browser: object) -> None:
    with opened(browser, viewport={"width": 390, "height": 844}, is_mobile=True) as (page, _):
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


def test_sort_applies_at_once_and_an_error_page_leads_back_to_results(
    site: str, browser: object
) -> None:
    with opened(browser) as (page, _):
        page.goto(site + "?q=chip")
        page.select_option("select[name=sort]", "date")
        page.wait_for_url("**sort=date*")
        assert "from=" not in page.url and "to=" not in page.url  # empty dates stay out

        page.goto(site + "?q=chip&country=China")
        assert "Your search could not run" in page.locator("h1").inner_text()
        assert page.input_value("#q") == "chip"
        assert keep_screenshot(page, "error-page", full_page=True).stat().st_size > 10_000
        page.locator("a.fix").click()
        page.wait_for_url("**country=CN*")
        assert int(page.locator(".summary strong").inner_text()) >= 1
        assert "China" in page.locator(".summary .chip").inner_text()


def test_article_view_shows_the_story_with_names_and_provenance(site: str, browser: object) -> None:
    with opened(browser) as (page, _):
        page.goto(site + "?q=nanjing+wafer")
        page.locator(".hit h3 a").first.click()
        page.wait_for_url("**/article/**")
        assert page.locator("h1").inner_text().startswith("Nanjing chip makers expand wafer fabs")
        evidence = page.locator("dl.facets-evidence").inner_text()
        assert "Integrated circuits" in evidence and "China" in evidence  # names, not ids
        assert "integrated-circuits" not in evidence
        provenance = page.locator("dl.provenance").inner_text()
        assert "https://news.example.com/2021/10/chips-nanjing.html" in provenance
        assert keep_screenshot(page, "article-view", full_page=True).stat().st_size > 10_000


def test_timeline_of_real_articles_labels_axes_and_tells_each_count(
    news_site: str, browser: object
) -> None:
    with opened(browser) as (page, _):
        page.goto(news_site + "?q=president")
        total = int(page.locator(".summary strong").inner_text())
        counts = bars(page)
        assert len(counts) >= 4  # months from December 2016 to March 2017
        chart = page.locator("figure.timeline")
        undated = chart.locator("figcaption").inner_text()
        assert "Articles per month" in undated
        # Both axes are labelled: counts on the left, periods along the bottom, none overlapping.
        assert chart.locator("text.axis.count").count() >= 2
        periods = chart.locator("text.axis.period")
        assert periods.count() >= 3
        boxes = [periods.nth(i).bounding_box() for i in range(periods.count())]
        assert all(a["x"] + a["width"] <= b["x"] for a, b in itertools.pairwise(boxes))
        # Each bar tells its count on hover (SVG title) and to screen readers (its link's label).
        first = chart.locator("a:has(rect.bar)").first
        period = first.locator("rect").get_attribute("data-period")
        count = counts[period]
        label = first.get_attribute("aria-label")
        assert label.endswith(f": {count} article" + "s" * (count != "1"))
        assert first.locator("title").text_content() == first.get_attribute("aria-label")
        first.hover()
        assert sum(int(n) for n in counts.values()) <= total
        assert keep_screenshot(chart, "timeline").stat().st_size > 5_000
        # The table behind "Counts" gives the same figures.
        chart.locator("details.counts summary").click()
        rows = chart.locator("details.counts tbody tr").all_inner_texts()
        assert [r.split("\t") for r in rows] == [[p, n] for p, n in counts.items()]


def test_a_result_names_its_site_before_the_host(site: str, browser: object) -> None:
    with opened(browser) as (page, _):
        page.goto(site + "?q=semiconductor")
        by_title = {
            hit.locator("h3").inner_text(): hit.locator(".meta .site").inner_text()
            for hit in page.locator(".hit").all()
        }
        nanjing = next(t for t in by_title if t.startswith("Nanjing chip makers"))
        assert by_title[nanjing] == "Example News · news.example.com"  # its og:site_name
        assert "evil.example.com" in by_title.values()  # named by neither: the host alone
        page.locator(".hit h3 a", has_text="Nanjing chip makers").click()
        assert page.locator(".doc .meta .site").inner_text() == "Example News · news.example.com"
