"""The analysis views in a real browser over 600 real news articles (fixtures in conftest.py):
who works with whom (heat map to the stories behind a pair), citing a search and opening the
citation later, and the feed a results page names."""

from __future__ import annotations

import feedparser

from tests.browser.conftest import keep_screenshot, opened


def test_heat_map_names_countries_tells_counts_and_leads_to_a_pairs_stories(
    news_site: str, browser: object
) -> None:
    with opened(browser, viewport={"width": 1200, "height": 1000}) as (page, _):
        page.goto(news_site)
        page.click("text=who works with whom")
        page.wait_for_url("**/cooccurrence*")
        table = page.locator("table.heatmap")
        heads = table.locator("th[scope=row]").all_inner_texts()
        assert len(heads) >= 6 and "United States" in heads  # names, not codes
        cell = table.locator("td a[data-count]").first
        count = cell.get_attribute("data-count")
        assert cell.get_attribute("title") == cell.get_attribute("aria-label")
        assert cell.get_attribute("aria-label").endswith(
            f": {count} stor" + ("y" if count == "1" else "ies")
        )
        cell.hover()
        assert keep_screenshot(page, "cooccurrence", full_page=True).stat().st_size > 20_000
        top = page.locator("ol.pairs li").first
        names = top.locator("a").inner_text()
        stories = top.locator(".count").inner_text().split()[0]
        top.locator("a").click()
        page.wait_for_url("**country_all=*")
        assert page.locator(".summary strong").inner_text() == stories
        first, second = names.split(" and ")
        chips = page.locator(".summary .chip").all_inner_texts()
        assert f"with {first} ×" in chips and f"with {second} ×" in chips


def test_cite_a_search_then_open_the_citation(news_site: str, browser: object) -> None:
    with opened(browser) as (page, _):
        page.goto(news_site + "?q=trade&country=CN")
        total = page.locator(".summary strong").inner_text()
        page.click("text=cite this search")
        page.wait_for_url("**/cite?*")
        reference = page.locator("blockquote.reference").inner_text()
        assert f": {total} stories, SHA-256 " in reference and 'query "trade"' in reference
        assert keep_screenshot(page, "cite", full_page=True).stat().st_size > 10_000
        page.locator("dl.citation a[href*='sha256=']").click()
        page.wait_for_url("**sha256=*")
        assert page.locator(".verdict").inner_text().startswith(f"The same {total} stories")
        assert keep_screenshot(page, "cite-check", full_page=True).stat().st_size > 10_000


def test_a_results_page_names_its_feed_and_the_feed_opens(news_site: str, browser: object) -> None:
    with opened(browser, viewport={"width": 1000, "height": 800}) as (page, _):
        page.goto(news_site + "?q=president")
        href = page.locator('link[rel=alternate][type="application/atom+xml"]').get_attribute(
            "href"
        )
        assert href == "/feed.atom?q=president"
        feed = feedparser.parse(page.request.get(news_site.rstrip("/") + href).body())
        assert not feed.bozo and len(feed.entries) == 20
        page.click("text=follow as a feed")
        page.wait_for_url("**/feed.atom*")
        assert feed.entries[0].title in page.content()
        assert keep_screenshot(page, "feed").stat().st_size > 10_000
