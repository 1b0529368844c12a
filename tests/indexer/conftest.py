"""Fixtures of the indexer tests: the fixture articles indexed by each backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.backend import WhooshIndex


@pytest.fixture(params=["whoosh", "postgres"])
def backend(request: pytest.FixtureRequest, built_index: Path) -> Any:
    """The fixture articles in a Whoosh index, then in a PostgreSQL one: a test taking it
    checks what both backends must answer alike."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_built_index")
    index = WhooshIndex(built_index)
    request.addfinalizer(index.close)
    return index


@pytest.fixture(params=["whoosh", "postgres"])
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A new empty index in a folder, then in a new PostgreSQL database: a test taking it
    writes and checks what both backends must answer alike."""
    if request.param == "postgres":
        from indexer.postgres.index import PostgresIndex

        server = request.getfixturevalue("pg_server")
        index: Any = PostgresIndex(server.url(server.create_database()), migrate_schema=True)
    else:
        index = WhooshIndex(tmp_path / "index")
    request.addfinalizer(index.close)
    return index
