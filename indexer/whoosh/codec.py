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

Segments name the stock `W3Codec`, so indexes written with this codec need nothing of it to be
read, merged or updated.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3PerDocReader,
    W3PostingsWriter,
    W3Segment,
    _lenfield,
)
from whoosh.util.numeric import byte_to_length

# Blocks with fewer postings than this are not compressed.
COMPRESS_FROM = 8


class FastW3Codec(W3Codec):
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
        try:
            lengths = self._lengths[fieldname]
        except KeyError:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            lengths = None if reader is None else [byte_to_length(b) if b else 0 for b in reader]
            self._lengths[fieldname] = lengths
        return default if lengths is None else lengths[docnum]


class _PostingsWriter(W3PostingsWriter):
    """Leaves small blocks uncompressed (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._level = self._compression

    def _write_block(self, last: bool = False) -> None:
        self._compression = self._level if len(self._ids) >= COMPRESS_FROM else 0
        super()._write_block(last)
