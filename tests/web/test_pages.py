"""The researchers' page: results, facets that filter when clicked, paging, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from indexer.whoosh import index_articles
from tests.conftest import syndicated_articles
from web import create_app, get_index


class Links(HTMLParser):
    """The facet links of a page by the value's name as shown (`<span class="value">`)."""

    def __init__(self) -> None:
        super().__init__()
        self.facet_links: dict[str, str] = {}
        self._href: str | None = None
        self._in_value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a":
            self._href = a.get("href")
        self._in_value = tag == "span" and a.get("class") == "value" and self._href is not None

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._in_value and self._href:
            self.facet_links[data.strip()] = self._href
            self._in_value = False


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def test_search_page_shows_ranked_results_and_facets(client: FlaskClient) -> None:
    html = page(client, "/?q=semiconductor")
    assert re.search(r"<strong>2</strong> articles", html)
    assert "Nanjing chip makers expand wafer fabs" in html
    assert "<mark>" in html
    for heading in ("Year", "Industry chain", "Country"):
        assert f"<h2>{heading}</h2>" in html


def test_clicking_a_facet_filters_and_clicking_again_removes_it(client: FlaskClient) -> None:
    links = Links()
    links.feed(page(client, "/"))
    nev = links.facet_links["New energy vehicles"]
    filtered = page(client, nev)
    assert "Electric vehicle makers race" in filtered
    assert "Nanjing chip makers" not in filtered
    assert re.search(r'class="on"', filtered)
    again = Links()
    again.feed(filtered)
    assert "chain=nev" not in again.facet_links["New energy vehicles"]


def test_paging_links(client: FlaskClient) -> None:
    html = page(client, "/?per_page=3")
    assert "page 1 of 3" in html and 'rel="next" href="/?per_page=3&amp;page=2"' in html


def test_crawled_markup_is_escaped_on_the_page(client: FlaskClient) -> None:
    html = page(client, "/?q=markup")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_bad_query_shows_a_message_with_status_400(client: FlaskClient) -> None:
    response = client.get('/?q="unclosed')
    assert response.status_code == 400
    assert "unbalanced quote" in response.get_data(as_text=True)


def test_article_view_shows_text_facets_evidence_and_provenance(client: FlaskClient) -> None:
    html = page(client, "/article/chips-nanjing")
    assert "Semiconductor equipment makers from Japan" in html
    assert "Integrated circuits" in html and "Provenance" in html
    evidence = html.split("Industry chains", 1)[1].split("Countries", 1)[0]
    assert '<small class="evidence">(' in evidence and "semiconductor" in evidence
    assert client.get("/article/nope").status_code == 404


def test_page_draws_the_timeline_without_script_and_links_exports(client: FlaskClient) -> None:
    html = page(client, "/?chain=nev&chain=integrated-circuits")
    assert '<svg class="chart"' in html and 'data-period="2021-10"' in html
    assert "/api/export.csv?chain=nev&amp;chain=integrated-circuits" in html
    assert "/api/timeline.csv?chain=nev&amp;chain=integrated-circuits" in html
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither


def test_page_offers_did_you_mean_and_error_fixes(client: FlaskClient) -> None:
    html = page(client, "/?q=semiconducter&chain=integrated-circuits")
    assert 'Did you mean <a href="/?q=semiconductor&amp;chain=integrated-circuits">' in html
    response = client.get('/?q="chip factory&year=2021')
    assert response.status_code == 400
    assert "q=%22chip+factory%22&amp;year=2021" in response.get_data(as_text=True)


def test_an_error_page_keeps_the_search_and_each_filter_can_be_dropped(
    client: FlaskClient,
) -> None:
    response = client.get("/?q=chip&year=21&chain=nev&from=2020&to=")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "year must be four digits" in html
    assert 'id="q" name="q" type="search" value="chip"' in html  # the box keeps the words
    assert '<input type="hidden" name="chain" value="nev">' in html
    assert '<input type="hidden" name="year" value="21">' in html
    assert 'type="text" name="from" value="2020"' in html  # as typed, where it can be fixed
    drop_year = re.search(r'<a class="chip" href="([^"]+)"[^>]*>year: 21', html)
    assert drop_year and drop_year.group(1).replace("&amp;", "&") == (
        "/?q=chip&chain=nev&from=2020"
    )
    assert client.get(drop_year.group(1).replace("&amp;", "&")).status_code == 200
    unclosed = client.get('/?q="chip factory').get_data(as_text=True)
    assert 'value="&#34;chip factory"' in unclosed


def test_a_wrong_facet_value_offers_the_value_meant(client: FlaskClient) -> None:
    html = client.get("/?q=chip&country=China&chain=nev").get_data(as_text=True)
    fix = re.search(r'<a class="fix" href="([^"]+)">country=CN</a>', html)
    assert fix and fix.group(1).replace("&amp;", "&") == "/?q=chip&country=CN&chain=nev"


def test_facets_chips_and_badges_show_names_not_codes(client: FlaskClient) -> None:
    html = page(client, "/?q=semiconductor&country=CN&chain=integrated-circuits")
    country_facet = html.split('data-facet="country"', 1)[1].split("</section>", 1)[0]
    assert '<span class="value">China</span>' in country_facet
    assert "country: China ×" in html and "chain: Integrated circuits ×" in html
    assert '<span class="badge country" title="CN">China</span>' in html


def test_an_empty_result_offers_no_timeline_and_no_download(client: FlaskClient) -> None:
    html = page(client, "/?q=zeppelin")
    assert "<strong>0</strong> articles" in html
    assert 'class="timeline"' not in html and "Download all" not in html


def test_the_timeline_labels_its_axes_legibly(app: Flask) -> None:
    from web.pages import timeline_chart

    months = [f"{y}-{m:02d}" for y in range(2016, 2021) for m in range(1, 13)]
    wide = {"counts": [{"period": p, "count": 3} for p in months], "interval": "month"}
    short = {"counts": [{"period": p, "count": 1} for p in months[:3]], "interval": "month"}
    with app.test_request_context("/?q=chip"):
        chart = timeline_chart({**wide, "undated": 0})
        assert [t["label"] for t in chart["ticks"]] == ["2016", "2017", "2018", "2019", "2020"]
        assert [level["value"] for level in chart["levels"]] == [0, 1, 3]
        assert chart["bars"][2]["label"] == "Mar 2016"
        few = timeline_chart({**short, "undated": 0})
        assert [t["label"] for t in few["ticks"]] == ["Jan 2016", "Feb 2016", "Mar 2016"]


def test_each_bar_tells_its_period_and_count_to_screen_readers(client: FlaskClient) -> None:
    html = page(client, "/?chain=nev&chain=integrated-circuits")
    assert '<svg class="chart"' in html and 'role="group"' in html  # an img hides its links
    assert 'aria-label="Oct 2021: 1 article"' in html
    assert '<text class="axis period"' in html and '<text class="axis count"' in html


def test_results_copies_and_article_name_the_site_before_its_host(tmp_path: Path) -> None:
    """ "Site Name · host": the configured name (SITE_NAMES, from innosearch.toml) over the name
    the pages declare, the host alone when neither names the site."""
    index_articles(tmp_path, syndicated_articles())
    app = create_app(
        {"INDEX_DIR": str(tmp_path), "TESTING": True, "SITE_NAMES": {"daily.example.org": "DC"}}
    )
    client = app.test_client()
    try:
        html = page(client, "/?q=quantum")
        (also,) = re.findall(r'<p class="also">(.*?)</p>', html)
        shown = re.findall(r'<span class="site">([^<]*)</span>', html)
        shown += re.findall(r">([^<]+)</a>", also)
        assert sorted(shown) == [
            "DC · daily.example.org",  # configured: wins over the page's "The Daily"
            "Example Wire · wire.example.com",  # the page's og:site_name
            "copy.example.net",  # the page declares only its host: no name
        ]
        article = page(client, "/article/late")
        assert '<span class="site">DC · daily.example.org</span>' in article
    finally:
        get_index(app).close()


def test_fixture_results_show_the_declared_name_or_the_host(client: FlaskClient) -> None:
    html = page(client, "/?q=semiconductor")
    assert '<span class="site">Example News · news.example.com</span>' in html
    assert '<span class="site">evil.example.com</span>' in html
