"""Request limits: a per-client rate limit on pages and /api/*, and caps on what a request
may carry.

A script looping without a pause gets 429 with Retry-After and a JSON error; a researcher
clicking around never sees one; an oversized URL or body is refused before anything reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.web.test_search_under_commits import loopback_server
from web import create_app, get_index
from web.ratelimit import TokenBucket, client_key

SOMEONE = {"REMOTE_ADDR": "203.0.113.7"}  # a client out on the internet (TEST-NET-3)
SOMEONE_ELSE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture
def limited(built_index: Path) -> Iterator[Flask]:
    """An app allowing 1 request a second in bursts of 3: small numbers, quick tests."""
    app = create_app(
        {"INDEX_DIR": str(built_index), "RATE_LIMIT_PER_SECOND": 1, "RATE_LIMIT_BURST": 3}
    )
    yield app
    get_index(app).close()


def statuses(client: FlaskClient, url: str, n: int, env: dict[str, str] = SOMEONE) -> list[int]:
    codes = []
    for _ in range(n):
        with client.get(url, environ_base=env) as response:  # closes a static file's handle
            codes.append(response.status_code)
    return codes


def test_a_burst_then_429_with_retry_after_and_a_json_error(limited: Flask) -> None:
    client = limited.test_client()
    assert statuses(client, "/api/search?q=chip", 3) == [200, 200, 200]
    refused = client.get("/api/search?q=chip", environ_base=SOMEONE)
    assert refused.status_code == 429
    assert refused.is_json and "too many requests" in refused.get_json()["error"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    # Another address has its own bucket; the limited one still is.
    assert statuses(client, "/api/timeline", 3, SOMEONE_ELSE) == [200, 200, 200]
    assert client.get("/api/timeline", environ_base=SOMEONE).status_code == 429


def test_pages_share_the_limit_but_static_files_and_health_checks_do_not(
    limited: Flask,
) -> None:
    """The page `/` runs the same search as the API, so it draws on the same bucket (and
    answers 429 as a page); its stylesheet and a monitor's health check never do."""
    client = limited.test_client()
    assert statuses(client, "/?q=chip", 2) + statuses(client, "/api/search", 1) == [200] * 3
    refused = client.get("/?q=chip", environ_base=SOMEONE)
    assert refused.status_code == 429 and "text/html" in refused.headers["Content-Type"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert statuses(client, "/healthz", 5) == [200] * 5
    assert statuses(client, "/static/style.css", 5) == [200] * 5


def test_an_export_counts_once_however_long_it_streams(limited: Flask) -> None:
    client = limited.test_client()
    export = client.get("/api/export.jsonl", environ_base=SOMEONE)
    assert export.status_code == 200 and len(export.get_data(as_text=True).splitlines()) == 7
    csv = client.get("/api/export.csv", environ_base=SOMEONE)
    assert csv.status_code == 200 and len(csv.get_data(as_text=True).splitlines()) == 8
    assert statuses(client, "/api/search", 2) == [200, 429]  # 3 tokens: two exports and one


def test_the_defaults_never_bother_a_browsing_researcher(app: Flask) -> None:
    """Defaults: 20 a second in bursts of 60. A page and its JSON twin, fetched 25 times as
    fast as the test client can, stay far inside that."""
    client = app.test_client()
    for _ in range(25):
        assert client.get("/?q=chip", environ_base=SOMEONE).status_code == 200
        assert client.get("/api/search?q=chip", environ_base=SOMEONE).status_code == 200
    assert app.config["RATE_LIMIT_PER_SECOND"] == 20 and app.config["RATE_LIMIT_BURST"] == 60


def test_the_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2, burst=4)
    assert [bucket.take("a", now=100.0) for _ in range(4)] == [0.0] * 4
    assert bucket.take("a", now=100.0) == pytest.approx(0.5)  # one token per half second
    assert bucket.take("a", now=100.6) == 0.0
    assert bucket.take("b", now=100.6) == 0.0  # another client, a full bucket
    assert bucket.take("a", now=1000.0) == 0.0  # refilled, but never beyond the burst
    assert [bucket.take("a", now=1000.0) for _ in range(4)][-1] > 0


def test_clients_are_told_apart_by_address_and_ipv6_by_its_64() -> None:
    assert client_key("203.0.113.7") != client_key("203.0.113.8")
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:203.0.113.7") == client_key("203.0.113.7")


def test_loopback_is_not_limited_and_a_forged_forwarded_for_changes_nothing(
    limited: Flask,
) -> None:
    """Loopback is the machine's own users or a proxy; X-Forwarded-For from anyone but the
    TRUSTED_PROXY is the client's own writing, so it is ignored."""
    client = limited.test_client()
    assert statuses(client, "/api/search", 6, {"REMOTE_ADDR": "127.0.0.1"}) == [200] * 6
    forged = [
        client.get(
            "/api/search", environ_base=SOMEONE, headers={"X-Forwarded-For": f"192.0.2.{n}"}
        ).status_code
        for n in range(4)
    ]
    assert forged == [200, 200, 200, 429]


def test_query_string_over_the_cap_answers_414(client: FlaskClient) -> None:
    long = "chain=" + "x" * 99
    url = "/api/search?" + "&".join([long] * 200)  # 21 kB, each value within its limits
    response = client.get(url)
    assert response.status_code == 414 and "at most 16384" in response.get_json()["error"]
    page = client.get("/?" + "&".join([long] * 200))
    assert page.status_code == 414 and "text/html" in page.headers["Content-Type"]


def test_a_body_over_the_cap_answers_413_before_it_is_read(client: FlaskClient) -> None:
    response = client.get("/api/search", data=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413 and response.get_json()["error"]
    assert client.get("/api/search", data=b"x" * 100).status_code == 200  # small: ignored


# A real server on loopback: behind a proxy (TRUSTED_PROXY) the client is the address the
# proxy forwards.


@pytest.fixture
def served(built_index: Path) -> Iterator[str]:
    config = {"RATE_LIMIT_PER_SECOND": 1, "RATE_LIMIT_BURST": 2, "TRUSTED_PROXY": "127.0.0.1"}
    with loopback_server(built_index, config) as url:
        yield url


def test_behind_a_proxy_each_forwarded_client_has_its_own_limit(served: str) -> None:
    def get(client: str) -> Any:
        headers = {"X-Forwarded-For": client}
        return requests.get(served + "api/search?q=chip", headers=headers, timeout=10)

    assert [get("203.0.113.7").status_code for _ in range(2)] == [200, 200]
    refused = get("203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"].startswith("too many requests")
    assert get("198.51.100.20").status_code == 200
    direct = requests.get(served + "api/search", timeout=10)  # the proxy's own address
    assert direct.status_code == 200
