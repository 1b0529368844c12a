"""Nothing an attacker writes runs: crawled titles, text, URLs, site names, evidence and facet
values reach the page escaped and the API as data; every page carries the browser's defences;
the server is never Flask's debugger and listens on loopback unless told otherwise; maintainer
actions need the configured token.

The hostile index is built the way a crawl builds one, plus one document written with markup in
the fields the enricher fills (evidence, chains, countries), since those come from editable
data files and must be escaped too.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from crawler.article import Article
from indexer.whoosh import index_articles
from indexer.whoosh.write import open_index, to_document
from tests.test_live_refresh import Server
from web import create_app, get_index
from web.server import make_server

TITLE = "<script>alert('title')</script><img src=x onerror=alert('title')> Chip fab"
TEXT = (
    "Semiconductor wafer fab news <svg onload=alert('text')> with chip makers, "
    '"quoted" & <b>bold</b> claims; the <iframe src=javascript:alert(1)> fab grows.'
)
HOSTILE_URL = "https://evil.example/a\"><img src=x onerror=alert('url')>"
SCRIPT_SITE_URL = "https://<script>alert('site')</script>/e"
MARKUP = "<script>alert('facet')</script>"

ARTICLES = [
    {
        "id": "xss-title",
        "url": HOSTILE_URL,
        "title": TITLE,
        "text": TEXT,
        "published": "2024-01-02",
        "authors": ["<script>alert('author')</script>"],
    },
    # The same story syndicated under a javascript: URL: it shows as "also published by".
    {"id": "xss-copy", "url": "javascript:alert('also')//", "title": TITLE, "text": TEXT},
    {
        "id": "xss-js",
        "url": "JavaScript:alert('js')",
        "title": "Battery plant story",
        "text": "Battery cells and lithium cathodes for electric vehicles in a new plant.",
    },
    {
        "id": "xss-data",
        "url": " data:text/html,<script>alert('data')</script>",
        "title": "Solar module story",
        "text": "Solar modules and photovoltaic wafers.",
    },
    {
        "id": "xss-site",
        "url": SCRIPT_SITE_URL,
        "title": "Vaccine trial story",
        "text": "A vaccine trial with biotech partners and mRNA drugs.",
    },
    # Titles a spreadsheet would run as formulas, in every disguise: after a ";" (the list
    # separator of many locales), after a line break or spaces, and the plain ones.
    *(
        {
            "id": f"formula-{n}",
            "url": f"https://ok.example/formula/{n}",
            "title": title,
            "text": "A formula story about wafer fabs.",
        }
        for n, title in enumerate(
            ["a;=1+1", "\n=1+1", "  +SUM(1)", '=HYPERLINK("http://x")', "@cmd", "-2+3"]
        )
    ),
    # An id that is a path: its links must stay on the article view.
    {
        "id": "../../etc/passwd",
        "url": "https://ok.example/p",
        "title": "Path story",
        "text": "A story whose id walks up the path, about battery cells.",
    },
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile")
    index_articles(path, [Article.from_dict(a) for a in ARTICLES])
    doc = to_document(
        Article.from_dict(
            {
                "id": "xss-facets",
                "url": "https://ok.example/f",
                "title": "Robot arm story",
                "text": "Industrial robot arms for factories.",
            }
        )
    )
    doc["chains"] = f"{MARKUP},ai"
    doc["countries"] = "x<script>"
    doc["evidence"] = {"ai": [MARKUP, "robot"], "x<script>": ["<img src=x onerror=alert(1)>"]}
    ix = open_index(path)
    writer = ix.writer()
    writer.update_document(**doc)
    writer.commit()
    ix.close()
    return path


@pytest.fixture(scope="module")
def hostile(hostile_index: Path) -> Iterator[FlaskClient]:
    app = create_app({"INDEX_DIR": str(hostile_index), "TESTING": True})
    yield app.test_client()
    get_index(app).close()


class Audit(HTMLParser):
    """What a browser would build from a page: elements, attributes and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.tags.append(("inline-script", {"body": data}))
        self.text.append(data)


def audit(client: FlaskClient, url: str, status: int = 200) -> str:
    """Fetches a page and fails on anything an attacker's text could have made executable;
    returns the page's visible text."""
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    page = Audit()
    page.feed(response.get_data(as_text=True))
    for tag, attrs in page.tags:
        assert tag not in ("img", "iframe", "object", "embed", "inline-script", "style"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)  # the CSP forbids inline styles anyway
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        if tag == "svg":
            assert attrs.get("class") == "chart", attrs
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            if name in attrs:
                assert _harmless_link(attrs[name]), (tag, name, attrs[name])
    return "".join(page.text)


def _harmless_link(value: str) -> bool:
    """A link that cannot run script: same-site, http(s), or the empty favicon `data:,`."""
    lowered = value.strip().lower()
    return lowered.startswith(("/", "?", "#", "http://", "https://")) or lowered == "data:,"


def test_crawled_titles_text_urls_and_sites_are_shown_as_text(hostile: FlaskClient) -> None:
    text = audit(hostile, "/?q=")
    assert TITLE in text  # shown, as text
    assert "alert('site')" in text  # the site name, as text
    text = audit(hostile, "/?q=semiconductor")
    assert "<svg onload=alert('text')>" in text  # the snippet, as text around <mark>


def test_only_http_urls_become_links(hostile: FlaskClient) -> None:
    text = audit(hostile, "/?q=")  # fails on any href that is not same-site or http(s)
    assert "Also published by javascript:alert('also')//" in " ".join(text.split())
    page = Audit()
    page.feed(hostile.get("/?q=").get_data(as_text=True))
    originals = [a["href"] for tag, a in page.tags if tag == "a" and "nofollow" in a.get("rel", "")]
    originals = [
        h
        for h in originals
        if not h.startswith(("https://ok.example/formula", "https://ok.example/p"))
    ]
    assert len(originals) == 3 and all(h.startswith("https://") for h in originals)
    for doc_id in ("xss-js", "xss-data", "xss-copy"):
        text = audit(hostile, f"/article/{doc_id}")
        assert "alert(" in text  # the URL is shown as text in the provenance


def test_authors_evidence_and_facet_values_are_escaped(hostile: FlaskClient) -> None:
    text = audit(hostile, "/article/xss-title")
    assert "<script>alert('author')</script>" in text
    text = audit(hostile, "/article/xss-facets")
    assert MARKUP in text  # the chain value and its evidence, as text
    text = audit(hostile, "/?q=")
    assert MARKUP.lower() in text.lower()  # the facet list and the badges


def test_reflected_parameters_are_escaped(hostile: FlaskClient) -> None:
    """What a link can make the page echo: the query, facet chips, dates, error messages."""
    audit(hostile, "/?q=%3Cscript%3Ealert(1)%3C/script%3E")
    # Refused (no such chain, no such country code), and the refusal echoes them escaped.
    audit(hostile, "/?chain=%3Cscript%3Ealert(1)%3C/script%3E", status=400)
    audit(hostile, "/?country=%22%3E%3Cimg%20src=x%3E", status=400)
    audit(hostile, "/?year=%3Cscript%3E", status=400)
    audit(hostile, "/?q=%22%3Cscript%3Ealert(1)", status=400)  # the "did you mean" fix link
    audit(hostile, "/article/%3Cscript%3Ealert(1)%3C%2Fscript%3E", status=404)


def test_no_csv_cell_can_run_as_a_formula(hostile: FlaskClient) -> None:
    """Read as a spreadsheet would, whether it splits on "," or on ";": no cell starts (after
    leading white space) with a formula character."""
    import csv
    import io

    text = hostile.get("/api/export.csv?q=formula").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    titles = {row[2] for row in rows[1:]}
    assert len(titles) == 6 and all(t.startswith("'") for t in titles)
    for row in rows:
        for cell in row:
            for piece in cell.split(";"):
                assert piece.lstrip()[:1] not in ("=", "+", "-", "@") or cell.startswith("'")
    # Text cells are quoted too, so a separator inside one does not split it.
    assert '"\'a;=1+1"' in text


def test_ids_are_url_encoded_in_links(hostile: FlaskClient) -> None:
    html = hostile.get("/?q=path").get_data(as_text=True)
    assert 'href="/article/..%2F..%2Fetc%2Fpasswd"' in html
    assert "/article/../" not in html
    page = hostile.get("/article/..%2F..%2Fetc%2Fpasswd")
    assert page.status_code == 200 and "Path story" in page.get_data(as_text=True)


def test_the_api_returns_the_same_fields_as_data(hostile: FlaskClient) -> None:
    response = hostile.get("/api/search?q=&per_page=100")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    hits = {h["id"]: h for h in response.get_json()["results"]}
    shown = hits.get("xss-title") or hits["xss-copy"]
    assert shown["title"] == TITLE  # exactly as crawled: escaping is the page's job
    assert hits["xss-js"]["url"] == "JavaScript:alert('js')"
    assert hits["xss-site"]["site"] == "<script>alert('site')<"
    for hit in hits.values():  # the snippet is HTML: escaped text, <mark> the only markup
        assert "<" not in hit["snippet"].replace("<mark>", "").replace("</mark>", "")
    matched = hostile.get("/api/search?q=semiconductor").get_json()["results"][0]
    assert "<mark>" in matched["snippet"] and "&lt;svg onload" in matched["snippet"]


PAGES = [
    ("/", 200),
    ("/?q=chip", 200),
    ("/article/xss-title", 200),
    ("/article/none", 404),
    ("/?q=%22open", 400),
    ("/?" + "chain=x&" * 3000, 414),
    ("/stats", 200),
]


@pytest.mark.parametrize(("url", "status"), PAGES)
def test_every_page_carries_the_browser_defences(
    hostile: FlaskClient, url: str, status: int
) -> None:
    response = hostile.get(url)
    assert response.status_code == status and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_create_app_never_enables_debug(
    monkeypatch: pytest.MonkeyPatch, hostile_index: Path
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({"INDEX_DIR": str(hostile_index)})
    assert not app.debug

    def boom() -> Any:
        raise RuntimeError("secret detail /etc/innosearch")

    app.add_url_rule("/api/boom", view_func=boom)
    response = app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error: the problem was logged"}
    get_index(app).close()


def test_the_server_binds_loopback_by_default_and_is_waitress(tmp_path: Path) -> None:
    from innosearch.config import Config

    assert Config().host == "127.0.0.1"
    assert inspect.signature(make_server).parameters["host"].default == "127.0.0.1"
    index = tmp_path / "index"
    index_articles(index, [Article.from_dict(ARTICLES[2])])
    server = Server(index)  # `innosearch serve --index DIR --port 0`, no --host
    try:
        assert server.url.startswith("http://127.0.0.1:")
        response = requests.get(server.url + "api/search?q=battery", timeout=10)
        assert response.status_code == 200
        assert response.headers["Server"] == "innosearch"  # waitress; never Werkzeug's server
        missing = requests.get(server.url + "api/nothing", timeout=10)
        assert missing.status_code == 404 and "Werkzeug" not in missing.text
    finally:
        server.close()
