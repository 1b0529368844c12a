"""Raw responses archived as WARC files (warcio), so articles can be re-extracted without
re-fetching and the crawl's raw material can be handed to any WARC tool.

Layout: ``DATA_DIR/warc/<start time>-<pid>.warc.gz``, one file per crawl process, one gzip
member per record. Each process writes its own file, so a crawl killed half way through a record
leaves a damaged tail only in its own file, and the next process never appends after it.

Bodies are stored as the crawler used them: already decoded from any Content-Encoding, so the
record's HTTP headers drop Content-Encoding and Transfer-Encoding and give the true length.
Every record is flushed to the operating system before the crawl store commits the page that
points at it, so a committed page always finds its record, even after SIGKILL. A record written
for a page whose transaction never committed is an orphan: harmless, never pointed at.

Damage is expected and not fatal: a record that cannot be read (torn tail, flipped bits, a file
deleted by hand) is skipped with a logged warning, and its page is simply fetched again when
needed.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

__all__ = [
    "WARC_DIR",
    "ArchivedResponse",
    "WarcArchive",
    "WarcLocation",
    "iter_responses",
    "read_response",
]

WARC_DIR = "warc"
log = logging.getLogger(__name__)

# Headers that describe the bytes on the wire, not the body we keep.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
# What a damaged record can raise while being read: bad WARC headers, broken gzip, short reads.
_DAMAGE = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError, IndexError, KeyError)


@dataclass(frozen=True)
class WarcLocation:
    """Where one record lives: a file name inside the WARC folder and the record's offset."""

    file: str
    offset: int
    length: int


@dataclass
class ArchivedResponse:
    """One archived HTTP response, as the crawler fetched it."""

    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    fetched_at: str = ""  # WARC-Date, ISO 8601 UTC
    location: WarcLocation | None = None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class WarcArchive:
    """Appends response records to this process's WARC file; safe to share between threads.

    The file is created on the first record, so a crawl that fetches nothing leaves no empty
    file behind.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        base = f"{stamp}-{os.getpid()}"
        name, n = f"{base}.warc.gz", 1
        while (self.directory / name).exists():
            n += 1
            name = f"{base}-{n}.warc.gz"
        self._name = name
        self._file = open(self.directory / name, "xb")  # noqa: SIM115 - closed in close()
        self._writer = WARCWriter(self._file, gzip=True)

    def write_response(
        self,
        url: str,
        *,
        status: int,
        headers: dict[str, str],
        body: bytes,
        fetched_at: str,
    ) -> WarcLocation:
        """Archives one response and returns where it went, once it is flushed to the OS."""
        kept = [(k, v) for k, v in headers.items() if k.lower() not in _WIRE_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(
            f"{status} {_reason(status)}", kept, protocol="HTTP/1.1", is_http_request=False
        )
        with self._lock:
            if self._writer is None:
                self._open()
            assert self._writer is not None and self._file is not None
            record = self._writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": fetched_at} if fetched_at else None,
            )
            offset = self._file.tell()
            self._writer.write_record(record)
            self._file.flush()
            return WarcLocation(self._name, offset, self._file.tell() - offset)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = self._writer = None


def _response_of(record: object, location: WarcLocation | None) -> ArchivedResponse:
    rec_headers = record.rec_headers  # type: ignore[attr-defined]
    http = record.http_headers  # type: ignore[attr-defined]
    status = int(http.get_statuscode()) if http is not None else 0
    headers = {k.lower(): v for k, v in http.headers} if http is not None else {}
    body = record.content_stream().read()  # type: ignore[attr-defined]
    # A torn gzip member reads as a short record without any error from warcio; the
    # Content-Length we always write gives it away.
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != len(body):
        raise ValueError(f"truncated record: {len(body)} of {declared} body bytes")
    if http is None or not status:
        raise ValueError("record without an HTTP status line")
    return ArchivedResponse(
        url=rec_headers.get_header("WARC-Target-URI") or "",
        status=status,
        headers=headers,
        body=body,
        fetched_at=rec_headers.get_header("WARC-Date") or "",
        location=location,
    )


def read_response(directory: str | Path, location: WarcLocation) -> ArchivedResponse | None:
    """The record at ``location``, or None (with a warning) when it is missing or damaged."""
    path = Path(directory) / location.file
    try:
        with path.open("rb") as f:
            f.seek(location.offset)
            data = f.read(location.length) if location.length else f.read()
        if location.length:
            # The member must be whole: gzip's own end marker and CRC, checked before warcio.
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            inflater.decompress(data)
            if not inflater.eof:
                raise ValueError(f"torn gzip member ({len(data)} of {location.length} bytes)")
        for record in ArchiveIterator(io.BytesIO(data), check_digests="raise"):
            if record.rec_type != "response":
                break
            return _response_of(record, location)
    except _DAMAGE as exc:
        log.warning("skipping damaged WARC record %s@%d: %s", path, location.offset, exc)
        return None
    log.warning("no WARC response record at %s@%d", path, location.offset)
    return None


def iter_responses(directory: str | Path) -> Iterator[ArchivedResponse]:
    """Every readable response record in the folder's WARC files, oldest file first.

    A damaged record ends the reading of its file with a warning (gzip members cannot be
    resynchronised reliably, and damage is nearly always a torn tail); the other files are
    still read.
    """
    folder = Path(directory)
    for path in sorted(folder.glob("*.warc.gz")) + sorted(folder.glob("*.warc")):
        end = 0
        try:
            with path.open("rb") as f:
                iterator = ArchiveIterator(f, check_digests="raise")
                for record in iterator:
                    is_response = record.rec_type == "response"
                    response = _response_of(record, None) if is_response else None
                    # Only after the body is read: asking earlier makes warcio skip the record.
                    offset = iterator.get_record_offset()
                    length = iterator.get_record_length()
                    end = offset + length
                    if response is not None:
                        response.location = WarcLocation(path.name, offset, length)
                        yield response
        except _DAMAGE as exc:
            log.warning("skipping the rest of %s after a damaged record: %s", path, exc)
            continue
        size = path.stat().st_size
        if end < size:
            # warcio ends quietly on a torn last member; the bytes it left unread say so.
            log.warning("skipping a damaged record at the end of %s (%d bytes)", path, size - end)
