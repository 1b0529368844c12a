"""Schemathesis over every operation of `/api/openapi.json`: no 5xx, and every answer as documented.

The document is read from the app itself, then each operation gets generated requests, valid
and invalid, sent to the Flask app over WSGI against the real fixture index. Beyond the
built-in checks (no server error, documented status codes, content types, headers and bodies;
invalid data refused, by its size too), a schema-valid request must be accepted, except for
what a schema cannot state (see `accepted_unless_the_query_is_wrong`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import Response
from schemathesis.specs.openapi.checks import positive_data_acceptance

from web import create_app, get_index

# The document needs no index: the operations are read from a throwaway app, the requests go
# to the `fuzz_app` below, built over the fixture index.
# Invalid data may also be refused for its size (413, 414) before it is read.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [400, 404, 413, 414]}}}
)
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    create_app({"INDEX_DIR": "/nonexistent-innosearch-index"}),
    config=CONFIG,
)


@pytest.fixture(scope="module")
def fuzz_app(built_index: Path) -> Iterator[Flask]:
    """The app with the rate limit off: the fuzzer sends hundreds of requests a second."""
    app = create_app({"INDEX_DIR": str(built_index), "RATE_LIMIT_PER_SECOND": 0})
    yield app
    get_index(app).close()


def accepted_unless_the_query_is_wrong(app: Flask) -> Callable[..., None]:
    """Schemathesis' positive_data_acceptance, except for what a schema cannot state: mistakes
    in the query text, and a `from` day after the `to` day (a relation of two parameters).

    Such a 400 passes when the request is accepted without `q` (with one plain query where
    one is required) and, if the range was the
    problem, with `from` and `to` swapped: so any other refusal of valid data still fails.
    """

    def check(ctx: schemathesis.CheckContext, response: Response, case: schemathesis.Case) -> None:
        meta = case.meta
        if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
            return
        sent = urlsplit(response.request.url)
        if response.status_code == 414:  # the schema bounds each value, not the whole URL
            assert len(sent.query) > app.config["MAX_QUERY_STRING"]
            return
        assert response.status_code == 400, f"a valid request answered {response.status_code}"
        assert response.json()["error"], "a 400 without a message"
        args = [(k, v) for k, v in parse_qsl(sent.query, keep_blank_values=True) if k != "q"]
        if sent.path.startswith("/api/compare"):  # compares queries: an ordinary one instead
            args.append(("q", "chip"))
        again = app.test_client().get(sent.path, query_string=args)
        if again.status_code == 400 and "'from' is after 'to'" in again.get_json()["error"]:
            swap = {"from": "to", "to": "from"}
            args = [(swap.get(k, k), v) for k, v in args]
            again = app.test_client().get(sent.path, query_string=args)
        assert again.status_code < 400, (
            f"a schema-valid request answered {again.status_code} without q: "
            f"{again.get_data(as_text=True)[:200]}"
        )

    return check


@schema.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case, fuzz_app: Flask) -> None:
    case.call_and_validate(
        app=fuzz_app,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[accepted_unless_the_query_is_wrong(fuzz_app)],
    )
