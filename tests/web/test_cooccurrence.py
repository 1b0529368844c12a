"""The co-occurrence views over HTTP: the JSON, the CSV and the heat-map page take the search's
own query string, and each pair links to the stories behind it."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from flask.testing import FlaskClient


def test_json_csv_and_page_show_the_same_pairs(client: FlaskClient) -> None:
    data = client.get("/api/cooccurrence").get_json()
    assert data["total"] == client.get("/api/search").get_json()["total"]
    assert data["pairs"] and data["countries"][0]["name"] == "China"
    rows = list(csv.reader(io.StringIO(client.get("/api/cooccurrence.csv").get_data(as_text=True))))
    assert rows[0] == ["country_a", "name_a", "country_b", "name_b", "stories"]
    assert rows[1:] == [
        [*p["countries"][:1], p["names"][0], p["countries"][1], p["names"][1], str(p["stories"])]
        for p in data["pairs"]
    ]
    page = client.get("/cooccurrence")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/api/cooccurrence" in page.headers["Link"]
    first = data["pairs"][0]
    label = f"{first['names'][0]} and {first['names'][1]}: {first['stories']} stor"
    assert label in html  # the cell's value, for a tooltip and a screen reader
    assert '<th scope="row" title="CN">China</th>' in html  # names, not codes


def test_a_pair_links_to_the_stories_naming_both(client: FlaskClient) -> None:
    html = client.get("/cooccurrence?q=*").get_data(as_text=True)
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="count">(\d+) stor', html)
    assert links
    for href, names, count in links:
        url = unescape(href)
        assert url.startswith("/?") and url.count("country_all=") == 2, url
        body = client.get("/api" + "/search" + url[1:]).get_json()
        assert body["total"] == int(count), names
        page = client.get(url).get_data(as_text=True)
        assert "with " + names.split(" and ")[0] in page  # the filter shows, removable


def test_the_search_keeps_its_filters_in_the_views_urls(client: FlaskClient) -> None:
    narrowed = client.get("/api/cooccurrence?chain=integrated-circuits").get_json()
    everything = client.get("/api/cooccurrence").get_json()
    assert narrowed["total"] < everything["total"]
    page = client.get("/?q=chip&chain=integrated-circuits").get_data(as_text=True)
    assert "/cooccurrence?q=chip&amp;chain=integrated-circuits" in page


def test_bad_parameters_answer_400_with_what_to_change(client: FlaskClient) -> None:
    for url, words in [
        ("/api/cooccurrence?top=1", "top must be between 2 and 50"),
        ("/api/cooccurrence?topp=5", "did you mean 'top'"),
        ("/api/cooccurrence.csv?country_all=Germany", "did you mean DE"),
        ("/api/search?country_all=XX", "unknown country"),
        ("/api/search?top=5", "unknown parameter 'top'"),
    ]:
        response = client.get(url)
        assert response.status_code == 400 and words in response.get_json()["error"], url
    page = client.get("/cooccurrence?country_all=Germany")
    assert page.status_code == 400 and "country_all=DE" in page.get_data(as_text=True)
