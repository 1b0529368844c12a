"""Shared fixtures: a real index built from a few articles, the Flask app over it, and the CLI.

Tests that read ../shared/data find it through INNOSEARCH_SHARED (default: ../shared beside the
repository) and skip with a reason when it is missing, except on CI (CI=true), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crawler.article import Article
from indexer.whoosh import index_articles
from tests.pg_server import TEST_URL_ENV, PostgresMissing, Server, find_bindir, running
from tests.redis_server import RedisMissing
from tests.redis_server import running as redis_running

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_dir() -> Path:
    return Path(os.environ.get("INNOSEARCH_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared real data. Missing, the tests that need it skip on a developer's machine
    and fail on CI, whose quality gates must not pass by not running."""
    path = shared_dir()
    if not (path / "data").is_dir():
        message = f"shared data not found at {path} (set INNOSEARCH_SHARED)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def fixture_articles(name: str = "articles.jsonl") -> list[Article]:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return [Article.from_dict(json.loads(line)) for line in lines if line.strip()]


def syndicated_articles() -> list[Article]:
    """One story published by three sites (near-duplicates: one story, two copies): one site
    names itself, one declares only its host (which is no name), one names itself too."""
    story = (
        "The science park in Hefei opened a quantum computing laboratory on Monday with three "
        "universities and a state fund, and officials said the laboratory would train two "
        "hundred engineers a year for chip and sensor makers in the province."
    )
    return [
        Article(url="https://wire.example.com/q", id="orig", title="Hefei opens quantum lab",
                text=story, site_name="Example Wire"),
        Article(url="https://copy.example.net/q", id="copy", title="Quantum lab in Hefei",
                text=story + " By staff.", site_name="Copy.example.net"),
        Article(url="https://www.daily.example.org/q", id="late", title="Hefei quantum",
                text=story, site_name="The Daily"),
    ]  # fmt: skip


@contextlib.contextmanager
def whoosh_and_postgres(
    articles: Sequence[Article], folder: Path, server: Server, database: str
) -> Iterator[tuple[Any, Any]]:
    """The same articles in a Whoosh index at `folder` and in a new PostgreSQL database: the
    pair that tests of both backends' answers compare."""
    from indexer.backend import WhooshIndex
    from indexer.postgres.index import PostgresIndex

    index_articles(folder, articles)
    pg = PostgresIndex(server.url(server.create_database(database)), migrate_schema=True)
    pg.write((a, None, None, False) for a in articles)
    whoosh = WhooshIndex(folder)
    try:
        yield whoosh, pg
    finally:
        whoosh.close()
        pg.close()


@pytest.fixture(scope="session", params=["whoosh", "postgres"])
def typed_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/fixtures/typed.jsonl (the words researchers type: US, IT services, the who, 3-D
    printing, C++) in a Whoosh index, then a PostgreSQL one: the directory or the URL."""
    articles = fixture_articles("typed.jsonl")
    if request.param == "whoosh":
        path = tmp_path_factory.mktemp("typed")
        index_articles(path, articles)
        return str(path)
    from indexer.postgres.index import PostgresIndex

    server = request.getfixturevalue("pg_server")
    url = server.url(server.create_database("typed"))
    with PostgresIndex(url, migrate_schema=True) as index:
        index.write((a, None, None, False) for a in articles)
    return url


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Whoosh index of tests/fixtures/articles.jsonl, shared by read-only tests."""
    path = tmp_path_factory.mktemp("index")
    index_articles(path, fixture_articles())
    return path


@pytest.fixture
def app(built_index: Path) -> Iterator[Flask]:
    from web import create_app, get_index

    app = create_app({"INDEX_DIR": str(built_index), "TESTING": True})
    yield app
    get_index(app).close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A throwaway PostgreSQL server on loopback (or INNOSEARCH_TEST_PG), for the shared-index
    backend. Missing binaries skip the tests, except on CI, which must test both backends."""
    if not os.environ.get(TEST_URL_ENV):
        try:
            find_bindir()
        except PostgresMissing as e:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI must test the PostgreSQL backend: {e}")
            pytest.skip(str(e))
    with running() as server:
        yield server


@pytest.fixture(scope="session")
def pg_built_index(pg_server: Server) -> Iterator[Any]:
    """The fixture articles in a PostgreSQL index, shared by read-only tests (the twin of
    `built_index`)."""
    from indexer.postgres.index import PostgresIndex

    index = PostgresIndex(pg_server.url(pg_server.create_database("fixtures")), migrate_schema=True)
    index.write((a, None, None, False) for a in fixture_articles())
    yield index
    index.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on loopback (or INNOSEARCH_TEST_REDIS). Missing, the tests skip,
    except on CI, which must test the distributed crawl."""
    try:
        with redis_running() as url:
            yield url
    except RedisMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture
def prefix(redis_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A Redis key prefix of this test's own, removed afterwards."""
    from crawler.distributed.frontier import Frontier

    name = f"test:{request.node.name}"
    yield name
    frontier = Frontier.from_url(redis_url, name)
    frontier.clear()
    frontier.redis.close()


class CLI:
    """Runs `innosearch` in-process and captures what it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        from innosearch.cli import main

        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    return CLI(capsys)
