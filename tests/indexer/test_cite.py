"""Citable result sets on both backends: a citation's fingerprint is the SHA-256 of its sorted
story ids, its ids are recorded, and a later check counts exactly what was added and removed,
through re-indexing, deletions and (for Whoosh) a rebuild that replaces the index's folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from crawler.article import Article
from indexer import cite
from indexer.backend import WhooshIndex
from indexer.postgres.index import PostgresIndex
from indexer.request import SearchRequest
from indexer.whoosh.write import write_items
from tests.conftest import fixture_articles
from tests.pg_server import Server


@pytest.fixture(params=["whoosh", "postgres"])
def writable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A new index of the fixture articles that this test may change, on each backend."""
    items = [(a, None, None, False) for a in fixture_articles()]
    if request.param == "postgres":
        server: Server = request.getfixturevalue("pg_server")
        index: Any = PostgresIndex(server.url(server.create_database()), migrate_schema=True)
    else:
        write_items(tmp_path / "index", items, None)
        index = WhooshIndex(tmp_path / "index")
    if request.param == "postgres":
        index.write(items)
    yield index
    index.close()


def test_the_fingerprint_is_sha256_over_the_sorted_ids_a_line_each() -> None:
    expected = hashlib.sha256(b"a\nb\n\xc3\xa9\n").hexdigest()
    assert cite.fingerprint(["é", "b", "a"]) == expected
    assert cite.fingerprint([]) == hashlib.sha256(b"").hexdigest()
    assert cite.unpack(cite.pack(["b", "a"])) == ["a", "b"] and cite.unpack(cite.pack([])) == []


def test_a_citation_states_the_search_and_its_set(backend: Any) -> None:
    request = SearchRequest(q="chip OR battery", filters={"chain": ["integrated-circuits"]})
    data, ids = cite.cite_search(backend, request)
    rows = [r["id"] for r in backend.export_rows(request)]
    assert sorted(ids) == sorted(rows) and data["stories"] == len(rows) >= 1
    assert data["sha256"] == cite.fingerprint(rows)
    assert data["index"] == {"backend": backend.name, "generation": backend.generation()}
    assert (
        data["filters"] == {"chain": ["integrated-circuits"]} and data["query"] == "chip OR battery"
    )


def test_a_later_check_counts_what_was_added_and_removed(writable: Any) -> None:
    request = SearchRequest()
    data, ids = cite.cite_search(writable, request)
    assert writable.record_citation(data["sha256"], ids)
    assert writable.record_citation(data["sha256"], ids)  # citing again changes nothing
    same = cite.compare(ids, data["sha256"], data["stories"], writable.cited_ids(data["sha256"]))
    assert same == {
        "same": True, "stories_then": len(ids), "stories_now": len(ids), "recorded": True,
        "added": 0, "removed": 0,
    }  # fmt: skip
    removed = next(a for a in fixture_articles() if a.id in ids)
    added = [
        Article(url=f"https://new.example/{n}", id=f"new-{n}", title=f"Robot arm plant {n}",
                text=f"A new robotics plant opened, story number {n} of several. " * 4)
        for n in range(3)
    ]  # fmt: skip
    items = [(a, None, None, False) for a in added] + [(replace(removed), None, None, True)]
    writable.write(items)
    now, now_ids = cite.cite_search(writable, request)
    check = cite.compare(
        now_ids, data["sha256"], data["stories"], writable.cited_ids(data["sha256"])
    )
    assert not check["same"] and (check["added"], check["removed"]) == (3, 1)
    assert check["stories_now"] == len(ids) + 2 == now["stories"]
    # A citation this index never recorded: the fingerprint and the count only.
    stranger = cite.compare(now_ids, "0" * 64, 5, writable.cited_ids("0" * 64))
    assert stranger["recorded"] is False and "added" not in stranger and not stranger["same"]


def test_the_whoosh_store_sits_beside_the_index_and_a_read_only_folder_loses_nothing(
    tmp_path: Path,
) -> None:
    from indexer.whoosh.write import index_location

    write_items(tmp_path / "index", [(a, None, None, False) for a in fixture_articles()], None)
    index = WhooshIndex(tmp_path / "index")
    try:
        data, ids = cite.cite_search(index, SearchRequest())
        assert index.record_citation(data["sha256"], ids)
    finally:
        index.close()
    # Not inside the index's version folder, which `innosearch index --rebuild` replaces.
    assert (tmp_path / "index.citations.sqlite").is_file()
    assert not list(index_location(tmp_path / "index").glob("*citations*"))
    store = cite.CitationStore(tmp_path / "missing-folder" / "citations.sqlite")
    assert store.record(data["sha256"], ids) is False and store.ids(data["sha256"]) is None
