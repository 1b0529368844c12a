"""The faster writer's segments are plain Whoosh W3 segments holding the same postings."""

from __future__ import annotations

from array import array
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter
from whoosh.qparser import QueryParser
from whoosh.reading import IndexReader

from indexer.whoosh.codec import FastW3Codec, _PostingsWriter
from indexer.whoosh.schema import WEIGHTING, make_schema
from indexer.whoosh.write import to_document
from tests.conftest import fixture_articles

QUERIES = ["semiconductor", "innovation week", '"science park"', "chip OR vehicle", "innov*"]


def _build(path: Path, codec: W3Codec) -> whoosh_index.Index:
    path.mkdir()
    ix = whoosh_index.create_in(path, make_schema())
    writer = ix.writer(codec=codec)
    # Copies under other ids, so that common words have blocks of many postings (compressed)
    # and rare ones blocks of few (left as they are).
    for copy in range(10):
        for article in fixture_articles():
            writer.add_document(**{**to_document(article), "id": f"{article.id}-{copy}"})
    writer.commit()
    return whoosh_index.open_dir(path)


def _answers(ix: whoosh_index.Index) -> dict[str, list[tuple[str, float]]]:
    parser = QueryParser("text", ix.schema)
    with ix.searcher(weighting=WEIGHTING) as searcher:
        return {
            q: [(hit["id"], round(hit.score, 6)) for hit in searcher.search(parser.parse(q))]
            for q in QUERIES
        }


def test_same_hits_scores_and_lengths_as_the_stock_writer(tmp_path: Path) -> None:
    fast = _build(tmp_path / "fast", FastW3Codec())
    stock = _build(tmp_path / "stock", W3Codec())
    try:
        answers = _answers(fast)
        assert all(answers.values())  # every query finds something
        assert answers == _answers(stock)
        with fast.reader() as a, stock.reader() as b:
            for docnum in range(a.doc_count_all()):
                assert a.doc_field_length(docnum, "text") == b.doc_field_length(docnum, "text")
                assert a.stored_fields(docnum) == b.stored_fields(docnum)
            # Per-term statistics, which Whoosh uses to skip blocks that cannot reach the top.
            assert _term_stats(a) == _term_stats(b)
            # Every posting of every term, those kept in the term's entry (one posting) too.
            assert list(a.iter_postings()) == list(b.iter_postings())
            assert any(a.term_info(*term).is_inlined() for term in a.all_terms())
            for term in [b"semiconductor", b"week", b"park"]:
                assert list(a.postings("text", term).items_as("positions")) == list(
                    b.postings("text", term).items_as("positions")
                )
    finally:
        fast.close()
        stock.close()


def _term_stats(reader: IndexReader) -> dict[tuple[str, bytes], tuple]:
    return {
        (field, term): (
            info.weight(),
            info.doc_frequency(),
            info.min_length(),
            info.max_length(),
            info.max_weight(),
            info.min_id(),
            info.max_id(),
        )
        for field, term in reader.all_terms()
        for info in [reader.term_info(field, term)]
    }


def test_segments_name_the_stock_codec(tmp_path: Path) -> None:
    ix = _build(tmp_path / "fast", FastW3Codec())
    try:
        assert [type(segment.codec()) for segment in ix._segments()] == [W3Codec]
    finally:
        ix.close()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=130, unique=True).map(sorted),
    st.sampled_from([[1.0], [2.0], [1.0, 2.0], [0.5, 1.0, 3.0]]),
    st.data(),
)
def test_blocks_pack_as_the_stock_writer(ids: list[int], choices: list[float], data) -> None:
    # Document numbers become gaps and weights shrink to None, one value or all of them, as
    # the stock writer does: a block packed differently would read back other postings.
    weights = data.draw(st.lists(st.sampled_from(choices), min_size=len(ids), max_size=len(ids)))
    ours, stock = _PostingsWriter(None, 128), W3PostingsWriter(None, 128)
    for writer in (ours, stock):
        writer._ids, writer._weights = array("I", ids), array("f", weights)
    assert ours._mini_ids() == stock._mini_ids()
    assert ours._mini_weights() == stock._mini_weights()
