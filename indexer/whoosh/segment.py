"""A bulk build's segment writer: Whoosh's segment, written without its generic posting pool.

Whoosh's `SegmentWriter` turns every posting into a tuple (field, term, document, weight,
value), adds it to a pool that sorts all of them at the end (2.8 million at 25,000 articles),
then groups the sorted tuples back into terms to write them. Profiling a bulk build (py-spy,
issue 19) put that pool and the generic per-field indexing at a third of a sub-writer's time.
A sub-writer adds documents in order, so each term's postings arrive already sorted by
document: `SegmentWriter` here appends them to the term's list as they come and, at the end,
sorts only the terms. Title and text are analysed once each by `EnglishAnalyzer.positions`;
the other indexed fields (ids, keywords, the day number) go through Whoosh's own field code,
its answers kept for values that repeat (sites, years, chains).

What it writes is what Whoosh's writer writes: the same terms, postings, stored fields,
lengths and columns (tests/indexer/test_segment.py compares every posting and stored field).
The postings held grow with the segment: past the memory limit of the build the writer is
`full`, and its caller (a sub-writer, indexer/whoosh/subwriters.py) finishes the segment and
starts another, rather than sorting runs on disk and merging them in Python through Whoosh's
pool. Only documents this writer leaves to Whoosh (boosts, term vectors) go through the pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from whoosh.analysis import IDTokenizer
from whoosh.fields import ID
from whoosh.formats import Existence
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from indexer.whoosh.analysis import ONE_PLACE, EnglishAnalyzer, FastPositions
from indexer.whoosh.codec import field_lengths_of

# Bytes a posting held here takes (three list slots, its weight, its encoded value), for the
# memory limit: 87 measured with tracemalloc over the first 5,000 articles of bench/corpus.py,
# where Whoosh's pool counts about 200 for its tuple.
POSTING_BYTES = 90
# Values of one field whose index terms are kept (sites, years, chains repeat; ids do not).
_CACHED_VALUES = 4096


class SegmentWriter(WhooshSegmentWriter):
    """Whoosh's segment writer for documents added in order (see the module docstring)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        # field -> term -> [docnum, weight, value, docnum, weight, value, ...]
        self._terms: dict[str, dict[str, list]] = {}
        self._held = 0  # postings in `_terms`
        self._limit = self.pool.limit // POSTING_BYTES
        self._spilled = False
        self._indexed: dict[str, dict[Any, list[tuple]]] = {}  # field -> value -> its terms
        self._plain = {name for name, f in self.schema.items() if _is_plain_id(f)}  # `_index`
        # Term vectors and spelling words are left to Whoosh (our schema has neither).
        self._lean = not any(f.vector or f.separate_spelling() for _, f in self.schema.items())

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        schema = self.schema
        perdoc = self.perdocwriter
        docnum = self.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        if len(names) != len(fields) or not self._lean:  # boosts, _stored_ values, vectors
            self._spill()
            super().add_document(**fields)
            return
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        held = 0
        one_place = ONE_PLACE.get
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if field.indexed:
                terms = self._terms.get(name)
                if terms is None:
                    terms = self._terms[name] = {}
                    self.pool.fieldnames.add(name)
                fmt = field.format
                if type(fmt) is FastPositions and isinstance(field.analyzer, EnglishAnalyzer):
                    # FastPositions.word_values, inlined: a term seen once (most of them) takes
                    # its encoding from the cache by position.
                    boost = fmt.field_boost
                    encode = fmt.encode
                    found, length = field.analyzer.indexed(value)
                    for term, places in found.items():
                        if len(places) == 1:
                            weight = boost
                            encoded = one_place(places[0]) or encode(places)
                        else:
                            weight = len(places) * boost
                            encoded = encode(places)
                        postings = terms.get(term)
                        if postings is None:
                            terms[term] = [docnum, weight, encoded]
                        else:
                            postings += (docnum, weight, encoded)
                    held += len(found)
                else:
                    scorable = field.scorable
                    for tbytes, freq, weight, vbytes in self._index(name, field, value):
                        if scorable:
                            length += freq
                        postings = terms.get(tbytes)
                        if postings is None:
                            terms[tbytes] = [docnum, weight, vbytes]
                        else:
                            postings += (docnum, weight, vbytes)
                        held += 1
            perdoc.add_field(name, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1
        self._held += held

    @property
    def full(self) -> bool:
        """Whether the postings held have reached the memory limit: time for a new segment."""
        return self._held > self._limit

    def _index(self, name: str, field: Any, value: Any) -> Sequence[tuple]:
        """Whoosh's (term bytes, frequency, weight, value) for a field's value, kept for values
        that repeat. An ID field's value (ids, URLs, group keys, dates: unique, so never kept)
        is its one term, as Whoosh's IDTokenizer and Existence format give it, without their
        token objects and generators."""
        if name in self._plain and type(value) is str:
            return ((value.encode("utf-8"), 1, field.format.field_boost, b""),)
        known = self._indexed.setdefault(name, {})
        try:
            return known[value]
        except KeyError:
            pass
        except TypeError:  # a list of values: not kept
            return list(field.index(value))
        found = list(field.index(value))
        if len(known) >= _CACHED_VALUES:
            known.clear()
        known[value] = found
        return found

    def _spill(self) -> None:
        """Moves the postings held here to Whoosh's pool, for a document Whoosh's own code adds
        (see `add_document`); the segment is then written from the pool."""
        add = self.pool.add
        for name, terms in self._terms.items():
            for term, postings in terms.items():
                btext = term.encode("utf-8") if isinstance(term, str) else term
                for i in range(0, len(postings), 3):
                    add((name, btext, postings[i], postings[i + 1], postings[i + 2]))
        self._terms.clear()
        self._held = 0
        self._spilled = True

    def _flush_segment(self) -> None:
        if self._spilled:
            self._spill()
            super()._flush_segment()
            return
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        writer = self.fieldwriter
        try:
            for name in sorted(self._terms):
                terms = self._terms.pop(name)
                writer.start_field(name, self.schema[name])
                field_lengths = field_lengths_of(lengths, name)
                keyed = sorted(
                    (
                        (term.encode("utf-8") if isinstance(term, str) else term, postings)
                        for term, postings in terms.items()
                    ),
                    key=itemgetter(0),
                )
                del terms
                for btext, postings in keyed:
                    writer.add_term(
                        btext, postings[0::3], postings[1::3], postings[2::3], field_lengths
                    )
                writer.finish_field()
            writer.close()
        finally:
            if lengths is not None:
                lengths.close()


def _is_plain_id(field: Any) -> bool:
    """Whether a field indexes a value as one term, as it is (Whoosh's ID field)."""
    return (
        type(field) is ID
        and type(field.analyzer) is IDTokenizer
        and type(field.format) is Existence
    )
