"""Near-duplicate detection: syndicated copies of one story (the same press release on five
sites) get one group, so a result list can show the story once and facet counts are not
inflated by copies.

MinHash over word 4-gram shingles estimates the Jaccard similarity of two texts; locality
sensitive hashing (16 bands of 4 values) turns each signature into 16 band tokens, which are
indexed in Whoosh like any keyword. Finding the candidates for a new article is then a search
for any of its band tokens, so the duplicate index persists, updates and deletes with the
search index itself; candidates are confirmed by comparing full signatures.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from whoosh import query
from whoosh.searching import Searcher

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE_WORDS = 4
# Fewer shingles than this and a text is too short to call a copy of anything.
MIN_SHINGLES = 12
# Estimated Jaccard similarity from which two texts are copies of one story. Copies that differ
# by a headline, a dateline or a closing line score well above it; two reports of the same event
# written separately score far below.
THRESHOLD = 0.7

_PRIME = np.uint64(4294967311)  # the smallest prime above 2**32
_rng = np.random.default_rng(20211020)  # fixed: signatures must agree across runs and machines
_A = _rng.integers(1, 2**32 - 1, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 2**32 - 1, PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fingerprint:
    """A text's MinHash signature and the band tokens that find its candidates."""

    signature: bytes
    bands: tuple[str, ...]

    def similarity(self, other: bytes) -> float:
        """Estimated Jaccard similarity with another signature (the share of equal values)."""
        mine = np.frombuffer(self.signature, dtype=np.uint32)
        theirs = np.frombuffer(other, dtype=np.uint32)
        if mine.shape != theirs.shape:
            return 0.0
        return float(np.count_nonzero(mine == theirs)) / PERMUTATIONS


def fingerprint(text: str) -> Fingerprint | None:
    """The fingerprint of an article's text, or None when it is too short to compare."""
    words = _WORD.findall(text.lower())
    count = len(words) - SHINGLE_WORDS + 1
    if count < MIN_SHINGLES:
        return None
    hashes = np.fromiter(
        (zlib.crc32(" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8")) for i in range(count)),
        dtype=np.uint64,
        count=count,
    )
    # (a*h + b) mod p for every permutation and shingle; both factors are below 2**32, so the
    # product fits in 64 bits without overflow.
    permuted = (np.outer(_A, hashes) + _B[:, None]) % _PRIME
    signature = permuted.min(axis=1).astype(np.uint32)
    bands = tuple(
        f"{band}x{zlib.crc32(signature[band * ROWS : (band + 1) * ROWS].tobytes()):08x}"
        for band in range(BANDS)
    )
    return Fingerprint(signature.tobytes(), bands)


class DuplicateFinder:
    """Assigns each article written in one index run to its duplicate group.

    The group key is the id of the first article of the group (an article with no copy is its
    own group). Candidates come from the committed index (a search for the band tokens) and
    from the articles written earlier in the same run, which the index cannot see yet.
    """

    def __init__(self, searcher: Searcher | None) -> None:
        empty = searcher is None or searcher.doc_count() == 0 or "lsh" not in searcher.schema
        self._searcher = None if empty else searcher
        self._batch: dict[str, list[tuple[str, bytes, str]]] = {}

    def group(self, doc_id: str, print_: Fingerprint | None) -> str:
        if print_ is None:
            return doc_id
        best_score, best_key = 0.0, doc_id
        for other_id, signature, key in self._candidates(print_):
            if other_id == doc_id:
                continue
            score = print_.similarity(signature)
            if score >= THRESHOLD and score > best_score:
                best_score, best_key = score, key
        for band in print_.bands:
            self._batch.setdefault(band, []).append((doc_id, print_.signature, best_key))
        return best_key

    def _candidates(self, print_: Fingerprint) -> Iterator[tuple[str, bytes, str]]:
        seen: set[str] = set()
        for band in print_.bands:
            for candidate in self._batch.get(band, ()):
                if candidate[0] not in seen:
                    seen.add(candidate[0])
                    yield candidate
        if self._searcher is None:
            return
        bands = query.Or([query.Term("lsh", band) for band in print_.bands])
        for docnum in self._searcher.docs_for_query(bands):
            stored = self._searcher.stored_fields(docnum)
            if stored.get("id") not in seen and stored.get("minhash"):
                yield stored["id"], stored["minhash"], stored.get("dup") or stored["id"]
