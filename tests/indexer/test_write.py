"""Writing the index: a bulk build (parallel sub-writers) gives the same index as one writer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh.index import TOC

from crawler.article import Article
from indexer import SearchRequest
from indexer.document import to_document
from indexer.enrich import chain_model
from indexer.enrich.lexicon import PACKAGE_DATA
from indexer.whoosh import LiveIndex, index_articles, search
from indexer.whoosh import write as write_module
from indexer.whoosh.schema import make_schema
from indexer.whoosh.write import index_location
from tests.conftest import fixture_articles
from tests.indexer.test_segment import labelled_articles


def _many(n: int) -> list[Article]:
    """`n` distinct articles: the fixtures repeated under new ids."""
    base = fixture_articles()
    out = []
    for i in range(n):
        a = base[i % len(base)]
        out.append(
            Article.from_dict({**a.to_dict(), "id": f"{a.id}-{i}", "url": f"{a.url}?copy={i}"})
        )
    return out


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes a run of a few articles count as a bulk build, in batches for every sub-writer."""
    monkeypatch.setattr(write_module, "BULK_MIN", 5)
    monkeypatch.setitem(write_module._BULK_WRITER, "batchsize", 4)


def _everything(path: Path, q: str = "") -> dict:
    live = LiveIndex(path)
    try:
        return search(live, SearchRequest(q=q, per_page=100))
    finally:
        live.close()


def _segments(path: Path) -> int:
    ix = whoosh_index.open_dir(index_location(path))
    try:
        return len(ix._segments())
    finally:
        ix.close()


def _strays(path: Path) -> list[str]:
    """Files and folders of the live version that no committed segment owns: a half-written
    or cancelled segment, temporary files."""
    here = index_location(path)
    ix = whoosh_index.open_dir(here)
    try:
        owned = {s.segment_id() for s in ix._segments()}
        pattern = TOC._segment_pattern(ix.indexname)
    finally:
        ix.close()
    return sorted(
        entry.name
        for entry in here.iterdir()
        if entry.is_dir() or ((m := pattern.match(entry.name)) and m.group(1) not in owned)
    )


def test_bulk_build_gives_the_same_documents_and_facets(tmp_path: Path, small_bulk: None) -> None:
    articles = _many(30)
    bulk = index_articles(tmp_path / "bulk", articles)
    write_module.BULK_MIN = 10_000  # the same articles through one writer
    single = index_articles(tmp_path / "single", articles)
    assert bulk.added == single.added == 30 and bulk.total == single.total == 30
    assert _segments(tmp_path / "bulk") > 1 and _segments(tmp_path / "single") == 1
    a, b = _everything(tmp_path / "bulk"), _everything(tmp_path / "single")
    assert a["total"] == b["total"]
    assert a["facets"] == b["facets"]
    assert sorted(r["id"] for r in a["results"]) == sorted(r["id"] for r in b["results"])


QUERIES = [  # each with every hit on one page: equal sort keys may fall on either side of a page
    SearchRequest(q="semiconductor chip factory", per_page=100),
    SearchRequest(q='"prime minister"', per_page=100),
    SearchRequest(q="oil OR gold", sort="date", per_page=100),
    SearchRequest(q="china", filters={"chain": ["software"]}, per_page=100),
    SearchRequest(q="investor* gold", any_word=True, per_page=100),
    SearchRequest(q="", filters={"country": ["DE"]}, per_page=100),
]


def _answer(found: dict) -> tuple[dict, list, list]:
    """A search's answer: the rest, each hit's sort key in order, and the hits by id."""
    results = found.pop("results")
    found.pop("took_ms", None)
    keys = [(r["score"], r["published"]) for r in results]
    return found, keys, sorted(results, key=lambda r: r["id"])


# limitmb 1 (some 11,000 postings): each sub-writer fills several segments, as at a million
# articles with the 2 GB of this machine.
@pytest.mark.parametrize("limitmb", [None, 1])
def test_a_bulk_build_answers_every_search_as_one_writer_does(
    tmp_path: Path,
    shared: Path,
    small_bulk: None,
    monkeypatch: pytest.MonkeyPatch,
    limitmb: int | None,
) -> None:
    """500 real articles through the sub-writers and through one writer: the same hits with the
    same scores, facets, totals and snippets, in the same order but for ties (equal scores or
    dates follow the documents' numbers, which sub-writers give in another order)."""
    monkeypatch.setitem(write_module._BULK_WRITER, "batchsize", 50)
    if limitmb:
        monkeypatch.setitem(write_module._BULK_WRITER, "limitmb", limitmb)
    articles = labelled_articles(shared)
    assert index_articles(tmp_path / "bulk", articles).total == len(articles)
    monkeypatch.setattr(write_module, "BULK_MIN", 10_000)
    index_articles(tmp_path / "single", articles)
    segments = _segments(tmp_path / "bulk")
    assert segments >= 3 * write_module._PROCS if limitmb else 1 < segments <= write_module._PROCS
    assert _segments(tmp_path / "single") == 1
    assert _strays(tmp_path / "bulk") == []
    bulk, single = LiveIndex(tmp_path / "bulk"), LiveIndex(tmp_path / "single")
    try:
        for request in QUERIES:
            a, b = _answer(search(bulk, request)), _answer(search(single, request))
            assert 0 < a[0]["total"] <= request.per_page, request  # every hit on the page
            assert a == b, request
    finally:
        bulk.close()
        single.close()


def test_bulk_build_is_searchable_with_phrases_and_snippets(
    tmp_path: Path, small_bulk: None
) -> None:
    index_articles(tmp_path / "ix", _many(30))
    live = LiveIndex(tmp_path / "ix")
    try:
        words = search(live, SearchRequest(q="semiconductor"))
        phrase = search(live, SearchRequest(q='"innovation week"'))
    finally:
        live.close()
    assert words["total"] > 0 and "<mark>" in words["results"][0]["snippet"]
    assert phrase["total"] > 0


def test_rerun_after_a_bulk_build_replaces_by_id(tmp_path: Path, small_bulk: None) -> None:
    articles = _many(30)
    index_articles(tmp_path / "ix", articles)
    changed = [Article.from_dict({**a.to_dict(), "title": "Updated " + a.title}) for a in articles]
    again = index_articles(tmp_path / "ix", changed)  # not empty any more: one writer, updates
    assert again.added == 30 and again.total == 30
    titles = {r["title"] for r in _everything(tmp_path / "ix")["results"]}
    assert titles and all(t.startswith("Updated ") for t in titles)


def test_small_runs_keep_one_writer(tmp_path: Path) -> None:
    summary = index_articles(tmp_path / "ix", fixture_articles())
    assert summary.added == summary.total == len(fixture_articles())
    assert _segments(tmp_path / "ix") == 1


def test_bulk_decision_keeps_every_item(small_bulk: None) -> None:
    class Empty:
        def doc_count_all(self) -> int:
            return 0

    for n, expected in ((7, True), (3, False)):
        items: Iterator = ((a, None, None, False) for a in _many(n))
        kept, bulk = write_module._bulk(Empty(), items)  # type: ignore[arg-type]
        assert [a.id for a, *_ in kept] == [a.id for a in _many(n)] and bulk is expected


def test_an_index_of_an_older_format_is_not_written_into(tmp_path: Path) -> None:
    index_articles(tmp_path / "ix", fixture_articles())
    state = index_location(tmp_path / "ix") / write_module.STATE_FILE
    state.write_text(json.dumps({"schema_version": 3, "store_seq": 0}), encoding="utf-8")
    with pytest.raises(write_module.IndexAccessError, match="index --rebuild"):
        index_articles(tmp_path / "ix", fixture_articles()[:1])
    assert _everything(tmp_path / "ix")["total"] == len(fixture_articles())  # still searchable


def test_an_index_from_before_site_names_keeps_answering_and_gains_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index built before the site_name and named fields: its documents show the host
    alone, and the next run adds the fields in place (no rebuild) for the articles it writes."""
    added = ("site_name", "named")

    def old_schema() -> Any:
        schema = make_schema()
        for name in added:
            schema.remove(name)
        return schema

    def old_document(*args: Any) -> dict:
        return {k: v for k, v in to_document(*args).items() if k not in added}

    with monkeypatch.context() as old:
        old.setattr(write_module, "make_schema", old_schema)
        old.setattr(write_module, "to_document", old_document)
        index_articles(tmp_path / "ix", fixture_articles())
    shown = {r["id"]: r["site_name"] for r in _everything(tmp_path / "ix")["results"]}
    assert set(shown.values()) == {None} and len(shown) == len(fixture_articles())
    fresh = Article(url="https://news.example.com/s", title="Solar", text="solar", site_name="N")
    index_articles(tmp_path / "ix", [fresh])
    shown = {r["id"]: r["site_name"] for r in _everything(tmp_path / "ix")["results"]}
    assert shown[fresh.id] == "N" and shown["chips-nanjing"] is None  # until written again
    # A reprint naming its source (dated earlier) defers to it, read from the added column.
    text = "A solar glass plant in Hefei starts its second furnace this week, the company says. "
    source = Article(url="https://wire.example/g", id="g", text=text * 4, published="2024-06-02")
    reprint = Article(
        url="https://herald.example/g",
        id="r",
        text=text * 4,
        published="2024-06-01",
        original_url="https://wire.example/g",
    )
    index_articles(tmp_path / "ix", [reprint, source])
    (hit,) = _everything(tmp_path / "ix", q="furnace")["results"]
    assert hit["id"] == "g" and [a["id"] for a in hit["also"]] == ["r"]


def test_an_index_enriched_with_other_facet_data_asks_for_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new chain model (or an edited vocabulary) would mix old and new facets in one index."""
    index_articles(tmp_path / "ix", fixture_articles())
    shipped = json.loads((PACKAGE_DATA / chain_model.MODEL_FILE).read_text(encoding="utf-8"))
    shipped["chains"]["ai"]["threshold"] += 1.0
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / chain_model.MODEL_FILE).write_text(json.dumps(shipped), "utf-8")
    monkeypatch.setenv("INNOSEARCH_TAXONOMY_DIR", str(tmp_path / "data"))
    with pytest.raises(write_module.IndexAccessError, match="index --rebuild"):
        index_articles(tmp_path / "ix", fixture_articles()[:1])
    assert _everything(tmp_path / "ix")["total"] == len(fixture_articles())  # still searchable
    assert index_articles(tmp_path / "new", fixture_articles()).added == len(fixture_articles())
    assert index_articles(tmp_path / "new", fixture_articles()[:1]).added == 1  # then updates


@pytest.mark.parametrize("bulk", [False, True])
def test_an_id_repeated_in_one_run_keeps_its_last_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    if bulk:
        monkeypatch.setattr(write_module, "BULK_MIN", 5)
    articles = _many(12)
    first = articles[3]
    last = Article.from_dict({**first.to_dict(), "title": "Corrected " + first.title})
    summary = index_articles(tmp_path / "ix", [*articles, last])
    ix = whoosh_index.open_dir(index_location(tmp_path / "ix"))
    try:
        with ix.searcher() as searcher:
            stored = [(d["id"], d["title"]) for d in searcher.all_stored_fields()]
    finally:
        ix.close()
    assert summary.total == len(stored) == 12
    assert dict(stored)[first.id] == last.title


def test_a_bulk_build_gives_the_collector_back_as_it_found_it(
    tmp_path: Path, small_bulk: None
) -> None:
    """The build collects less often (fewer passes over millions of short-lived objects); a
    long-running process (`schedule`, `worker`) must get its collector settings back."""
    import gc

    before = gc.get_threshold()
    assert index_articles(tmp_path / "bulk", _many(12)).added == 12
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_failed_bulk_build_leaves_no_segment_behind(
    tmp_path: Path, small_bulk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk build whose input fails after the sub-writers finished segments of their own
    (a small memory limit): the error reaches the caller, the index is still the empty one,
    and none of the files written meanwhile are left."""
    monkeypatch.setitem(write_module._BULK_WRITER, "limitmb", 0.05)  # a few articles a segment
    path = tmp_path / "ix"
    write_module.open_index(path, create=True).close()
    here = index_location(path)

    pattern = TOC._segment_pattern("MAIN")

    def segments_on_disk() -> int:
        return len({m.group(1) for p in here.iterdir() if (m := pattern.match(p.name))})

    def failing() -> Iterator[Article]:
        yield from _many(200)
        deadline = time.monotonic() + 60
        # One segment opened by the parent and each sub-writer, more once they started anew.
        while segments_on_disk() < 2 * write_module._PROCS + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert segments_on_disk() > write_module._PROCS + 1, "no sub-writer finished a segment"
        raise RuntimeError("the source failed")

    with pytest.raises(RuntimeError, match="the source failed"):
        index_articles(path, failing())
    assert _strays(path) == []
    assert _everything(path)["total"] == 0
    assert index_articles(path, _many(30)).total == 30  # and the next build goes through
