"""Whoosh's segment format (W3), written with less work; what it writes reads as plain W3.

Profiling a bulk build (bench/speed.py) showed two costs of Whoosh's writer that buy nothing:
- For every posting it reads the document's field length back from the lengths file it has
  just written, one seek and read each (a fifth of the time of writing postings). The lengths
  are read here once per field into a list.
- It compresses every block of postings with zlib, even a block of one posting that zlib
  cannot shrink (Whoosh meant to skip pickles under 20 bytes but the check is dead code). Most
  terms of a segment (names, numbers, ids) have one or two postings; their blocks are written
  as they are. The reader already handles both: each block records its compression.
Writing the postings of 3,000 benchmark articles took 0.81 ms an article with the stock codec,
0.63 with the lengths in memory and 0.55 with both changes.

Profiling the whole `innosearch index --from-jsonl` of 25,000 articles (py-spy, issue 19) then
showed the end of each sub-writer, writing its segment's postings, as a third of the build's CPU:
- Whoosh hands the postings to the field writer one by one (2.8 million at 25,000 articles),
  each through two method calls with four type assertions. `_FieldWriter.add_postings` takes
  each term's postings at once (itertools.groupby, zip) and fills the same blocks directly.
- Most terms have one posting (every id, URL and group key, and half the words), and each got
  a block of its own: a header, two pickles and a length. Whoosh can keep such a posting in the
  term's entry instead ("inlined", read back as a ListMatcher), but its writer calls a method
  that does not exist (`set_inline`), so the option is dead; `_PostingsWriter` inlines them.
- Whoosh pickles blocks with protocol 2, where every position list (bytes) becomes a call to
  `_codecs.encode`: a block of 128 postings pickled in 124 us to 4.6 KB, against 16 us and
  2.2 KB with protocol 4, and zlib then has half as much to compress.
Together, writing the postings of 5,000 articles went from 0.66 to 0.47 ms an article.

Segments name the stock `W3Codec`, so indexes written with this codec need nothing of it to be
read, merged or updated.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from collections.abc import Iterable, Sequence
from itertools import chain, groupby
from operator import itemgetter, sub
from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3PostingsWriter,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

# Blocks with fewer postings than this are not compressed.
COMPRESS_FROM = 8
# Whoosh pickles postings with protocol 2, which has no bytes type: each position list becomes a
# call to _codecs.encode. Protocol 4 writes bytes as they are (any protocol reads back).
PICKLE = 4
_NO_ID = 0xFFFFFFFF  # W3TermInfo's out-of-band "no id"


_TERM = itemgetter(0, 1)  # (fieldname, term bytes) of a posting


class FastW3Codec(W3Codec):
    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _LengthsInMemory(storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        stock = W3Codec(self._blocklimit, self._compression, self._inlinelimit)
        return W3Segment(stock, indexname)


class _LengthsInMemory(W3PerDocReader):
    """Field lengths from one read of each lengths column instead of one read per call."""

    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._lengths: dict[str, list[int] | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self.field_lengths(fieldname)
        return default if lengths is None else lengths[docnum]

    def field_lengths(self, fieldname: str) -> list[int] | None:
        """Every document's length in the field (None: the field keeps no lengths)."""
        try:
            return self._lengths[fieldname]
        except KeyError:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            lengths = None if reader is None else [byte_to_length(b) if b else 0 for b in reader]
            self._lengths[fieldname] = lengths
            return lengths


class _PostingsWriter(W3PostingsWriter):
    """Pickles blocks with a protocol that has bytes, leaves small blocks uncompressed, and
    keeps single postings in the term's entry (see the module docstring)."""

    def _write_block(self, last: bool = False) -> None:
        # As W3PostingsWriter._write_block, but for the protocol and the compression.
        postfile = self._postfile
        if not self._blockcount:
            postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        data = pickle.dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), PICKLE)
        level = self._compression if len(ids) >= COMPRESS_FROM else 0
        if level:
            data = zlib.compress(data, level)
        low, high = length_to_byte(self._minlength), length_to_byte(self._maxlength)
        info = pickle.dumps((len(ids), ids[-1], self._maxweight, level, low, high), 2)
        postfile.write_int(-(len(info) + len(data)) if last else len(info) + len(data))
        postfile.write(info)
        postfile.write(data)
        self._blockcount += 1
        self._new_block()

    def _mini_ids(self) -> tuple[int, ...]:
        # As W3PostingsWriter._mini_ids (the gaps between document numbers), in C rather than
        # a generator per posting.
        ids = self._ids
        return tuple(ids) if self._byteids else tuple(map(sub, ids, chain((0,), ids)))

    def _mini_weights(self) -> Any:
        # As W3PostingsWriter._mini_weights: None when every weight is 1, the one weight when
        # all are equal, else all of them; counted in C rather than by two generators.
        weights = self._weights
        if weights.count(1.0) == len(weights):
            return None
        if weights.count(weights[0]) == len(weights):
            return weights[0]
        return tuple(weights)

    def finish_postings(self) -> W3TermInfo:
        if self._blockcount or len(self._ids) != 1:
            return super().finish_postings()
        # One posting: kept in the term's entry (see the module docstring). A format without
        # values reads back as None, as from a block.
        terminfo = self._terminfo
        terminfo.add_block(self)
        terminfo.set_inlined(self._ids, self._weights, self._values or (None,))
        self._terminfo = None
        return terminfo


class _TermInfo(W3TermInfo):
    """Pickles inlined postings with a protocol that has bytes (see the module docstring)."""

    def to_bytes(self) -> bytes:
        if self._inlined is None:
            return super().to_bytes()
        # As W3TermInfo.to_bytes, but for the protocol.
        head = self._struct.pack(
            True,
            self._weight,
            self._df,
            0 if self._minlength is None else length_to_byte(self._minlength),
            length_to_byte(self._maxlength),
            self._maxweight,
            _NO_ID if self._minid is None else self._minid,
            _NO_ID if self._maxid is None else self._maxid,
        )
        return head + pickle.dumps(self._inlined, PICKLE)


class _FieldWriter(W3FieldWriter):
    """Writes each term's postings at once (see the module docstring)."""

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, _TermInfo())

    def add_postings(self, schema: Any, lengths: Any, items: Iterable[tuple]) -> None:
        # `items` are sorted (fieldname, term bytes, docnum, weight, value) postings, as
        # Whoosh's own add_postings takes them; the blocks written are the same.
        for (fieldname, btext), postings in groupby(items, _TERM):
            if fieldname != self._fieldname:
                if self._infield:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                field_lengths = field_lengths_of(lengths, fieldname)
            _, _, ids, weights, values = zip(*postings, strict=True)
            if ids[0] == -1:  # words for a spelling graph, not postings (none in our schema)
                kept = [p for p in zip(ids, weights, values, strict=True) if p[0] != -1]
                if not kept:
                    continue
                ids, weights, values = zip(*kept, strict=True)
            self.add_term(btext, ids, weights, values, field_lengths)
        if self._infield:
            self.finish_field()

    def add_term(
        self,
        btext: bytes,
        ids: Sequence[int],
        weights: Sequence[float],
        values: Sequence[bytes | None],
        field_lengths: list[int] | None,
    ) -> None:
        """Writes one term of the open field: its postings' document numbers (ascending),
        weights and values, and the field's length per document (None: it keeps none)."""
        if len(ids) == 1:
            self._add_single(btext, ids[0], weights[0], values[0], field_lengths)
            return
        limit = self._codec._blocklimit
        self.start_term(btext)
        writer = self._postwriter
        for start in range(0, len(ids), limit):
            if start:
                writer._write_block()
            end = start + limit
            block_ids = ids[start:end]
            writer._ids = array("I", block_ids)
            writer._weights = array("f", weights[start:end])
            writer._maxweight = max(0, *weights[start:end])  # as added: not rounded
            writer._values = list(filter(None, values[start:end]))
            if field_lengths is not None:
                known = list(filter(None, map(field_lengths.__getitem__, block_ids)))
                if known:
                    writer._minlength, writer._maxlength = min(known), max(known)
        self.finish_term()

    def _add_single(
        self,
        btext: bytes,
        docnum: int,
        weight: float,
        value: bytes | None,
        field_lengths: list[int] | None,
    ) -> None:
        """A term with one posting (half the terms of a segment: ids, URLs, rare words): its
        entry, with the posting kept in it, packed directly. The same bytes as start_term,
        one block and finish_term give, without their dozen calls and objects."""
        length = field_lengths[docnum] if field_lengths is not None else 0
        head = W3TermInfo._struct.pack(
            True,
            array("f", (weight,))[0],  # the total weight, summed from the block's float32
            1,
            length_to_byte(length) if length else 0,
            length_to_byte(length),
            max(0, weight),
            docnum,
            docnum,
        )
        inlined = ((docnum,), (array("f", (weight,))[0],), (value or None,))
        self._tindex.add(pack_ushort(self._fieldid) + btext, head + pickle.dumps(inlined, PICKLE))


def field_lengths_of(lengths: Any, fieldname: str) -> list[int] | None:
    """The field's length per document from the per-document reader Whoosh passes (None: the
    field keeps no lengths)."""
    if lengths is None:
        return None
    if isinstance(lengths, _LengthsInMemory):
        return lengths.field_lengths(fieldname)
    return [lengths.doc_field_length(d, fieldname) for d in range(lengths.doc_count_all())]
