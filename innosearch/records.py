"""JSON lines in: each line read as an article record, checked and made valid, or skipped.

`innosearch index --from-jsonl` and `innosearch enrich` take records written by other tools,
so anything may come: invalid UTF-8, a line that is not JSON, a title that is a number, a lone
surrogate escape (``"\\ud800"``, valid JSON but text no UTF-8 encoder can write), a date in the
year 1 or 9999. Each is dealt with here, once, where the data enters, so that no later step
(the index, the page, an export) meets it:

- a line that is not a JSON object, or whose fields have the wrong types, is skipped and
  reported with its number and the reason (`Skipped`); the command goes on with the next;
- lone surrogates and other unencodable characters are replaced with U+FFFD;
- a publication date outside `EARLIEST_YEAR` to next year is dropped (the article is kept,
  undated) with a warning: a date from the year 1 is a placeholder, not a publication date.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from crawler.article import Article
from crawler.extract.encoding import without_surrogates

log = logging.getLogger(__name__)

EARLIEST_YEAR = 1800
# Fields of a record and the JSON types each may hold (None is always allowed).
_TEXT_FIELDS = (
    "url",
    "title",
    "text",
    "language",
    "canonical_url",
    "description",
    "site_name",
    "extraction_method",
)
_MAX_REASONS = 20  # reasons kept for the closing message; every skip is logged as it happens


class InputError(ValueError):
    """The input file itself cannot be read (missing)."""


@dataclass
class Skipped:
    """The lines skipped so far: how many, and the first reasons, for the closing message."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, source: str, number: int, reason: str) -> None:
        self.count += 1
        message = f"line {number}: {reason}"
        if len(self.reasons) < _MAX_REASONS:
            self.reasons.append(message)
        log.warning("%s %s (skipped)", source, message)

    def summary(self) -> str:
        more = self.count - len(self.reasons)
        listed = "; ".join(self.reasons) + (f"; and {more} more" if more > 0 else "")
        return f"{self.count} line{'s' if self.count != 1 else ''} skipped: {listed}"


def read_records(path: str, skipped: Skipped) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields (line number, JSON object) for each readable line of ``path`` ("-": standard
    input, ``.gz``: gzipped); unreadable lines go to ``skipped``."""
    with _open(path) as stream:
        for number, raw in _lines(stream, path, skipped):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                skipped.add(path, number, f"invalid UTF-8 at byte {e.start}")
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                skipped.add(path, number, f"not JSON ({e})")
                continue
            if not isinstance(record, dict):
                skipped.add(path, number, "not a JSON object")
                continue
            yield number, record


def read_valid(path: str, skipped: Skipped) -> Iterator[tuple[int, dict[str, Any], Article]]:
    """(line number, record, Article) for each valid record; invalid ones go to ``skipped``."""
    for number, record in read_records(path, skipped):
        try:
            article = to_article(record)
        except ValueError as e:
            skipped.add(path, number, str(e))
            continue
        yield number, record, article


def read_articles(path: str, skipped: Skipped) -> Iterator[Article]:
    """The valid articles of a JSON lines file; invalid records go to ``skipped``."""
    for number, record, article in read_valid(path, skipped):
        if not article.url and record.get("id") is None:
            log.warning("line %d has neither id nor url: indexed under a generated id", number)
        yield article


def to_article(record: dict[str, Any]) -> Article:
    """An Article from one record, made valid; ValueError names the first bad field."""
    values: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"{name!r} must be a string, not {type(value).__name__}")
        values[name] = without_surrogates(value)
    identifier = record.get("id")
    if identifier is not None:
        if isinstance(identifier, bool) or not isinstance(identifier, str | int):
            raise ValueError(f"'id' must be a string or a number, not {type(identifier).__name__}")
        values["id"] = without_surrogates(str(identifier))
    authors = record.get("authors")
    if authors is not None:
        if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
            raise ValueError("'authors' must be a list of strings")
        values["authors"] = [without_surrogates(a) for a in authors]
    values["published"] = publication_date(record.get("published"))
    values.setdefault("url", "")
    return Article(**values)


def publication_date(value: Any) -> str | None:
    """The ISO day of a record's ``published`` ("2021-05-01", "2021-05-01T10:00:00Z"), or None
    when it is missing or outside the plausible range (a warning says so)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"'published' must be a date string, not {type(value).__name__}")
    try:
        day = dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        log.warning("published %r is not a date: the article is indexed undated", value[:40])
        return None
    latest = dt.date.today().year + 1
    if not EARLIEST_YEAR <= day.year <= latest:
        log.warning(
            "published %s is outside %d-%d: the article is indexed undated",
            day.isoformat(),
            EARLIEST_YEAR,
            latest,
        )
        return None
    return day.isoformat()


def _lines(stream: IO[bytes], path: str, skipped: Skipped) -> Iterator[tuple[int, bytes]]:
    """Numbered lines; a file that breaks off (a truncated .gz) ends with a skip, not a crash,
    so the lines read before it still count."""
    number = 0
    try:
        for number, raw in enumerate(stream, 1):
            yield number, raw
    except (OSError, EOFError) as e:
        skipped.add(path, number + 1, f"the rest of the file cannot be read ({e})")


def _open(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such file: {path}")
    if p.suffix == ".gz":
        return gzip.open(p, "rb")
    return p.open("rb")
