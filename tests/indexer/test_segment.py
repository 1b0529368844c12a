"""A bulk build's segment writer writes what Whoosh's own writer writes, on real articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.reading import IndexReader

from crawler.article import Article
from indexer.document import to_document
from indexer.whoosh.codec import FastW3Codec
from indexer.whoosh.schema import make_schema
from indexer.whoosh.segment import SegmentWriter
from tests.indexer.test_codec import _term_stats


def labelled_articles(shared: Path) -> list[Article]:
    """The 500 hand-labelled real news articles of ../shared/data/labels."""
    articles = []
    for name in ("facets-dev.jsonl", "facets-train.jsonl"):
        for line in (shared / "data" / "labels" / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            articles.append(
                Article(
                    id=record["id"],
                    url=record["url"],
                    title=record["title"],
                    text=record["text"],
                    published=record.get("published"),
                )
            )
    return articles


def _build(path: Path, documents: list[dict], ours: bool, limitmb: int) -> whoosh_index.Index:
    ix = whoosh_index.create_in(path, make_schema())
    options = {"codec": FastW3Codec(), "compound": False, "limitmb": limitmb}
    writer = SegmentWriter(ix, **options) if ours else ix.writer(**options)
    for doc in documents:
        writer.add_document(**doc)
    writer.commit()
    return whoosh_index.open_dir(path)


def _everything(reader: IndexReader) -> dict:
    """Every posting, stored field, field length, column value and term statistic."""
    count = reader.doc_count_all()
    return {
        "postings": list(reader.iter_postings()),
        "stored": list(reader.all_stored_fields()),
        "lengths": {
            f: [reader.doc_field_length(d, f) for d in range(count)] for f in ("title", "text")
        },
        "totals": {f: reader.field_length(f) for f in ("title", "text")},
        "columns": {f: list(reader.column_reader(f)) for f in ("site", "dup", "pubday")},
        "stats": _term_stats(reader),
    }


# boosted: every 50th document has a boost, which this writer leaves to Whoosh's code: the
# postings held so far go to Whoosh's pool, which with limitmb 1 sorts them in runs on disk.
@pytest.mark.parametrize("limitmb, boosted", [(256, False), (1, True)])
def test_the_same_segment_as_whooshs_writer(
    tmp_path: Path, shared: Path, limitmb: int, boosted: bool
) -> None:
    documents = []
    for number, article in enumerate(labelled_articles(shared)):
        doc = to_document(article)
        doc["site"] = ("herald", "courier", "")[number % 3]  # a repeated and an empty value
        doc["dup"] = documents[0]["id"] if number % 9 == 1 else article.id
        if boosted and number % 50 == 7:
            doc["_boost"] = 2.0
        documents.append(doc)
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "ours").mkdir()
    stock = _build(tmp_path / "whoosh", documents, ours=False, limitmb=limitmb)
    ours = _build(tmp_path / "ours", documents, ours=True, limitmb=limitmb)
    try:
        with stock.reader() as a, ours.reader() as b:
            expected, got = _everything(a), _everything(b)
        assert len(expected["postings"]) > 50_000 and len(expected["stored"]) == 500
        for part in expected:
            assert got[part] == expected[part], part
    finally:
        stock.close()
        ours.close()
