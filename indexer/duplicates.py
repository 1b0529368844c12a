"""Near-duplicate detection: syndicated copies of one story (the same press release on five
sites) get one group, so a result list can show the story once and facet counts are not
inflated by copies.

MinHash over word 4-gram shingles estimates the Jaccard similarity of two texts; locality
sensitive hashing (16 bands of 4 values) turns each signature into 16 band keys. Articles
sharing a band key with a new one are its candidates (found in `PrintStore`, beside the Whoosh
index, or in the PostgreSQL table), confirmed by comparing full signatures. The group key is
the only part the search index keeps: results collapse on it.

The group key only names a group (the id of its first indexed copy, stable across runs); which
copy stands for the story is `original`, the one rule of both backends.
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

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
_LOW, _FIFTEEN, _32 = np.uint64(2**32 - 1), np.uint64(15), np.uint64(32)
_rng = np.random.default_rng(20211020)  # fixed: signatures must agree across runs and machines
_A = _rng.integers(1, 2**32 - 1, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 2**32 - 1, PERMUTATIONS, dtype=np.uint64)
_A_COLUMN, _B_COLUMN = _A[:, None], _B[:, None]
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fingerprint:
    """A text's MinHash signature and the band keys that find its candidates."""

    signature: bytes
    keys: tuple[int, ...]  # band number * 2**32 + the CRC-32 of the band's values

    @cached_property
    def bands(self) -> tuple[str, ...]:
        """The band keys as words ("3x1a2b3c4d"), as the PostgreSQL backend indexes them
        (made once: a PostgreSQL write asks for them several times per article)."""
        return tuple(f"{key >> 32}x{key & 0xFFFFFFFF:08x}" for key in self.keys)

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
    # The CRC-32 of each shingle's UTF-8 ("w1 w2 w3 w4"), each step a C loop: words hold no
    # spaces, so the encoded words are the pieces of the encoded text.
    encoded = " ".join(words).encode("utf-8").split(b" ")
    shingles = map(b" ".join, zip(*(encoded[k:] for k in range(SHINGLE_WORDS)), strict=False))
    hashes = np.fromiter(map(zlib.crc32, shingles), dtype=np.uint64, count=count)
    # (a*h + b) mod p for every permutation and shingle; both factors are below 2**32, so the
    # product fits in 64 bits without overflow.
    permuted = _A_COLUMN * hashes
    permuted += _B_COLUMN
    signature = _min_mod_prime(permuted).astype(np.uint32)
    return Fingerprint(signature.tobytes(), _keys(signature))


def _min_mod_prime(x: np.ndarray) -> np.ndarray:
    """The least of each row of x mod _PRIME, for 64-bit x (overwritten), without the 64-bit
    division that `%` costs (a third of a fingerprint's time) and in place (a third of the
    rest): _PRIME is 2**32 + 15, so x = hi * 2**32 + lo is lo - 15 * hi modulo it, folded
    twice into [0, 2 * _PRIME). There, x mod _PRIME is the smaller of x and x - _PRIME, which
    wraps around to above 2**63 when x is below _PRIME, so each row's least is the smaller of
    the least x and the least x - _PRIME."""
    high = x >> _32
    x &= _LOW
    np.subtract(_PRIME, high, out=high)
    high *= _FIFTEEN
    x += high  # lo + 15 * (_PRIME - hi): below 2**37
    np.right_shift(x, _32, out=high)
    x &= _LOW
    x += _PRIME
    high *= _FIFTEEN
    x -= high  # below 2 * _PRIME
    least = x.min(axis=1)
    x -= _PRIME
    return np.minimum(least, x.min(axis=1))


def _keys(signature: np.ndarray) -> tuple[int, ...]:
    """The LSH band keys of a signature: each band's number and a hash of its values."""
    return tuple(
        band << 32 | zlib.crc32(signature[band * ROWS : (band + 1) * ROWS].tobytes())
        for band in range(BANDS)
    )


def group_key(
    doc_id: str, print_: Fingerprint, candidates: Iterable[tuple[str, bytes, str]]
) -> str:
    """The group of the most similar candidate (id, signature, group key) at or above the
    threshold, or the article's own id: the rule of both backends."""
    best_score, best_key = 0.0, doc_id
    for other_id, signature, key in candidates:
        if other_id == doc_id:
            continue
        score = print_.similarity(signature)
        if score >= THRESHOLD and score > best_score:
            best_score, best_key = score, key
    return best_key


@dataclass(frozen=True)
class Copy:
    """What choosing a story's original reads of one copy."""

    id: str
    key: str  # its group key
    url: str  # the URL the index shows for it
    named: str  # the URL it names as its original (a canonical link to another page), or ""
    day: int  # its publication day as YYYYMMDD, 0 when undated


def original(copies: Sequence[Copy]) -> Copy:
    """The copy that stands for a story: its original, with the others listed under it.

    A copy whose canonical link names another copy of the group defers to it (the publisher
    says which is the source); then the earliest published (a dated copy before an undated
    one); on equal days or with no dates, the first indexed (whose id is the group key), then
    the smallest id, so that every run and both backends choose the same.
    """
    urls = {c.url for c in copies}

    def defers(c: Copy) -> bool:
        return (
            bool(c.named)
            and c.named in urls
            and any(o.url == c.named for o in copies if o.id != c.id)
        )

    return min(copies, key=lambda c: (defers(c), not c.day, c.day, c.id != c.key, c.id))


def listed(copies: Iterable[Copy]) -> list[Copy]:
    """The copies shown under a story's original: earliest published first, undated last."""
    return sorted(copies, key=lambda c: (not c.day, c.day, c.id))


class PrintStore:
    """The fingerprints of an index's articles, with their band keys, in SQLite beside it.

    Whoosh could hold the band keys as terms, but nearly every key is unique, and a term costs
    Whoosh far more than a row costs SQLite: kept in the index they took 40% of the time of
    writing postings and a third of its size (bench/speed.py). The writer that changes the
    index changes this file in the same run and commits it right after the index. A run that
    dies between the two commits leaves prints of articles it deleted (harmless: a group key is
    only a name) or misses the prints of articles it added, whose later copies then go
    unnoticed; the crawl store's position is saved after both, so the next `innosearch index`
    takes the same changes again and puts the prints right.
    """

    FILE = "duplicates.sqlite"
    # Prints of this run held in memory before they are written (see `put`): about 1 KB each.
    PENDING = 50_000

    def __init__(self, index_dir: str | Path) -> None:
        self._db = sqlite3.connect(Path(index_dir) / self.FILE, isolation_level="DEFERRED")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS prints (
                doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, signature BLOB NOT NULL,
                dup TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS bands (
                key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)
            ) WITHOUT ROWID;
            """
        )
        self._stored = self._db.execute("SELECT EXISTS (SELECT 1 FROM prints)").fetchone()[0]
        self._pending: dict[str, tuple[int, Fingerprint, str]] = {}  # id -> (order, print, group)
        self._put = 0  # puts so far, the order of `_pending`
        self._pending_bands: dict[int, list[str]] = {}  # band key -> ids in `_pending`

    def candidates(self, print_: Fingerprint) -> list[tuple[str, bytes, str]]:
        """(id, signature, group key) of every article sharing a band key with `print_`, in
        the order they were put."""
        found: list[tuple[str, bytes, str]] = []
        if self._stored:
            marks = ",".join("?" * len(print_.keys))
            found = self._db.execute(
                f"SELECT id, signature, dup FROM prints WHERE doc IN "
                f"(SELECT doc FROM bands WHERE key IN ({marks})) ORDER BY doc",
                print_.keys,
            ).fetchall()
        ids = {i for key in print_.keys for i in self._pending_bands.get(key, ())}
        held = sorted((self._pending[i], i) for i in ids)
        return found + [(i, other.signature, dup) for (_, other, dup), i in held]

    def put(self, doc_id: str, print_: Fingerprint, key: str) -> None:
        """Keeps the print of an article; written to the file in batches (a bulk build of
        25,000 articles spent a third of its grouping time in two queries and 17 inserts an
        article), and read back by `candidates` in the meantime."""
        self.remove(doc_id)
        self._put += 1
        self._pending[doc_id] = (self._put, print_, key)
        for band in print_.keys:
            self._pending_bands.setdefault(band, []).append(doc_id)
        if len(self._pending) >= self.PENDING:
            self.write()

    def remove(self, doc_id: str) -> None:
        held = self._pending.pop(doc_id, None)
        if held is not None:
            for band in held[1].keys:
                self._pending_bands[band].remove(doc_id)
            return
        if not self._stored:
            return
        row = self._db.execute(
            "SELECT doc, signature FROM prints WHERE id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            return
        doc, signature = row
        keys = _keys(np.frombuffer(signature, dtype=np.uint32))
        self._db.executemany(
            "DELETE FROM bands WHERE key = ? AND doc = ?", [(k, doc) for k in keys]
        )
        self._db.execute("DELETE FROM prints WHERE doc = ?", (doc,))

    def write(self) -> None:
        """Writes the held prints in the open transaction (commit makes them durable)."""
        if not self._pending:
            return
        first = self._db.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM prints").fetchone()[0]
        rows = list(enumerate(self._pending.items(), first))
        self._db.executemany(
            "INSERT INTO prints (doc, id, signature, dup) VALUES (?, ?, ?, ?)",
            [(doc, i, print_.signature, key) for doc, (i, (_, print_, key)) in rows],
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO bands (key, doc) VALUES (?, ?)",
            [(band, doc) for doc, (_, (_, print_, _)) in rows for band in print_.keys],
        )
        self._pending.clear()
        self._pending_bands.clear()
        self._stored = True

    def commit(self) -> None:
        self.write()
        self._db.commit()

    def close(self) -> None:
        """Closes the file; what was not committed is rolled back."""
        self._pending.clear()
        self._pending_bands.clear()
        self._db.close()


class DuplicateFinder:
    """Assigns each article written in one index run to its duplicate group.

    The group key is the id of the first article of the group (an article with no copy is its
    own group). Candidates are the articles in `prints` that share a band key with the new one:
    those committed earlier and those written earlier in the same run, which `prints` holds too.
    """

    def __init__(self, prints: PrintStore) -> None:
        self._prints = prints

    def group(self, doc_id: str, print_: Fingerprint | None) -> str:
        if print_ is None:
            self._prints.remove(doc_id)
            return doc_id
        key = group_key(doc_id, print_, self._prints.candidates(print_))
        self._prints.put(doc_id, print_, key)
        return key

    def remove(self, doc_id: str) -> None:
        self._prints.remove(doc_id)
