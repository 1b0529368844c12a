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
